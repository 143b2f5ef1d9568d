"""Dask DataFrames of interactions in original ids: the columns checked from the
metadata (nothing is computed), the rows of each user brought into one partition,
and the item vocabulary built on the cluster."""

from __future__ import annotations

import numpy as np

from .._data.original_ids import _ITEM_COLUMNS, _USER_COLUMNS, _pick, describe

#: the names the partitions are given (the single-machine frame functions read them)
USER, ITEM, RATING, TIMESTAMP = "user", "item", "rating", "timestamp"


def _is_string_dtype(dtype) -> bool:
    import pandas as pd

    return pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype)


def interaction_frame(data, name: str = "data", *, ratings: str = "optional"):
    """``data`` with its columns renamed to ``user``, ``item`` (and ``rating``,
    ``timestamp`` when present), checked from the Dask metadata.

    ``ratings="required"`` (rating metrics) makes a missing ``rating`` column an error.
    """
    import dask.dataframe as dd
    import pandas as pd

    if not isinstance(data, dd.DataFrame):
        if hasattr(data, "columns"):
            raise TypeError(f"{name} must be a Dask DataFrame, got {type(data).__name__}; in-memory data go "
                            "to autorec_fast itself (or wrap them: dask.dataframe.from_pandas(df, npartitions=...))")
        raise TypeError(f"{name} must be a Dask DataFrame of (user, item[, rating, timestamp]) rows, "
                        f"got {type(data).__name__}")
    columns = list(data.columns)
    user = _pick(columns, _USER_COLUMNS, "user", name)
    item = _pick(columns, _ITEM_COLUMNS, "item", name)
    missing = [want for want, got in ((USER, user), (ITEM, item)) if got is None]
    if missing:
        raise ValueError(f"{name} needs the column(s) {missing} (original ids; 'userId'/'user_id' and "
                         f"'movieId'/'item_id'/'itemId' are accepted too), got columns {columns}")
    dtypes = data.dtypes
    for col in (user, item):
        dtype = dtypes[col]
        if pd.api.types.is_bool_dtype(dtype) or not (pd.api.types.is_integer_dtype(dtype) or _is_string_dtype(dtype)):
            raise TypeError(f"{name}[{col!r}] holds {dtype} ids; ids must be integers or strings "
                            f"(cast them, e.g. {name}[{col!r}].astype('int64'))")
    rename = {user: USER, item: ITEM}
    if RATING in columns:
        if not pd.api.types.is_numeric_dtype(dtypes[RATING]) or pd.api.types.is_bool_dtype(dtypes[RATING]):
            raise TypeError(f"{name}['rating'] must be numeric, got {dtypes[RATING]}")
        rename[RATING] = RATING
    elif ratings == "required":
        raise ValueError(f"{name} needs a 'rating' column for rmse/mae, got columns {columns}")
    if TIMESTAMP in columns:
        dtype = dtypes[TIMESTAMP]
        if not (pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_float_dtype(dtype)
                or pd.api.types.is_datetime64_any_dtype(dtype)) or pd.api.types.is_bool_dtype(dtype):
            raise TypeError(f"{name}['timestamp'] must hold integers or datetimes, got {dtype}")
        rename[TIMESTAMP] = TIMESTAMP
    return data[list(rename)].rename(columns=rename)


def group_by_user(frame, grouped: bool):
    """``(frame with every user's rows in one partition, check)``.

    ``grouped=False``: a hash shuffle on the user column (Dask's guarantee, ``check`` is
    None). ``grouped=True``: the caller says the partitions already hold whole users
    (e.g. Parquet written partitioned by user); ``check`` is a Delayed that raises a
    ValueError naming users found in several partitions (a tree of unions of the
    partitions' distinct users, run alongside the work that depends on it).
    """
    if not isinstance(grouped, (bool, np.bool_)):
        raise TypeError(f"grouped must be True or False, got {grouped!r}")
    if not grouped:
        return frame.shuffle(on=USER), None
    import dask

    # a tree of unions of each partition's distinct users (no shuffle); computed with
    # the work that depends on it, which reads the same partitions
    level = [dask.delayed(distinct_users)(part) for part in frame.to_delayed()]
    while len(level) > 1:
        level = [dask.delayed(union_users)(*level[i:i + 8]) for i in range(0, len(level), 8)]
    return frame, level[0]


def distinct_users(part):
    """``(sorted distinct users of a partition, users seen in several partitions so far)``."""
    users = np.unique(part[USER].to_numpy()) if len(part) else np.zeros(0, np.int64)
    return users, users[:0]


def union_users(*parts):
    """Union of distinct users, carrying the users found in more than one partition; the
    root raises a ValueError naming them (``grouped=True`` promised whole users)."""
    both = np.concatenate([p[0] for p in parts])
    uniq, counts = np.unique(both, return_counts=True)
    spread = np.concatenate([uniq[counts > 1], *(p[1] for p in parts)])[:5]
    if spread.size:
        raise ValueError(f"grouped=True, but users have rows in several partitions: {describe(spread)}; "
                         "pass grouped=False to shuffle the rows by user")
    return uniq, spread


