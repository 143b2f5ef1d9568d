"""autorec_fast on a Dask cluster (``pip install 'autorec_fast[distributed]'``).

The two data-parallel jobs that outgrow one machine first, on ``dask.distributed``
(the same code on a laptop's ``LocalCluster`` and on a multi-node cluster):

* :func:`fit_ease`: EASE's Gram XᵀX built partition by partition on the workers
  with the native kernel, summed in a tree, factorised once; the ordinary
  :class:`autorec_fast.EASE` comes back.
* :func:`recommend`: top-K for every user of a Dask DataFrame of histories, with
  any fitted model sent to each worker once; a lazy Dask DataFrame
  (user, item, score, rank) in original ids comes back.
* :func:`evaluate`: ``autorec_fast.evaluate`` over Dask DataFrames (held-out
  users' fold-in/fold-out rows, or test ratings), per-user sums reduced on the
  cluster: the single-machine numbers, up to float summation order.

Input everywhere: a Dask DataFrame of (user, item[, rating, timestamp]) rows in
original ids (integers or strings), e.g. ``dask.dataframe.read_parquet(...)``.
Rows are shuffled so that each user's rows sit in one partition, unless
``grouped=True`` says they already do (then it is checked).

Threads: a task that shares its worker (one partition's scoring) runs the
kernels on one OpenMP/BLAS thread, so a worker uses as many cores as it has
threads; the partial Gram placed on each worker uses all of that worker's threads.

The core library never imports this module.
"""

from __future__ import annotations

try:
    import dask  # noqa: F401
    import dask.dataframe  # noqa: F401
    import distributed  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("autorec_fast.distributed needs Dask: pip install 'autorec_fast[distributed]' "
                      f"(dask[distributed,dataframe] and pyarrow); {exc}") from exc

from .ease import fit_ease
from .scoring import evaluate, recommend

__all__ = ["fit_ease", "recommend", "evaluate"]
