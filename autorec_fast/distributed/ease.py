"""EASE on a Dask cluster: the Gram XᵀX from the partitions, summed in a tree, then
factorised once.

Each partition (all rows of its users, in original ids) becomes a CSR over the
item vocabulary on its worker; the partitions are split into one contiguous group
per worker and each group's partial Gram is built by the library's native kernel
(``CpuBackend.gram_into``, ``csrc/cpu/ease.cpp``) with all of that worker's
threads. Partials travel as packed upper triangles (n(n+1)/2 values, half the
square) and are summed pairwise in a tree; the sum is factorised on the client
(or on a chosen worker) by ``EASE.fit_gram``, with the same memory check as
``autorec_fast.train("ease", ...)``.
"""

from __future__ import annotations

import time

import numpy as np

from .._memory import gib, require
from ..models.ease import EASE
from ._cluster import get_client, require_worker_memory, tree_reduce, worker_threads, workers
from ._frames import ITEM, RATING, TIMESTAMP, USER, distinct_users, group_by_user, interaction_frame, union_users


def pack_upper(G: np.ndarray) -> np.ndarray:
    """The upper triangle of the square ``G`` (diagonal included), row by row, as one
    1-D array of n(n+1)/2 values."""
    n = G.shape[0]
    out = np.empty(n * (n + 1) // 2, dtype=G.dtype)
    at = 0
    for i in range(n):
        out[at:at + n - i] = G[i, i:]
        at += n - i
    return out


def unpack_upper(packed: np.ndarray, n: int) -> np.ndarray:
    """``pack_upper``'s inverse: an n x n array with the upper triangle filled, zeros below."""
    if packed.shape != (n * (n + 1) // 2,):
        raise ValueError(f"a packed upper triangle of {n} items has {n * (n + 1) // 2} values, got {packed.shape}")
    G = np.zeros((n, n), dtype=packed.dtype)
    at = 0
    for i in range(n):
        G[i, i:] = packed[at:at + n - i]
        at += n - i
    return G


class _Partial:
    """A partial Gram (packed upper triangle) and the counts of the rows it sums."""

    __slots__ = ("packed", "users", "nnz", "lowest", "highest", "ratings")

    def __init__(self, packed, users=0, nnz=0, lowest=np.inf, highest=-np.inf, ratings=False):
        self.packed, self.users, self.nnz = packed, users, nnz
        self.lowest, self.highest, self.ratings = lowest, highest, ratings


def partition_csr(part, items=None, dtype=np.float32, duplicates="last"):
    """One partition (pandas, columns user/item[/rating/timestamp]) as a canonical CSR
    over ``items`` (the vocabulary), built as the single-machine fit builds it
    (``Interactions.from_arrays``: same duplicate rule, float32 values); None when empty."""
    from .._validation import canonical_csr
    from ..interactions import Interactions

    if len(part) == 0:
        return None
    columns = part.columns
    inter = Interactions.from_arrays(
        part[USER].to_numpy(), part[ITEM].to_numpy(),
        part[RATING].to_numpy() if RATING in columns else None,
        part[TIMESTAMP].to_numpy() if TIMESTAMP in columns else None,
        item_ids=items, duplicates=duplicates)
    X = canonical_csr(inter.matrix, dtype, "data")
    return X, inter.has_ratings


def partial_gram(csrs, n: int, dtype) -> _Partial:
    """The Gram of a group of partitions on one worker, with all of its threads."""
    from ..backends import get_backend

    dtype = np.dtype(dtype)
    require(n * n * dtype.itemsize * 3 // 2, f"a partial Gram of {n:,} items ({gib(n * n * dtype.itemsize)} "
                                             f"plus its packed copy)")
    backend = get_backend("cpu", dtype)
    G = np.zeros((n, n), dtype=dtype)
    out = _Partial(None)
    with worker_threads(whole_worker=True):
        for entry in csrs:
            if entry is None:
                continue
            X, has_ratings = entry
            backend.gram_into(X, G)
            out.users += X.shape[0]
            out.nnz += X.nnz
            if X.nnz:
                out.lowest = min(out.lowest, float(X.data.min()))
                out.highest = max(out.highest, float(X.data.max()))
            out.ratings |= bool(has_ratings)
    out.packed = pack_upper(G)
    return out


def sum_partials(*parts: _Partial) -> _Partial:
    """The sum of partial Grams (a new array: Dask's inputs are never modified)."""
    out = _Partial(parts[0].packed.copy())
    for i, p in enumerate(parts):
        if i:
            out.packed += p.packed
        out.users += p.users
        out.nnz += p.nnz
        out.lowest, out.highest = min(out.lowest, p.lowest), max(out.highest, p.highest)
        out.ratings |= p.ratings
    return out


def _factorize(total: _Partial, n, items, params):
    """On a worker: the EASE model from the summed Gram, with the worker's threads."""
    with worker_threads(whole_worker=True):
        return EASE(**params).fit_gram(unpack_upper(total.packed, n), items, copy=False)


def fit_ease(data, *, l2: float = 500.0, dtype="float32", device: str = "cpu", grouped: bool = False,
             duplicates: str = "last", factorize_on: str = "client", split_every: int = 2,
             client=None, verbose=0) -> EASE:
    """Fit EASE on a Dask DataFrame of interactions; returns the ordinary ``EASE`` model.

    The result equals ``autorec_fast.train("ease", data.compute(), ...)`` up to the
    order of the Gram's float sums (exactly, for 0/1 data in float64 or below 2**24
    co-occurrences in float32).

    Parameters
    ----------
    data : dask.dataframe.DataFrame
        Rows (user, item[, rating, timestamp]) in original ids (integers or strings;
        the column names ``train`` accepts). The items are the model's columns in
        sorted order, as in the single-machine fit.
    l2, dtype, device, verbose
        As in :class:`autorec_fast.EASE`; ``device`` is where the factorisation runs.
    grouped : bool
        False (default): the rows are shuffled by user so that each user's rows sit
        in one partition (the Gram needs whole rows). True: they already are
        (e.g. Parquet partitioned by user); this is checked, and users found in
        several partitions are a ValueError naming them.
    duplicates : {"last", "sum", "error"}
        Repeated (user, item) rows, as in ``Interactions.from_arrays``. "last"
        follows the row order inside a partition, which a shuffle does not keep:
        give timestamps (the latest wins) or use "sum" / "error" when it matters.
    factorize_on : "client" or a worker address
        Where the summed Gram is factorised: this process (default), or a worker
        (e.g. one with a GPU, with ``device="cuda"``); the weights come back here.
    split_every : int
        Fan-in of the tree that sums the per-worker partial Grams.
    client : dask.distributed.Client, optional
        Default: the current client.

    The input is read (and shuffled) once; its partitions stay in the workers' memory
    until the summed Gram reaches the factorising process. Memory: each worker
    holds one n x n partial Gram and its packed copy
    (1.5 n² values) while it builds it, plus up to ``split_every`` + 1 packed
    triangles while summing; the factorising process holds the packed sum and the
    n x n weights (1.5 n²). Both are checked before anything is computed.
    ``fit_info`` gives seconds per stage (``items_seconds``: reading, shuffling and the
    item vocabulary; ``gram_and_transfer_seconds``: the CSRs, partial Grams, tree sum and
    its transfer; ``factorize_seconds``) and an upper bound on the bytes of Gram that
    crossed the network.
    """
    from .._progress import report
    from .._validation import check_positive

    t0 = time.perf_counter()
    client = get_client(client)
    model = EASE(l2=l2, dtype=dtype, device=device, verbose=verbose)  # checks the parameters first
    split_every = check_positive(split_every, "split_every", integer=True)
    if split_every < 2:
        raise ValueError(f"split_every must be >= 2, got {split_every}")
    if duplicates not in ("last", "sum", "error"):
        raise ValueError(f"duplicates must be one of ('last', 'sum', 'error'), got {duplicates!r}")
    pool = workers(client)
    if factorize_on != "client" and factorize_on not in pool:
        raise ValueError(f"factorize_on must be 'client' or a worker address {sorted(pool)}, got {factorize_on!r}")
    frame = interaction_frame(data, "data")
    # the input is read (and shuffled) once: its partitions stay on the workers for this fit
    # (grouped=True: checked below, from these same partitions)
    parts = client.compute((frame if grouped else group_by_user(frame, False)[0]).to_delayed())
    held = list(parts)
    try:
        items_future = tree_reduce(client, client.map(distinct_items, parts, pure=False), union_items, 8,
                                   pure=False)
        held.append(items_future)
        if grouped:
            spread = tree_reduce(client, client.map(distinct_users, parts, pure=False), union_users, 8,
                                 pure=False)
            held.append(spread)
        items = vocabulary_from(items_future.result())
        t_items = time.perf_counter() - t0
        n = items.size
        itemsize = model.dtype.itemsize
        square, packed_bytes = n * n * itemsize, n * (n + 1) // 2 * itemsize
        require_worker_memory(client, square + packed_bytes * (split_every + 1),
                              f"EASE's partial Gram of {n:,} items ({gib(square)} while built)")
        if factorize_on == "client" and device == "cpu":
            require(square + packed_bytes, f"EASE on {n:,} items in {model.dtype.name} (the packed Gram and "
                                           f"one {n:,} x {n:,} matrix)")
        elif factorize_on != "client":
            require_worker_memory(client, square + packed_bytes, f"factorising EASE on {n:,} items")
        report(model, f"{n:,} items; {len(parts)} partitions on {len(pool)} workers", model.verbose)
        t_gram = time.perf_counter()
        vocab = client.scatter(items, broadcast=True, hash=False)
        csrs = client.map(partition_csr, parts, items=vocab, dtype=model.dtype, duplicates=duplicates, pure=False)
        held += [vocab, *csrs]
        # one contiguous group of partitions per worker, placed there (loosely: if that worker
        # dies the group runs elsewhere, and Dask recomputes the lost partitions)
        groups = [g for g in np.array_split(np.arange(len(csrs)), len(pool)) if g.size]
        leaves = [client.submit(partial_gram, [csrs[i] for i in g], n, model.dtype, workers=[addr],
                                allow_other_workers=True, pure=False)
                  for g, addr in zip(groups, pool)]
        total = tree_reduce(client, leaves, sum_partials, split_every, pure=False)
        held += [*leaves, total]
        if grouped:
            spread.result()  # raises on users in several partitions
        if factorize_on == "client":
            summed = total.result()
            t_gram = time.perf_counter() - t_gram
            _check_summed(model, summed)
            for f in held:  # the workers' memory is free before the client's big allocation
                f.release()
            held = []
            G = unpack_upper(summed.packed, n)
            del summed
            model.fit_gram(G, items, copy=False)
        else:
            stats = client.submit(_stats, total, pure=False).result()
            t_gram = time.perf_counter() - t_gram
            _check_summed(model, stats)
            params = {"l2": model.l2, "dtype": model.dtype.name, "device": device}
            fitted = client.submit(_factorize, total, n, items, params, workers=[factorize_on],
                                   allow_other_workers=False, pure=False)
            held.append(fitted)
            level = model.verbose
            model = fitted.result()
            model.verbose = level
    finally:
        for f in held:
            f.release()
    # an upper bound: partials that meet on one worker do not cross the network
    moved = packed_bytes * len(leaves) + (square if factorize_on != "client" else 0)
    model.fit_info["factorize_seconds"] = model.fit_info.pop("seconds")
    model.fit_info.update({"seconds": time.perf_counter() - t0, "items_seconds": t_items,
                           "gram_and_transfer_seconds": t_gram, "workers": len(pool), "partitions": len(parts),
                           "gram_bytes_moved": moved})
    report(model, f"distributed fit in {model.fit_info['seconds']:.2f} s", model.verbose)
    return model


def distinct_items(part):
    """The sorted distinct item ids of one partition."""
    from .._data.coerce import _as_id_array

    return np.unique(_as_id_array(part[ITEM].to_numpy(), "data['item']")) if len(part) else None


def union_items(*parts):
    """The sorted union of sorted distinct ids (None: an empty partition)."""
    parts = [p for p in parts if p is not None]
    return np.unique(np.concatenate(parts)) if parts else None


def vocabulary_from(items) -> np.ndarray:
    """The model's item ids from the union of the partitions' (the single-machine order)."""
    if items is None or items.size == 0:
        raise ValueError("data has no interactions")
    if items.dtype.kind == "O" and not all(isinstance(v, str) for v in items.tolist()):
        raise TypeError("data['item'] mixes strings with other ids; ids must be integers or strings")
    return items


def _stats(total: _Partial) -> _Partial:
    """The counts of a summed Gram without its values (for the client's checks)."""
    return _Partial(None, total.users, total.nnz, total.lowest, total.highest, total.ratings)


def _check_summed(model, summed: _Partial) -> None:
    from ..models._shared import warn_explicit

    if summed.nnz == 0:
        raise ValueError("data has no interactions")
    if summed.ratings:
        warn_explicit("EASE", summed.lowest, summed.highest,
                      "the Gram matrix is built from the rating values as given (EASE is defined on 0/1 data)",
                      stacklevel=4)
