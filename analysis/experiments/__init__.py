"""Experiments: scenarios x replications (x posterior draws) on common random numbers, a run
store that survives interruption, comparison, budget plans and optimization, on Dask."""
