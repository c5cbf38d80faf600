"""Attribution models scored against the simulation's ground truth (see ``report``)."""
