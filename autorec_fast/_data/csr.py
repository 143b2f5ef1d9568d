"""Index arithmetic on CSR arrays, shared by the container, the splits and the datasets.

Every function is vectorised with NumPy (no Python loop per entry) and
assumes valid input: the arrays come from an already validated matrix.
"""

from __future__ import annotations

import numpy as np


def _index_dtype(n_max):
    return np.int32 if n_max < np.iinfo(np.int32).max else np.int64


def _readonly(arr):
    arr.setflags(write=False)
    return arr


def _row_of_entries(indptr, n_rows):
    """Row index of every stored entry of a CSR matrix (int64)."""
    return np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(indptr))


def _group_starts(counts):
    """Start offset (int64) of each group of a grouped array from the group sizes."""
    starts = np.zeros(counts.size, dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    return starts


def _indptr_from_rows(rows, n_rows):
    """Row pointers (int64, length ``n_rows + 1``) of entries sorted by row index ``rows``."""
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    return indptr


def _gather_rows(indptr, rows):
    """Positions of the entries of ``rows`` (in that order) in a CSR matrix.

    Returns ``(new_indptr, gather)``: the int64 row pointers of the matrix
    made of those rows, and the int64 position in the parent's entry arrays
    of each of its entries.
    """
    indptr = np.asarray(indptr).astype(np.int64)
    lengths = np.diff(indptr)[rows]
    new_indptr = np.zeros(rows.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_indptr[1:])
    gather = np.repeat(indptr[rows] - new_indptr[:-1], lengths) + np.arange(
        new_indptr[-1], dtype=np.int64
    )
    return new_indptr, gather


def _is_canonical(indptr, indices):
    """Whether the column indices strictly increase within every row (sorted, no duplicates)."""
    if indices.size < 2:
        return True
    ok = np.diff(indices.astype(np.int64)) > 0
    row_starts = indptr[1:-1]
    row_starts = row_starts[(row_starts > 0) & (row_starts < indices.size)]
    ok[row_starts - 1] = True  # row boundaries may decrease
    return bool(ok.all())


def _rank_within_rows(rows, *keys):
    """Rank of each entry within its row when ordered by ``keys`` (last = primary).

    ``rows`` must be non-decreasing (CSR order).
    """
    order = np.lexsort(keys + (rows,))
    starts = _group_starts(np.bincount(rows))
    rank = np.empty(rows.size, dtype=np.int64)
    rank[order] = np.arange(rows.size) - starts[rows[order]]
    return rank


def _first_per_row(rows, counts, fraction, min_count, *keys):
    """Mask of the ``floor(fraction * n)`` entries of each row ranked first by ``keys``.

    ``counts`` are the row sizes ``n``; rows with fewer than ``min_count``
    entries get none. ``keys`` as in :func:`_rank_within_rows`.
    """
    n_first = np.floor(fraction * counts).astype(np.int64)
    n_first[counts < min_count] = 0
    return _rank_within_rows(rows, *keys) < n_first[rows]


def _resolve_duplicates(key, values, ts, duplicates, describe_key):
    """Sort entries by ``key`` (row * n_cols + col) and merge repeated keys.

    ``values`` / ``ts`` are float64 / int64 per-entry arrays or ``None``.
    ``duplicates`` is ``"last"`` (keep the last entry in input order, or the
    latest by ``ts`` when given; ties: last in input order), ``"sum"`` (add
    values, keep the latest timestamp and the earliest input position) or
    ``"error"`` (raise ``ValueError``, naming the first repeated key with
    ``describe_key(key)``).

    Returns ``(keep, out_values, out_ts, out_order)``: the input position of
    one entry per distinct key, in key order, and the merged values,
    timestamps and input positions.
    """
    n = key.size
    if n < 2 or (key[1:] > key[:-1]).all():
        order = np.arange(n, dtype=np.int64)  # already canonical
    elif ts is not None and duplicates == "last":
        order = np.lexsort((ts, key))  # stable: ties keep input order
    else:
        order = np.argsort(key, kind="stable")
    skey = key[order]
    new_group = np.empty(n, dtype=bool)
    new_group[0] = True
    np.not_equal(skey[1:], skey[:-1], out=new_group[1:])
    if new_group.all() or duplicates == "last":
        if new_group.all():
            keep = order
        else:  # the last entry of each group
            is_last = np.empty(n, dtype=bool)
            is_last[-1] = True
            is_last[:-1] = new_group[1:]
            keep = order[is_last]
        values = None if values is None else values[keep]
        return keep, values, None if ts is None else ts[keep], keep
    if duplicates == "error":
        repeated = ~new_group
        raise ValueError(
            f"duplicates='error' but {int(repeated.sum())} repeated (user, item) "
            f"pairs were found, e.g. {describe_key(skey[np.flatnonzero(repeated)[0]])}"
        )
    starts = np.flatnonzero(new_group)  # "sum"
    return (
        order[starts],
        None if values is None else np.add.reduceat(values[order], starts),
        None if ts is None else np.maximum.reduceat(ts[order], starts),
        np.minimum.reduceat(order, starts),
    )
