"""Analysis of runs and data: the CLI, and (to come) calibration, experiments, attribution."""
