"""Per-consumer arrays in transparent huge pages.

The engine reads and writes its per-consumer arrays at scattered consumers (those a channel
reached, those deciding): each access to a 4 KiB page not in the TLB costs a page walk, and
with a dozen arrays of a few MiB each (a batch of 256 x 2,000 consumers) most accesses
miss. NumPy asks Linux for transparent huge pages (2 MiB) only for allocations of 4 MiB or
more, which most of these arrays are not; carved from one buffer of at least 4 MiB they
get them. Where the system gives no huge pages nothing changes.
"""

from __future__ import annotations

import numpy as np

HUGE_PAGE_REQUEST = 1 << 22  # NumPy's threshold for madvise(MADV_HUGEPAGE)
POOL_FROM = 1 << 20  # smaller sets of arrays stay in cache anyway: allocated one by one
_ALIGN = 64  # a cache line


def pooled_zeros(specs: dict[str, tuple]) -> dict[str, np.ndarray]:
    """Zeroed C-contiguous arrays, ``name: (shape, dtype)``, each on a cache-line boundary
    of one buffer of at least 4 MiB (when together they take 1 MiB or more)."""
    nbytes = {name: int(np.prod(shape)) * np.dtype(dtype).itemsize
              for name, (shape, dtype) in specs.items()}
    padded = {name: -(-b // _ALIGN) * _ALIGN for name, b in nbytes.items()}
    total = sum(padded.values())
    if total < POOL_FROM:
        return {name: np.zeros(shape, dtype) for name, (shape, dtype) in specs.items()}
    raw = np.zeros(max(total + _ALIGN, HUGE_PAGE_REQUEST), dtype=np.uint8)
    at = -raw.ctypes.data % _ALIGN
    out = {}
    for name, (shape, dtype) in specs.items():
        out[name] = raw[at:at + nbytes[name]].view(dtype).reshape(shape)
        at += padded[name]
    return out


def pooled_copies(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``pooled_zeros`` holding copies of ``arrays``."""
    out = pooled_zeros({name: (a.shape, a.dtype) for name, a in arrays.items()})
    for name, a in arrays.items():
        out[name][...] = a
    return out
