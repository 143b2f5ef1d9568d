"""Constructors of :class:`~autorec_fast.interactions.Interactions` from user input.

:class:`_Constructors` is the base class holding ``from_arrays``,
``from_scipy`` and ``from_dataframe``: each validates its input, resolves
duplicates and builds the canonical CSR arrays with NumPy (no Python loop
per interaction), then calls the container's internal ``_unchecked``.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_csr
from .coerce import _as_id_array, _as_timestamps, _as_values, _check_ids, _index_of
from .csr import _indptr_from_rows, _resolve_duplicates

_DUPLICATE_MODES = ("last", "sum", "error")


class _Constructors:
    """Class methods building an ``Interactions`` (its base class)."""

    __slots__ = ()

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

        def describe(k):
            return f"user {uids[k // n_items]!r}, item {iids[k % n_items]!r}"

        keep, out_vals, out_ts, out_order = _resolve_duplicates(
            key, values, ts, duplicates, describe
        )
        data = np.ones(keep.size, np.float32) if out_vals is None else out_vals
        if out_vals is not None and not np.isfinite(data.astype(np.float32)).all():
            raise ValueError("ratings overflow float32 after summing duplicates")
        return cls._unchecked(
            _indptr_from_rows(rows[keep], n_users),
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

        Raises
        ------
        TypeError
            ``matrix`` is not a scipy.sparse matrix, or holds non-numeric values.
        ValueError
            A malformed structure (see :func:`autorec_fast._validation.check_csr`:
            row pointers, indices out of range, mismatched lengths), no stored
            entry, or NaN/inf values.
        """
        return cls._from_sparse(
            matrix,
            "matrix",
            timestamps=timestamps,
            user_ids=user_ids,
            item_ids=item_ids,
            has_ratings=has_ratings,
        )

    @classmethod
    def _from_sparse(
        cls, matrix, name, *, timestamps=None, user_ids=None, item_ids=None, has_ratings=None
    ):
        """:meth:`from_scipy`, naming the matrix ``name`` in errors."""
        csr = check_csr(matrix, name)  # structure validated before SciPy runs on it
        if matrix.format == "csr":  # csr shares the caller's arrays: sum_duplicates is in place
            csr = csr.copy()
        csr.sum_duplicates()
        if csr.nnz == 0:
            raise ValueError(f"{name} has no stored entries: no interactions")
        data = _as_values(csr.data, f"{name} values", csr.nnz)
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
