"""User arrays (ids, values, timestamps) to validated NumPy arrays.

Each function names the argument in its errors; none runs a Python loop per
entry.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

_ID_KINDS = "iufUSO"


def _as_vector(values, name, n=None):
    """``values`` as a 1-D array (of length ``n`` when given)."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has length {arr.shape[0]}, expected {n}")
    return arr


def _as_id_array(values, name):
    """Return ``values`` as a 1-D id array, rejecting unusable dtypes/NaN."""
    arr = _as_vector(values, name)
    if arr.dtype.kind not in _ID_KINDS:
        raise TypeError(
            f"{name} must hold integer, float or string ids, got dtype {arr.dtype}"
        )
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf values")
    if arr.dtype.kind == "O" and arr.size:
        # None / NaN hidden in object arrays would sort unpredictably
        # (elementwise comparisons run in numpy's C loop).
        if (arr == None).any() or (arr != arr).any():  # noqa: E711
            raise ValueError(f"{name} contains None or NaN values")
    return arr


_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _as_values(values, name, n):
    """Return ``values`` as a finite float64 vector of length ``n``."""
    arr = _as_vector(values, name, n)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    arr64 = arr.astype(np.float64, copy=False)
    if not np.isfinite(arr64).all():
        raise ValueError(f"{name} contains NaN or inf values")
    # stored as float32: a larger value would silently become inf
    if arr64.size and np.abs(arr64).max() > _FLOAT32_MAX:
        raise ValueError(f"{name} has values beyond the float32 range (|value| <= {_FLOAT32_MAX:.4g}), "
                         f"got {arr64[np.argmax(np.abs(arr64))]!r}")
    return arr64


def _as_timestamps(values, name, n):
    """Return ``values`` as an int64 vector of length ``n``.

    Accepts integer arrays, integer-valued float arrays and ``datetime64``
    arrays (converted to whole seconds since the Unix epoch).
    """
    arr = _as_vector(values, name, n)
    kind = arr.dtype.kind
    if kind == "M":
        if np.isnat(arr).any():
            raise ValueError(f"{name} contains NaT values")
        return arr.astype("datetime64[s]").astype(np.int64)
    if kind in "iu":
        if kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
            raise ValueError(f"{name} has values that do not fit in int64")
        return arr.astype(np.int64, copy=True)
    if kind == "b":
        raise TypeError(f"{name} must be integer or datetime64, got dtype bool")
    if kind == "f":
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} contains NaN or inf values")
        if (arr != np.floor(arr)).any():
            raise ValueError(f"{name} must be integer-valued")
        return arr.astype(np.int64)
    raise TypeError(f"{name} must be integer or datetime64, got dtype {arr.dtype}")


def positions_in(values, ids):
    """Each value's position in the array ``ids`` (one stable sort and a binary
    search) and whether it is there: ``(positions, found, sorted ids)``; positions are
    meaningless where not found. TypeError when the ids cannot be sorted or compared."""
    sorter = np.argsort(ids, kind="stable")
    sids = ids[sorter]
    if sids.size == 0:
        return np.zeros(len(values), np.int64), np.zeros(len(values), bool), sids
    pos = np.searchsorted(sids, values)
    np.minimum(pos, sids.size - 1, out=pos)
    return sorter[pos].astype(np.int64, copy=False), sids[pos] == values, sids


def _index_of(values, ids, name, ids_name):
    """Map ``values`` to positions in an index space.

    Returns ``(index, ids)``. With ``ids=None`` the index space is the sorted
    unique values; otherwise ``ids`` (validated, must be unique) defines it and
    values outside it raise ``ValueError``.
    """
    if ids is None:
        try:
            uniq, inv = np.unique(values, return_inverse=True)
        except TypeError as exc:
            raise TypeError(f"{name} holds ids that cannot be sorted: {exc}") from None
        return inv.reshape(-1).astype(np.int64, copy=False), uniq
    ids = _as_id_array(ids, ids_name)
    kinds = {np.asarray(values).dtype.kind, ids.dtype.kind}
    if kinds & set("iuf") and kinds & set("US"):
        raise TypeError(
            f"{name} (dtype {np.asarray(values).dtype}) and {ids_name} "
            f"(dtype {ids.dtype}) mix numeric and string ids"
        )
    if ids.size == 0:
        raise ValueError(f"{ids_name} is empty but {name} is not")
    try:
        index, found, sids = positions_in(values, ids)
        if sids.size > 1 and (sids[1:] == sids[:-1]).any():
            raise ValueError(f"{ids_name} contains duplicate ids")
    except TypeError as exc:
        raise TypeError(
            f"{name} (dtype {np.asarray(values).dtype}) cannot be compared with "
            f"{ids_name} (dtype {ids.dtype}): {exc}"
        ) from None
    if not np.all(found):
        missing = np.unique(np.asarray(values)[~found])[:5]
        raise ValueError(
            f"{name} contains {int((~found).sum())} entries whose ids are not in "
            f"{ids_name}, e.g. {missing.tolist()}"
        )
    return index, ids.copy()


def _check_ids(ids, n, name):
    arr = _as_id_array(ids, name)
    if arr.shape[0] != n:
        raise ValueError(f"{name} has length {arr.shape[0]}, expected {n}")
    try:
        if np.unique(arr).size != n:
            raise ValueError(f"{name} contains duplicate ids")
    except TypeError as exc:
        raise TypeError(f"{name} holds ids that cannot be sorted: {exc}") from None
    return arr


def _check_entry_order(entry_order, n):
    arr = np.asarray(entry_order)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"entry_order must have shape ({n},), got {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise TypeError(f"entry_order must be integer, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def _check_int(value, name, minimum=None):
    """An integer (not a bool), ``>= minimum`` when given; returned as an int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_finite_number(value, name):
    """A finite real number (not a bool); returned unchanged."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value
