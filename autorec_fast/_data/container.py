"""The :class:`Interactions` container: a canonical CSR matrix plus ids, timestamps, entry order.

Construction from user input lives in :mod:`.constructors` (a base class);
this module holds the object itself, its validated ``__init__``, the
internal fast constructor and the transformations (all vectorised).
"""

from __future__ import annotations

import operator

import numpy as np
import scipy.sparse as sp

from .._validation import check_csr
from .coerce import (
    _as_timestamps,
    _as_values,
    _check_entry_order,
    _check_finite_number,
    _check_ids,
)
from .constructors import _Constructors
from .csr import (
    _gather_rows,
    _index_dtype,
    _indptr_from_rows,
    _is_canonical,
    _readonly,
    _row_of_entries,
)


def _getter(slot, doc):
    """Read-only property returning the attribute ``slot``."""
    return property(operator.attrgetter(slot), doc=doc)


class Interactions(_Constructors):
    """Users x items interactions: a CSR matrix plus original ids.

    Instances are normally created with :meth:`from_arrays`,
    :meth:`from_scipy`, :meth:`from_dataframe` or :func:`as_interactions`;
    they are treated as immutable (every transformation returns a new
    object).

    Parameters
    ----------
    matrix : scipy.sparse matrix
        A CSR matrix in canonical form (sorted column indices, no duplicate
        entries), shape ``(n_users, n_items)``. Values are stored as float32;
        explicitly stored zeros are kept as entries.
    user_ids, item_ids : array_like, optional
        Original id of each row / column (unique). Default ``arange``.
    timestamps : array_like of int, optional
        One timestamp per stored entry, aligned with ``matrix.data``.
    entry_order : array_like of int, optional
        Position of every stored entry in the original input (aligned with
        ``matrix.data``). Default: CSR order (``arange(nnz)``).
    has_ratings : bool, default True
        ``False`` marks implicit feedback (all values are 1.0).

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix
        ``(n_users, n_items)`` float32 matrix, canonical. Treat as read-only.
    user_ids : numpy.ndarray
        Original id of each row (read-only).
    item_ids : numpy.ndarray
        Original id of each column (read-only).
    timestamps : numpy.ndarray or None
        int64 per-entry timestamps aligned with ``matrix.data``.
    entry_order : numpy.ndarray
        int64 position of each entry in the original input order (row order
        in the source file, position in the input arrays, or CSR order for
        scipy input). Subsets and filters carry it along unchanged.
    has_ratings : bool
        ``False`` when built without values (implicit feedback, all 1.0).
    """

    __slots__ = (
        "_matrix",
        "_user_ids",
        "_item_ids",
        "_timestamps",
        "_entry_order",
        "_has_ratings",
    )

    def __init__(
        self,
        matrix,
        *,
        user_ids=None,
        item_ids=None,
        timestamps=None,
        entry_order=None,
        has_ratings=True,
    ):
        if not sp.issparse(matrix) or matrix.format != "csr":
            raise TypeError(
                "matrix must be a scipy.sparse CSR matrix; use "
                "Interactions.from_scipy for other formats"
            )
        matrix = check_csr(matrix, "matrix")
        n_users, n_items = matrix.shape
        indptr = np.asarray(matrix.indptr)
        indices = np.asarray(matrix.indices)
        if not _is_canonical(indptr, indices):  # vectorised: strictly increasing per row
            raise ValueError(
                "matrix must be canonical (sorted indices, no duplicates); "
                "use Interactions.from_scipy to canonicalise it"
            )
        data = _as_values(matrix.data, "matrix.data", indices.size)
        obj = Interactions._unchecked(
            indptr,
            indices,
            data,
            (n_users, n_items),
            user_ids=None
            if user_ids is None
            else _check_ids(user_ids, n_users, "user_ids"),
            item_ids=None
            if item_ids is None
            else _check_ids(item_ids, n_items, "item_ids"),
            timestamps=None
            if timestamps is None
            else _as_timestamps(timestamps, "timestamps", indices.size),
            entry_order=None
            if entry_order is None
            else _check_entry_order(entry_order, indices.size),
            has_ratings=bool(has_ratings),
        )
        for slot in Interactions.__slots__:
            object.__setattr__(self, slot, getattr(obj, slot))

    # -- internal constructors ---------------------------------------------
    @classmethod
    def _unchecked(
        cls,
        indptr,
        indices,
        data,
        shape,
        *,
        user_ids=None,
        item_ids=None,
        timestamps=None,
        entry_order=None,
        has_ratings=True,
    ):
        """Build from canonical CSR arrays without validation (internal)."""
        n_users, n_items = int(shape[0]), int(shape[1])
        nnz = int(np.asarray(indices).size)
        idx_dtype = _index_dtype(max(n_users, n_items, nnz))
        mat = sp.csr_matrix(
            (
                np.asarray(data, dtype=np.float32),
                np.asarray(indices, dtype=idx_dtype),
                np.asarray(indptr, dtype=idx_dtype),
            ),
            shape=(n_users, n_items),
            copy=False,
        )
        mat.has_sorted_indices = True
        mat.has_canonical_format = True
        self = object.__new__(cls)
        self._matrix = mat
        self._user_ids = _readonly(
            np.arange(n_users, dtype=np.int64)
            if user_ids is None
            else np.array(user_ids, copy=True)
        )
        self._item_ids = _readonly(
            np.arange(n_items, dtype=np.int64)
            if item_ids is None
            else np.array(item_ids, copy=True)
        )
        self._timestamps = (
            None
            if timestamps is None
            else _readonly(np.asarray(timestamps, dtype=np.int64))
        )
        self._entry_order = _readonly(
            np.arange(nnz, dtype=np.int64)
            if entry_order is None
            else np.asarray(entry_order, dtype=np.int64)
        )
        self._has_ratings = bool(has_ratings)
        return self

    def _rebuild(
        self,
        indptr,
        indices,
        gather=None,
        *,
        data=None,
        user_ids=None,
        item_ids=None,
        entry_order=None,
        has_ratings=None,
    ):
        """A new object made of this one's entries ``gather`` (all: ``None``), unchecked.

        Entry ``k`` of the result is entry ``gather[k]`` of this one, placed
        by the canonical ``indptr`` / ``indices``; its value, timestamp and
        entry order follow unless ``data`` / ``entry_order`` replace them.
        ``user_ids`` / ``item_ids`` (default: this one's) give the shape.
        """
        m = self._matrix

        def take(arr):
            return arr if arr is None or gather is None else arr[gather]

        user_ids = self._user_ids if user_ids is None else user_ids
        item_ids = self._item_ids if item_ids is None else item_ids
        return Interactions._unchecked(
            indptr,
            indices,
            take(m.data) if data is None else data,
            (user_ids.size, item_ids.size),
            user_ids=user_ids,
            item_ids=item_ids,
            timestamps=take(self._timestamps),
            entry_order=take(self._entry_order) if entry_order is None else entry_order,
            has_ratings=self._has_ratings if has_ratings is None else has_ratings,
        )

    def _select(self, entry_mask, *, rows=None, cols=None, binary=None):
        """Keep the entries in ``entry_mask``; optionally re-index rows/cols.

        ``rows`` / ``cols`` are sorted int arrays of the rows / columns to
        keep (all entries outside them must already be masked out).
        """
        m = self._matrix
        keep = np.flatnonzero(entry_mask)
        row_of = _row_of_entries(m.indptr, m.shape[0])[keep]
        col_of = m.indices[keep].astype(np.int64)
        user_ids, item_ids = self._user_ids, self._item_ids
        if rows is not None:
            row_of = _positions(rows, m.shape[0])[row_of]
            user_ids = user_ids[rows]
        if cols is not None:
            col_of = _positions(cols, m.shape[1])[col_of]
            item_ids = item_ids[cols]
        return self._rebuild(
            _indptr_from_rows(row_of, user_ids.size),
            col_of,
            keep,
            data=np.ones(keep.size, np.float32) if binary else None,
            user_ids=user_ids,
            item_ids=item_ids,
            has_ratings=None if binary is None else not binary,
        )

    def _compact(self, entry_mask):
        """Keep the entries in ``entry_mask``, then drop the rows and columns left empty."""
        m = self._matrix
        row_of = _row_of_entries(m.indptr, m.shape[0])
        rows = np.flatnonzero(np.bincount(row_of[entry_mask], minlength=m.shape[0]))
        cols = np.flatnonzero(np.bincount(m.indices[entry_mask], minlength=m.shape[1]))
        return self._select(entry_mask, rows=rows, cols=cols)

    # -- properties ------------------------------------------------------------
    matrix = _getter(
        "_matrix", "scipy.sparse.csr_matrix: canonical float32 ``(n_users, n_items)`` matrix."
    )
    user_ids = _getter("_user_ids", "numpy.ndarray: original id of each row.")
    item_ids = _getter("_item_ids", "numpy.ndarray: original id of each column.")
    timestamps = _getter(
        "_timestamps", "numpy.ndarray or None: int64 timestamps aligned with ``matrix.data``."
    )
    entry_order = _getter(
        "_entry_order",
        "numpy.ndarray: int64 input position of each entry (aligned with ``matrix.data``).",
    )
    has_ratings = _getter(
        "_has_ratings", "bool: ``False`` for implicit feedback (all values 1.0)."
    )

    @property
    def n_users(self):
        """int: number of rows."""
        return self._matrix.shape[0]

    @property
    def n_items(self):
        """int: number of columns."""
        return self._matrix.shape[1]

    @property
    def nnz(self):
        """int: number of stored interactions."""
        return int(self._matrix.indices.size)

    @property
    def shape(self):
        """tuple of int: ``(n_users, n_items)``."""
        return (self.n_users, self.n_items)

    # -- methods ------------------------------------------------------------
    def to_coo_arrays(self):
        """Return the entries as parallel arrays in CSR order.

        Returns
        -------
        user_index : numpy.ndarray of int64
            Row index of every entry.
        item_index : numpy.ndarray of int64
            Column index of every entry.
        values : numpy.ndarray of float32
            Stored values (a copy).
        timestamps : numpy.ndarray of int64 or None
            Per-entry timestamps (a copy), if present.
        """
        m = self._matrix
        return (
            _row_of_entries(m.indptr, m.shape[0]),
            m.indices.astype(np.int64),
            m.data.copy(),
            None if self._timestamps is None else self._timestamps.copy(),
        )

    def subset_users(self, rows):
        """Keep a subset of rows (users), in the given order.

        Parameters
        ----------
        rows : array_like of int or of bool
            Row indices (non-negative, distinct, < ``n_users``) or a boolean
            mask of length ``n_users``.

        Returns
        -------
        Interactions
            Same item index space; ``user_ids`` subset accordingly;
            timestamps and ``entry_order`` carried along.
        """
        rows = np.asarray(rows)
        if rows.ndim != 1:
            raise ValueError(f"rows must be 1-D, got shape {rows.shape}")
        if rows.dtype == bool:
            if rows.shape[0] != self.n_users:
                raise ValueError(
                    f"rows mask has length {rows.shape[0]}, expected n_users="
                    f"{self.n_users}"
                )
            rows = np.flatnonzero(rows)
        elif rows.size == 0:
            rows = rows.astype(np.int64)
        elif rows.dtype.kind not in "iu":
            raise TypeError(f"rows must be integer indices or a bool mask, got {rows.dtype}")
        rows = rows.astype(np.int64, copy=False)
        if rows.size:
            if rows.min() < 0 or rows.max() >= self.n_users:
                raise ValueError(
                    f"rows must be indices in [0, {self.n_users}); got values in "
                    f"[{rows.min()}, {rows.max()}]"
                )
            if np.unique(rows).size != rows.size:
                raise ValueError("rows contains repeated indices")
        new_indptr, gather = _gather_rows(self._matrix.indptr, rows)
        return self._rebuild(
            new_indptr, self._matrix.indices[gather], gather, user_ids=self._user_ids[rows]
        )

    def with_values(self, data, *, has_ratings=True):
        """Return a copy with the same structure and new stored values.

        Parameters
        ----------
        data : array_like of float, shape (nnz,)
            New values aligned with ``matrix.data``; must be finite.
        has_ratings : bool, default True
            Flag of the result.

        Returns
        -------
        Interactions
        """
        values = _as_values(data, "data", self.nnz)
        m = self._matrix
        return self._rebuild(m.indptr, m.indices, data=values, has_ratings=bool(has_ratings))

    def binarize(self, threshold=None):
        """Keep entries with value strictly greater than ``threshold``, set to 1.0.

        Parameters
        ----------
        threshold : float, optional
            ``None`` keeps every entry (just sets values to 1.0).

        Returns
        -------
        Interactions
            Same shape (rows / columns that lose all entries stay, empty);
            ``has_ratings`` is ``False``.
        """
        if threshold is None:
            mask = np.ones(self.nnz, dtype=bool)
        else:
            mask = self._matrix.data > _check_finite_number(threshold, "threshold")
        return self._select(mask, binary=True)

    def __repr__(self):
        density = self.nnz / max(1, self.n_users * self.n_items)
        kind = "explicit" if self._has_ratings else "implicit"
        ts = "yes" if self._timestamps is not None else "no"
        return (
            f"Interactions(n_users={self.n_users}, n_items={self.n_items}, "
            f"nnz={self.nnz}, density={density:.4%}, {kind}, timestamps={ts})"
        )


def _positions(kept, n):
    """Map old index -> position in the sorted array ``kept`` (-1 for indices not kept)."""
    remap = np.full(n, -1, dtype=np.int64)
    remap[kept] = np.arange(kept.size)
    return remap
