"""Arrays carved from one buffer (``simulation.memory``) behave as their own arrays."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.memory import HUGE_PAGE_REQUEST, POOL_FROM, pooled_zeros


@pytest.mark.parametrize("n", [10, 300_000])
def test_pooled_arrays_are_zeroed_aligned_and_do_not_overlap(n):
    specs = {"a": (n, np.float32), "b": ((n, 3), np.int16), "c": (n, bool),
             "d": ((n, 2), np.int32)}
    arrays = pooled_zeros(specs)
    for name, (shape, dtype) in specs.items():
        a = arrays[name]
        assert a.shape == np.empty(shape).shape and a.dtype == dtype
        assert a.flags.c_contiguous and a.flags.writeable and not a.any()
    for value, name in enumerate(specs, start=1):  # each filled: the others keep theirs
        arrays[name][...] = value
    for value, name in enumerate(specs, start=1):
        assert (arrays[name] == np.array(value).astype(arrays[name].dtype)).all()
    pooled = arrays["a"].base is not None
    big = sum(a.nbytes for a in arrays.values()) >= POOL_FROM
    assert pooled == big
    if pooled:  # one buffer, large enough for NumPy to ask for huge pages
        bases = {id(a.base) for a in arrays.values()}
        assert len(bases) == 1 and arrays["a"].base.nbytes >= HUGE_PAGE_REQUEST
        assert all(a.ctypes.data % 64 == 0 for a in arrays.values())
