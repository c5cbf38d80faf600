"""How many processes the lab starts: the cores this process may use, not the machine's."""

import os

import pytest

from analysis.parallel import available_cores


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity here")
def test_available_cores_follows_the_cpu_affinity():
    """A process limited to one core (taskset, a container, a pinned test worker) starts
    one NUTS chain process at a time, even on a machine with more cores."""
    before = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {min(before)})
        assert available_cores() == 1
    finally:
        os.sched_setaffinity(0, before)
    assert available_cores() == len(before)
