"""User x item interaction container.

:class:`Interactions` holds a canonical CSR matrix (users as rows, items as
columns) together with the original user/item ids, optional per-entry
timestamps, and the position of every entry in the original input (its
*entry order*), which some protocols (e.g. the strong-generalization recipe of
Liang et al. 2018) depend on.

All constructors are vectorised with numpy; no Python loop runs per
interaction.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

__all__ = ["Interactions", "as_interactions"]

_DUPLICATE_MODES = ("last", "sum", "error")
_ID_KINDS = "iufUSO"


# ---------------------------------------------------------------------------
# validation helpers (module private, reused by datasets.py / splits.py)
# ---------------------------------------------------------------------------
def _as_id_array(values, name):
    """Return ``values`` as a 1-D id array, rejecting unusable dtypes/NaN."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {arr.shape}")
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


def _as_values(values, name, n):
    """Return ``values`` as a finite float32 vector of length ``n``."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"{name} has length {arr.shape[0]}, expected {n}")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    arr64 = arr.astype(np.float64, copy=False)
    if not np.isfinite(arr64).all():
        raise ValueError(f"{name} contains NaN or inf values")
    return arr64


def _as_timestamps(values, name, n):
    """Return ``values`` as an int64 vector of length ``n``.

    Accepts integer arrays, integer-valued float arrays and ``datetime64``
    arrays (converted to whole seconds since the Unix epoch).
    """
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"{name} has length {arr.shape[0]}, expected {n}")
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
    try:
        sorter = np.argsort(ids, kind="stable")
        sids = ids[sorter]
        if sids.size > 1 and (sids[1:] == sids[:-1]).any():
            raise ValueError(f"{ids_name} contains duplicate ids")
        if sids.size == 0:
            raise ValueError(f"{ids_name} is empty but {name} is not")
        pos = np.searchsorted(sids, values)
    except TypeError as exc:
        raise TypeError(
            f"{name} (dtype {np.asarray(values).dtype}) cannot be compared with "
            f"{ids_name} (dtype {ids.dtype}): {exc}"
        ) from None
    np.minimum(pos, sids.size - 1, out=pos)
    found = sids[pos] == values
    if not np.all(found):
        missing = np.unique(np.asarray(values)[~found])[:5]
        raise ValueError(
            f"{name} contains {int((~found).sum())} entries whose ids are not in "
            f"{ids_name}, e.g. {missing.tolist()}"
        )
    return sorter[pos].astype(np.int64, copy=False), ids.copy()


def _index_dtype(n_max):
    return np.int32 if n_max < np.iinfo(np.int32).max else np.int64


def _readonly(arr):
    arr.setflags(write=False)
    return arr


def _row_of_entries(indptr, n_rows):
    """Row index of every stored entry of a CSR matrix (int64)."""
    return np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(indptr))


# ---------------------------------------------------------------------------
# the container
# ---------------------------------------------------------------------------
class Interactions:
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
    user_ids, item_ids : numpy.ndarray
        Original ids of the rows / columns (read-only arrays).
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
        if matrix.ndim != 2:
            raise ValueError(f"matrix must be 2-D, got shape {matrix.shape}")
        n_users, n_items = matrix.shape
        indptr = np.asarray(matrix.indptr)
        indices = np.asarray(matrix.indices)
        # canonical check (vectorised): sorted, strictly increasing per row
        if indices.size > 1:
            d = np.diff(indices.astype(np.int64))
            row_starts = indptr[1:-1]
            row_starts = row_starts[(row_starts > 0) & (row_starts < indices.size)]
            ok = d > 0
            ok[row_starts - 1] = True  # row boundaries may decrease
            if not ok.all():
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

    # -- internal fast constructor -----------------------------------------
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
        n_users, n_items = m.shape
        if rows is not None:
            remap = np.full(n_users, -1, dtype=np.int64)
            remap[rows] = np.arange(rows.size)
            row_of = remap[row_of]
            user_ids = user_ids[rows]
            n_users = rows.size
        if cols is not None:
            remap = np.full(n_items, -1, dtype=np.int64)
            remap[cols] = np.arange(cols.size)
            col_of = remap[col_of]
            item_ids = item_ids[cols]
            n_items = cols.size
        indptr = np.zeros(n_users + 1, dtype=np.int64)
        np.cumsum(np.bincount(row_of, minlength=n_users), out=indptr[1:])
        has_ratings = self._has_ratings if binary is None else not binary
        data = np.ones(keep.size, np.float32) if binary else m.data[keep]
        return Interactions._unchecked(
            indptr,
            col_of,
            data,
            (n_users, n_items),
            user_ids=user_ids,
            item_ids=item_ids,
            timestamps=None if self._timestamps is None else self._timestamps[keep],
            entry_order=self._entry_order[keep],
            has_ratings=has_ratings,
        )

    # -- properties ------------------------------------------------------------
    @property
    def matrix(self):
        """scipy.sparse.csr_matrix: canonical float32 ``(n_users, n_items)`` matrix."""
        return self._matrix

    @property
    def user_ids(self):
        """numpy.ndarray: original id of each row."""
        return self._user_ids

    @property
    def item_ids(self):
        """numpy.ndarray: original id of each column."""
        return self._item_ids

    @property
    def timestamps(self):
        """numpy.ndarray or None: int64 timestamps aligned with ``matrix.data``."""
        return self._timestamps

    @property
    def entry_order(self):
        """numpy.ndarray: int64 input position of each entry (aligned with ``matrix.data``)."""
        return self._entry_order

    @property
    def has_ratings(self):
        """bool: ``False`` for implicit feedback (all values 1.0)."""
        return self._has_ratings

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

    # -- constructors ------------------------------------------------------------
    @classmethod
    def from_arrays(
        cls,
        users,
        items,
        ratings=None,
        timestamps=None,
        *,
        user_ids=None,
        item_ids=None,
        duplicates="last",
    ):
        """Build from parallel arrays of (user, item[, rating, timestamp]).

        Parameters
        ----------
        users, items : array_like, shape (n,)
            Original ids (integers, floats or strings). They are labels, not
            indices: negative integers are allowed.
        ratings : array_like of float, shape (n,), optional
            Interaction values. ``None`` builds implicit data (all 1.0,
            ``has_ratings=False``). NaN/inf raise ``ValueError``; zeros are
            kept as entries.
        timestamps : array_like, shape (n,), optional
            Integer-valued (ints, integral floats or ``datetime64``, the
            latter converted to seconds); stored as int64.
        user_ids, item_ids : array_like, optional
            Define the row / column index space in the given order (ids
            without interactions become empty rows/columns). Ids in
            ``users`` / ``items`` not listed raise ``ValueError``. By default
            the sorted unique ids are used.
        duplicates : {"last", "sum", "error"}, default "last"
            How repeated (user, item) pairs are resolved. ``"last"`` keeps the
            entry appearing last in input order, or the one with the latest
            timestamp when ``timestamps`` is given (ties: last in input
            order). ``"sum"`` adds the ratings, keeps the latest timestamp and
            the earliest input position; for implicit data the value stays
            1.0 (pass ``ratings=np.ones(n)`` to count repeats). ``"error"``
            raises ``ValueError``.

        Returns
        -------
        Interactions
            ``entry_order`` is the position of each kept entry in the input
            arrays.

        Raises
        ------
        ValueError
            Mismatched lengths, empty input, NaN/inf values, ids outside
            ``user_ids``/``item_ids``, duplicates under ``"error"``, or an
            unknown ``duplicates`` mode.
        TypeError
            Unsupported dtypes.
        """
        if duplicates not in _DUPLICATE_MODES:
            raise ValueError(
                f"duplicates must be one of {_DUPLICATE_MODES}, got {duplicates!r}"
            )
        users = _as_id_array(users, "users")
        items = _as_id_array(items, "items")
        n = users.shape[0]
        if items.shape[0] != n:
            raise ValueError(
                f"items has length {items.shape[0]} but users has length {n}"
            )
        if n == 0:
            raise ValueError("users and items are empty: no interactions to build")
        values = None if ratings is None else _as_values(ratings, "ratings", n)
        ts = None if timestamps is None else _as_timestamps(timestamps, "timestamps", n)
        rows, uids = _index_of(users, user_ids, "users", "user_ids")
        cols, iids = _index_of(items, item_ids, "items", "item_ids")
        n_users, n_items = uids.shape[0], iids.shape[0]

        key = rows * np.int64(n_items) + cols
        if key.size < 2 or (key[1:] > key[:-1]).all():
            order = np.arange(n, dtype=np.int64)  # already canonical
        elif ts is not None and duplicates == "last":
            order = np.lexsort((ts, key))  # stable: ties keep input order
        else:
            order = np.argsort(key, kind="stable")
        skey = key[order]
        new_group = np.empty(n, dtype=bool)
        new_group[0] = True
        np.not_equal(skey[1:], skey[:-1], out=new_group[1:])
        if new_group.all():
            keep = order
            out_vals = None if values is None else values[keep]
            out_ts = None if ts is None else ts[keep]
            out_order = keep
        elif duplicates == "error":
            dup = np.flatnonzero(~new_group)[0]
            k = skey[dup]
            raise ValueError(
                f"duplicates='error' but {int((~new_group).sum())} repeated "
                f"(user, item) pairs were found, e.g. user "
                f"{uids[k // n_items]!r}, item {iids[k % n_items]!r}"
            )
        elif duplicates == "last":
            is_last = np.empty(n, dtype=bool)
            is_last[-1] = True
            is_last[:-1] = new_group[1:]
            keep = order[is_last]
            out_vals = None if values is None else values[keep]
            out_ts = None if ts is None else ts[keep]
            out_order = keep
        else:  # sum
            starts = np.flatnonzero(new_group)
            keep = order[starts]
            out_vals = None if values is None else np.add.reduceat(values[order], starts)
            out_ts = None if ts is None else np.maximum.reduceat(ts[order], starts)
            out_order = np.minimum.reduceat(order, starts)
        krows = rows[keep]
        indptr = np.zeros(n_users + 1, dtype=np.int64)
        np.cumsum(np.bincount(krows, minlength=n_users), out=indptr[1:])
        data = np.ones(keep.size, np.float32) if out_vals is None else out_vals
        if out_vals is not None and not np.isfinite(data.astype(np.float32)).all():
            raise ValueError("ratings overflow float32 after summing duplicates")
        return cls._unchecked(
            indptr,
            cols[keep],
            data,
            (n_users, n_items),
            user_ids=uids,
            item_ids=iids,
            timestamps=out_ts,
            entry_order=out_order,
            has_ratings=values is not None,
        )

    @classmethod
    def from_scipy(
        cls, matrix, *, timestamps=None, user_ids=None, item_ids=None, has_ratings=None
    ):
        """Build from any scipy.sparse matrix or array.

        The matrix is copied and canonicalised as scipy does it
        (``tocsr()`` + ``sum_duplicates()``): duplicate stored entries are
        **summed**, column indices sorted. Explicitly stored zeros are kept
        as entries. Empty rows / columns are kept.

        Parameters
        ----------
        matrix : scipy.sparse matrix or array, shape (n_users, n_items)
            Must hold at least one stored entry; values must be finite.
        timestamps : array_like, optional
            One integer timestamp per entry of the *canonical* CSR form of
            ``matrix`` (same order as ``matrix.tocsr()`` after
            ``sum_duplicates()``).
        user_ids, item_ids : array_like, optional
            Unique labels for rows / columns; default ``arange``.
        has_ratings : bool, optional
            Whether the values are ratings. Default: inferred, ``False`` iff
            every stored value equals 1.0.

        Returns
        -------
        Interactions
            ``entry_order`` is the canonical CSR order.
        """
        if not sp.issparse(matrix):
            raise TypeError(
                f"matrix must be a scipy.sparse matrix, got {type(matrix).__name__}"
            )
        if matrix.ndim != 2:
            raise ValueError(f"matrix must be 2-D, got shape {matrix.shape}")
        if matrix.dtype.kind not in "biuf":
            raise TypeError(f"matrix must be numeric, got dtype {matrix.dtype}")
        csr = sp.csr_matrix(matrix, copy=True)
        csr.sum_duplicates()
        if csr.nnz == 0:
            raise ValueError("matrix has no stored entries: no interactions")
        data = _as_values(csr.data, "matrix values", csr.nnz)
        if has_ratings is None:
            has_ratings = not bool((data == 1.0).all())
        n_users, n_items = csr.shape
        return cls._unchecked(
            csr.indptr,
            csr.indices,
            data,
            csr.shape,
            user_ids=None if user_ids is None else _check_ids(user_ids, n_users, "user_ids"),
            item_ids=None if item_ids is None else _check_ids(item_ids, n_items, "item_ids"),
            timestamps=None
            if timestamps is None
            else _as_timestamps(timestamps, "timestamps", csr.nnz),
            has_ratings=has_ratings,
        )

    @classmethod
    def from_dataframe(
        cls,
        df,
        user_col="user",
        item_col="item",
        rating_col=None,
        timestamp_col=None,
        **kw,
    ):
        """Build from a pandas-like DataFrame (duck-typed, pandas not imported).

        Parameters
        ----------
        df : DataFrame-like
            Any object with ``.columns`` supporting ``df[col].to_numpy()``.
        user_col, item_col : str
            Columns holding the user / item ids.
        rating_col, timestamp_col : str, optional
            Columns holding ratings / timestamps (``None``: not used, so the
            result is implicit when ``rating_col`` is ``None``).
        **kw
            Passed to :meth:`from_arrays` (``user_ids``, ``item_ids``,
            ``duplicates``). Row order of ``df`` defines ``entry_order``.

        Returns
        -------
        Interactions
        """
        if not (hasattr(df, "columns") and hasattr(df, "__getitem__")):
            raise TypeError(
                f"df must be a DataFrame-like object with .columns, got "
                f"{type(df).__name__}"
            )
        columns = list(df.columns)

        def col(name, arg):
            if name not in columns:
                raise ValueError(
                    f"{arg}={name!r} is not a column of df (columns: {columns})"
                )
            c = df[name]
            return c.to_numpy() if hasattr(c, "to_numpy") else np.asarray(c)

        users = col(user_col, "user_col")
        items = col(item_col, "item_col")
        ratings = None if rating_col is None else col(rating_col, "rating_col")
        ts = None if timestamp_col is None else col(timestamp_col, "timestamp_col")
        return cls.from_arrays(users, items, ratings, ts, **kw)

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
        m = self._matrix
        indptr = m.indptr.astype(np.int64)
        lengths = np.diff(indptr)[rows]
        new_indptr = np.zeros(rows.size + 1, dtype=np.int64)
        np.cumsum(lengths, out=new_indptr[1:])
        gather = np.repeat(indptr[rows] - new_indptr[:-1], lengths) + np.arange(
            new_indptr[-1], dtype=np.int64
        )
        return Interactions._unchecked(
            new_indptr,
            m.indices[gather],
            m.data[gather],
            (rows.size, self.n_items),
            user_ids=self._user_ids[rows],
            item_ids=self._item_ids,
            timestamps=None if self._timestamps is None else self._timestamps[gather],
            entry_order=self._entry_order[gather],
            has_ratings=self._has_ratings,
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
        return Interactions._unchecked(
            m.indptr,
            m.indices,
            values,
            m.shape,
            user_ids=self._user_ids,
            item_ids=self._item_ids,
            timestamps=self._timestamps,
            entry_order=self._entry_order,
            has_ratings=has_ratings,
        )

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
            if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
                raise TypeError(f"threshold must be a real number, got {threshold!r}")
            if not np.isfinite(threshold):
                raise ValueError(f"threshold must be finite, got {threshold!r}")
            mask = self._matrix.data > threshold
        return self._select(mask, binary=True)

    def __repr__(self):
        density = self.nnz / max(1, self.n_users * self.n_items)
        kind = "explicit" if self._has_ratings else "implicit"
        ts = "yes" if self._timestamps is not None else "no"
        return (
            f"Interactions(n_users={self.n_users}, n_items={self.n_items}, "
            f"nnz={self.nnz}, density={density:.4%}, {kind}, timestamps={ts})"
        )


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


# ---------------------------------------------------------------------------
# generic conversion
# ---------------------------------------------------------------------------
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
        * scipy.sparse matrix/array: :meth:`Interactions.from_scipy`.
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
        return Interactions.from_scipy(data, **kw)
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
        return Interactions.from_scipy(sp.csr_matrix(data), **kw)
    raise TypeError(
        "data must be an Interactions, a scipy.sparse matrix, a DataFrame, a "
        "(users, items[, ratings]) tuple or a 2-D numpy array, got "
        f"{type(data).__name__}"
    )
