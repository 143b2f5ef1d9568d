"""Original ids at the public API: DataFrames of (user, item[, rating, timestamp]) in
the ids the user typed, mapped to a fitted model's row and column indices, and
recommendations back as a DataFrame in those ids.

pandas is not a dependency of the library: a DataFrame is recognised by duck typing
(``.columns`` and ``.to_numpy``), and pandas is imported only to build a DataFrame
to return, i.e. when the caller gave one or asked for one.
"""

from __future__ import annotations

import warnings

import numpy as np

from .coerce import _as_id_array, positions_in


class UnknownIdsWarning(UserWarning):
    """Ids the model never saw were dropped or given the model's fallback (filter it to silence)."""


_USER_COLUMNS = ("user", "userId", "user_id")
_ITEM_COLUMNS = ("item", "movieId", "item_id", "itemId")


def is_frame(obj) -> bool:
    """Whether ``obj`` is DataFrame-like (pandas is not imported to tell)."""
    return hasattr(obj, "columns") and hasattr(obj, "to_numpy") and not isinstance(obj, np.ndarray)


def _column(df, name):
    c = df[name]
    return c.to_numpy() if hasattr(c, "to_numpy") else np.asarray(c)


def _pick(columns, candidates, what, name):
    found = [c for c in candidates if c in columns]
    if len(found) > 1 and candidates[0] not in found:
        raise ValueError(f"{name} has several candidate columns {found} for the {what} ids; "
                         f"rename one to {candidates[0]!r}")
    return found[0] if found else None


def frame_columns(df, name: str, *, values: bool = True):
    """``(users, items, ratings or None, timestamps or None)`` of a DataFrame.

    The id columns are ``user`` and ``item`` (``userId``/``user_id`` and
    ``movieId``/``item_id``/``itemId`` are accepted as in ``as_interactions``); ``rating``
    and ``timestamp`` are read when present and ``values``. A missing id column is a
    ValueError naming it and the columns there are."""
    columns = list(df.columns)
    user = _pick(columns, _USER_COLUMNS, "user", name)
    item = _pick(columns, _ITEM_COLUMNS, "item", name)
    missing = [want for want, got in (("user", user), ("item", item)) if got is None]
    if missing:
        raise ValueError(f"{name} needs the column(s) {missing} (original ids; 'userId'/'user_id' and "
                         f"'movieId'/'item_id'/'itemId' are accepted too), got columns {columns}")
    users = _as_id_array(_column(df, user), f"{name}[{user!r}]")
    items = _as_id_array(_column(df, item), f"{name}[{item!r}]")
    ratings = _column(df, "rating") if values and "rating" in columns else None
    timestamps = _column(df, "timestamp") if values and "timestamp" in columns else None
    return users, items, ratings, timestamps


def index_of_ids(ids, model_ids) -> np.ndarray:
    """Each id's position in ``model_ids`` (int64), -1 where the model does not know it."""
    ids, model_ids = np.asarray(ids), np.asarray(model_ids)
    if ids.size == 0 or model_ids.size == 0:
        return np.full(ids.shape, -1, np.int64)
    kinds = {ids.dtype.kind, model_ids.dtype.kind}
    if kinds & set("US") and kinds & set("biuf"):  # numbers never equal strings
        return np.full(ids.shape, -1, np.int64)
    try:
        pos, found, _ = positions_in(ids, model_ids)
        return np.where(found, pos, -1)
    except TypeError:  # ids of mixed types do not sort: a dictionary instead
        where = {v: i for i, v in enumerate(model_ids.tolist())}
        return np.array([where.get(v, -1) for v in ids.tolist()], dtype=np.int64)


def describe(ids, n: int = 5) -> str:
    """The first ``n`` distinct ids of ``ids`` as a list for an error message."""
    seen = list(dict.fromkeys(np.asarray(ids).tolist()))
    more = f" and {len(seen) - n} more" if len(seen) > n else ""
    return f"{seen[:n]}{more}"


def first_appearance(values) -> np.ndarray:
    """The distinct values in the order they first appear."""
    values = np.asarray(values)
    try:
        uniq, first = np.unique(values, return_index=True)
        return uniq[np.argsort(first, kind="stable")]
    except TypeError:  # unsortable mixed ids
        return np.array(list(dict.fromkeys(values.tolist())), dtype=object)


def history_from_frame(df, item_ids, name: str = "history", user_order=None, stacklevel: int = 4,
                       shard: bool = False):
    """A DataFrame of histories in original ids -> ``(Interactions, user ids)``.

    Rows are the users in order of first appearance (or ``user_order``), columns the
    model's items (``item_ids``, in the model's order). Rows naming an item the model
    does not know are dropped, with one ``UnknownIdsWarning`` giving their count; a
    user whose every item was dropped keeps an empty row. Ratings and timestamps are
    kept when the DataFrame has them (SVAE needs the timestamps for the order).

    ``shard=True`` (one partition of a larger frame, ``autorec_fast.distributed``): an
    empty frame, or one naming no known item, gives empty rows instead of an error,
    and dropped rows are not warned about (the caller counts them over all shards
    and reports them once)."""
    from .container import Interactions

    users, items, ratings, timestamps = frame_columns(df, name)
    if users.size == 0 and not shard:
        raise ValueError(f"{name} has no rows")
    order = first_appearance(users) if user_order is None else user_order
    cols = index_of_ids(items, item_ids)
    unknown = cols < 0
    if unknown.all() and not shard:
        raise ValueError(f"{name}: none of its {users.size:,} rows names an item the model knows "
                         f"(e.g. {describe(items)}); are these the ids the model was trained on?")
    if unknown.any() and not shard:
        warnings.warn(f"{name}: {int(unknown.sum()):,} of {users.size:,} rows name items the model never saw "
                      f"({describe(items[unknown])}); those rows were dropped", UnknownIdsWarning,
                      stacklevel=stacklevel)
    if unknown.any():
        keep = ~unknown
        users, cols = users[keep], cols[keep]
        ratings = None if ratings is None else ratings[keep]
        timestamps = None if timestamps is None else timestamps[keep]
    if users.size == 0:  # a shard naming no known item: every user keeps an empty row
        import scipy.sparse as sp

        empty = sp.csr_matrix((len(order), len(item_ids)), dtype=np.float32)
        return Interactions.from_scipy(empty, user_ids=order, item_ids=np.arange(len(item_ids))), order
    inter = Interactions.from_arrays(users, cols, ratings, timestamps, user_ids=order,
                                     item_ids=np.arange(len(item_ids)))
    return inter, order


def recommendations_frame(user_ids, item_ids, items, scores):
    """The (rows x k) top-k arrays as a DataFrame (user, item, score, rank) in original
    ids; padding (index -1: fewer than k unseen items) is left out."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is in the test extra
        raise ImportError("recommendations by original id are returned as a pandas DataFrame: "
                          "pip install pandas (or pass a history matrix to get index arrays)") from None
    n, k = items.shape
    valid = (items >= 0).ravel()
    # ids as Python objects whatever the model's array holds (a str array after load), so
    # that the columns have the same dtype before and after save/load
    user_ids, item_ids = (np.asarray(a, dtype=object) if np.asarray(a).dtype.kind in "US" else a
                          for a in (user_ids, item_ids))
    return pd.DataFrame({
        "user": np.repeat(np.asarray(user_ids), k)[valid],
        "item": np.asarray(item_ids)[items.ravel()[valid]],
        "score": np.asarray(scores).ravel()[valid],
        "rank": np.tile(np.arange(1, k + 1, dtype=np.int64), n)[valid],
    })
