"""Thread counts of the CPU backend: the OpenMP kernels (the ``_cpu`` extension)
and the BLAS pools (SciPy's OpenBLAS, which the kernels call, and any other BLAS
loaded in the process, through threadpoolctl), set together.

The two pools never run at the same time (BLAS is only called outside OpenMP
regions), so giving both the same count does not oversubscribe the cores.
"""

from __future__ import annotations

import operator
from contextlib import contextmanager

from threadpoolctl import threadpool_info, threadpool_limits

from .. import _cpu


def _check_threads(n) -> int:
    if isinstance(n, bool):
        raise TypeError("n must be an int, got bool")
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"n must be an int, got {type(n).__name__}") from None
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    return n


def get_num_threads() -> int:
    """Threads the OpenMP kernels use (see :func:`blas_num_threads` for BLAS)."""
    return _cpu.get_num_threads()


def blas_num_threads() -> dict[str, int]:
    """Threads of each BLAS library loaded in the process, by file path (threadpoolctl's view)."""
    return {info["filepath"]: info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}


def set_num_threads(n: int) -> None:
    """Use ``n`` threads in the OpenMP kernels and in every loaded BLAS library.

    OpenMP's count applies to the calling thread (OpenMP's rule: set it in the
    thread that trains); the BLAS limit is process-wide and also applies to
    NumPy's own OpenBLAS. Use :func:`threads` to set both for a block and
    restore the previous counts afterwards.
    """
    n = _check_threads(n)
    _cpu.set_num_threads(n)
    threadpool_limits(n, user_api="blas")


@contextmanager
def threads(n: int):
    """``with af.threads(n): ...`` runs the block with ``n`` OpenMP and BLAS
    threads, then restores the previous counts (also on an exception)."""
    n = _check_threads(n)
    before = _cpu.get_num_threads()
    with threadpool_limits(n, user_api="blas"):
        _cpu.set_num_threads(n)
        try:
            yield
        finally:
            _cpu.set_num_threads(before)
