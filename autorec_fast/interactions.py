"""User x item interaction container.

:class:`Interactions` holds a canonical CSR matrix (users as rows, items as
columns) together with the original user/item ids, optional per-entry
timestamps, and the position of every entry in the original input (its
*entry order*), which some protocols (e.g. the strong-generalization recipe of
Liang et al. 2018) depend on. :func:`as_interactions` converts every
supported input to it.

All constructors are vectorised with numpy; no Python loop runs per
interaction. The implementation lives in :mod:`autorec_fast._data`
(``container``, ``constructors``, ``coerce``, ``csr``); every SciPy sparse
input goes through :func:`autorec_fast._validation.check_csr` first.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

# the private helpers are re-exported for code that imported them from here
from ._data.coerce import (  # noqa: F401
    _ID_KINDS,
    _as_id_array,
    _as_timestamps,
    _as_values,
    _check_entry_order,
    _check_ids,
    _index_of,
)
from ._data.constructors import _DUPLICATE_MODES  # noqa: F401
from ._data.container import Interactions
from ._data.csr import _index_dtype, _readonly, _row_of_entries  # noqa: F401

__all__ = ["Interactions", "as_interactions"]


_USER_CANDIDATES = ("userId", "user_id")
_ITEM_CANDIDATES = ("movieId", "item_id", "itemId")


def _pick_column(columns, default, candidates, arg):
    if default in columns:
        return default
    found = [c for c in candidates if c in columns]
    if len(found) == 1:
        return found[0]
    if not found:
        raise ValueError(
            f"data has no {default!r} column (nor any of {list(candidates)}); "
            f"pass {arg}=... (columns: {columns})"
        )
    raise ValueError(
        f"data has several candidate columns {found} for {default!r}; pass {arg}=..."
    )


def as_interactions(data, **kw):
    """Convert supported inputs to :class:`Interactions`.

    Parameters
    ----------
    data : Interactions, scipy.sparse matrix, DataFrame, tuple or numpy.ndarray
        * :class:`Interactions`: returned as is (``kw`` must be empty).
        * scipy.sparse matrix/array: :meth:`Interactions.from_scipy` (its
          structure is validated first, errors name ``data``).
        * DataFrame-like (has ``.columns`` and ``.to_numpy``): columns
          ``"user"``, ``"item"`` and, when present, ``"rating"`` and
          ``"timestamp"``; ``"userId"``/``"user_id"`` and
          ``"movieId"``/``"item_id"``/``"itemId"`` are accepted when they are
          the only candidates. ``user_col``, ``item_col``, ``rating_col``,
          ``timestamp_col`` in ``kw`` override the detection.
        * tuple ``(users, items)`` or ``(users, items, ratings)``:
          :meth:`Interactions.from_arrays`.
        * dense 2-D numpy array: its nonzero cells become entries (via
          :meth:`Interactions.from_scipy`, empty rows/columns kept).
    **kw
        Extra keyword arguments for the underlying constructor.

    Returns
    -------
    Interactions

    Raises
    ------
    TypeError
        ``data`` is of an unsupported type.
    ValueError
        Invalid content (see the constructors).
    """
    if isinstance(data, Interactions):
        if kw:
            raise TypeError(
                f"data is already an Interactions; unexpected keyword arguments {sorted(kw)}"
            )
        return data
    if sp.issparse(data):
        return Interactions._from_sparse(data, "data", **kw)
    if hasattr(data, "columns") and hasattr(data, "to_numpy"):
        columns = list(data.columns)
        user_col = kw.pop("user_col", None) or _pick_column(
            columns, "user", _USER_CANDIDATES, "user_col"
        )
        item_col = kw.pop("item_col", None) or _pick_column(
            columns, "item", _ITEM_CANDIDATES, "item_col"
        )
        rating_col = kw.pop("rating_col", "rating" if "rating" in columns else None)
        timestamp_col = kw.pop(
            "timestamp_col", "timestamp" if "timestamp" in columns else None
        )
        return Interactions.from_dataframe(
            data, user_col, item_col, rating_col, timestamp_col, **kw
        )
    if isinstance(data, tuple):
        if len(data) not in (2, 3):
            raise ValueError(
                f"data tuple must be (users, items) or (users, items, ratings), "
                f"got {len(data)} elements"
            )
        return Interactions.from_arrays(*data, **kw)
    if isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise ValueError(f"dense data must be 2-D, got shape {data.shape}")
        if data.dtype.kind not in "biuf":
            raise TypeError(f"dense data must be numeric, got dtype {data.dtype}")
        if data.dtype.kind == "f" and not np.isfinite(data).all():
            raise ValueError("data contains NaN or inf values")
        return Interactions._from_sparse(sp.csr_matrix(data), "data", **kw)
    raise TypeError(
        "data must be an Interactions, a scipy.sparse matrix, a DataFrame, a "
        "(users, items[, ratings]) tuple or a 2-D numpy array, got "
        f"{type(data).__name__}"
    )
