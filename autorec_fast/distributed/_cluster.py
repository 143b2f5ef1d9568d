"""The Dask side of ``autorec_fast.distributed``: finding the client, the workers'
threads and memory, sending a model to every worker once, and tree reductions."""

from __future__ import annotations

import weakref
from contextlib import contextmanager

import numpy as np

from .._memory import gib


def get_client(client=None):
    """The ``dask.distributed.Client`` to run on: ``client``, or the current default one."""
    from dask.distributed import Client, default_client

    if client is not None:
        if not isinstance(client, Client):
            raise TypeError(f"client must be a dask.distributed.Client, got {type(client).__name__}")
        return client
    try:
        return default_client()
    except ValueError:
        raise ValueError("autorec_fast.distributed runs on a dask.distributed cluster: create a Client first "
                         "(e.g. `from dask.distributed import Client; client = Client()` for a local "
                         "cluster) or pass client=") from None


def workers(client) -> dict:
    """``{address: {"nthreads": int, "memory_limit": int bytes or 0 (none)}}`` of the live workers."""
    info = client.scheduler_info()["workers"]  # every worker (n_workers=-1 is the default)
    if not info:
        raise ValueError("the Dask cluster has no workers")
    return {addr: {"nthreads": int(w.get("nthreads", 1)), "memory_limit": int(w.get("memory_limit") or 0)}
            for addr, w in sorted(info.items())}


def require_worker_memory(client, nbytes: int, what: str) -> None:
    """MemoryError naming ``what`` when ``nbytes`` exceed a worker's memory limit (Dask's
    ``memory_limit``; workers without one are not checked)."""
    limits = [w["memory_limit"] for w in workers(client).values() if w["memory_limit"]]
    if limits and nbytes > min(limits):
        raise MemoryError(f"{what} needs {gib(nbytes)} on a worker, but the smallest worker memory limit "
                          f"is {gib(min(limits))}; give the workers more memory (memory_limit=)")


@contextmanager
def worker_threads(whole_worker: bool = False):
    """OpenMP and BLAS threads of a task on a Dask worker.

    A worker with ``nthreads`` threads runs that many tasks at once, so a task that
    shares the worker (one partition's scoring) uses one thread, and the worker's
    thread count stays the total; a task that has the worker to itself (the one
    partial Gram placed on each worker, a factorisation) uses all ``nthreads``.
    Outside a worker (the local scheduler) nothing changes.
    """
    try:
        from dask.distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        yield
        return
    from ..backends.threads import threads

    with threads(worker.state.nthreads if whole_worker else 1):
        yield


def model_nbytes(model) -> int:
    """Bytes of a fitted model's arrays (what a worker holds once it has the model)."""
    arrays, _ = model._state()
    return int(sum(np.asarray(a).nbytes for a in arrays.values()))


#: the future of each model already sent, per client: Dask keeps the graphs of lazy
#: results (and the futures in them) alive after they are computed, so a new scatter per
#: call would leave one more copy of the model on every worker each time
_SENT: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _fingerprint(model, client) -> tuple:
    """What identifies the version sent: the client, the metadata and each array itself
    (weak references, compared by identity: a refit makes new arrays, and a freed array's
    reference dies, so its address being reused cannot pass for the old one)."""
    arrays, meta = model._state()
    return client.id, repr(sorted(meta.items())), {k: weakref.ref(v) for k, v in arrays.items()}


def _same_version(a: tuple, b: tuple) -> bool:
    return a[:2] == b[:2] and a[2].keys() == b[2].keys() and all(
        a[2][k]() is not None and a[2][k]() is b[2][k]() for k in a[2])


def broadcast_model(client, model):
    """The model on every worker once (a future of it); refuses a model above a worker's
    memory limit and a model on the GPU (workers score on the CPU). The same fitted
    model sent again reuses the copy already there (a model changed in place after
    its first use is not sent again: refit it, or copy it)."""
    model._check_fitted()
    if model.device != "cpu":
        raise ValueError(f"model is on device {model.device!r}; the workers score on the CPU: "
                         "save it and load it with autorec_fast.load(path, device='cpu')")
    key = _fingerprint(model, client)
    sent = _SENT.get(model)
    if sent is not None and _same_version(sent[0], key) and sent[1].status == "finished":
        return sent[1]
    require_worker_memory(client, 2 * model_nbytes(model), f"sending the {type(model).__name__} model "
                          f"({gib(model_nbytes(model))}; twice that while it arrives)")
    future = client.scatter(model, broadcast=True, hash=False)
    _SENT[model] = (key, future)
    return future


def tree_reduce(client, futures, combine, split_every: int = 2, **submit_kw):
    """Reduce ``futures`` with ``combine(*values)`` in a tree of fan-in ``split_every`` on
    the cluster; returns the future of the result."""
    level = list(futures)
    if not level:
        raise ValueError("nothing to reduce")
    while len(level) > 1:
        level = [client.submit(combine, *level[i:i + split_every], **submit_kw) if len(level[i:i + split_every]) > 1
                 else level[i] for i in range(0, len(level), split_every)]
    return level[0]
