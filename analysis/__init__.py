"""Analysis of runs and data: the ``campaign-lab`` CLI, calibration (PyMC), experiments
(comparison, budget plans, optimization, on a run store), sensitivity and scenario
discovery, attribution scored against the simulated ground truth, and reports."""
