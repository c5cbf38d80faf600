"""Running batches of worlds on every core: one process pool, results in submission order.

Calibration designs and optimizer rounds hand each process a batch of worlds
(``simulation.run_batch``); ``ordered_map`` yields each batch's result as soon as it and every
batch before it are done, so callers can store finished work at once (an interrupted job
loses nothing already computed) and stay deterministic whatever the number of cores.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

# fork starts a worker in milliseconds and needs no ``if __name__ == "__main__"`` guard in
# the user's script; macOS and Windows lack a safe fork. Passed explicitly everywhere (process
# pools, PyMC's chains) because importing Mesa sets the global default to "spawn", which costs
# about 20 s per NUTS fit and, in a script without that guard, hangs it.
START_METHOD = "fork" if sys.platform.startswith("linux") else "spawn"


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform has one, so a
    container's or ``taskset``'s limit is respected), not every core of the machine."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def end_with_parent() -> None:
    """Make this worker process exit as soon as the process that started it is gone.

    A pool's initializer. A worker blocked on its task queue never sees the parent die (it
    holds the queue's write end itself), so without this a parent ended by SIGTERM or
    SIGKILL leaves its workers running, re-parented to init. The parent's sentinel (a pipe
    whose other end only the parent holds) becomes ready when the parent exits, however.
    """
    parent = multiprocessing.parent_process()
    if parent is None:  # not a child of ``multiprocessing``
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)  # no clean-up left to do: the results have nobody to go to

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


def ordered_map(fn: Callable[..., Any], arguments: Sequence[tuple], *, cores: int
                ) -> Iterator[Any]:
    """``fn(*args)`` for each tuple in ``arguments``, on up to ``cores`` processes."""
    if cores <= 1 or len(arguments) <= 1:
        for args in arguments:
            yield fn(*args)
        return
    context = multiprocessing.get_context(START_METHOD)
    with ProcessPoolExecutor(max_workers=min(cores, len(arguments)),
                             mp_context=context, initializer=end_with_parent) as pool:
        futures = [pool.submit(fn, *args) for args in arguments]
        for future in futures:
            yield future.result()
