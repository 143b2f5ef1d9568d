"""Argument checks shared by the models and the evaluation: each error names the argument."""

from __future__ import annotations

import math
import numbers

import numpy as np
import scipy.sparse as sp

from ._memory import require_shape

DTYPES = {"float32": np.float32, "float64": np.float64}


def check_dtype(dtype) -> np.dtype:
    """``'float32'``/``'float64'`` (or the NumPy types) -> np.dtype; anything else is a ValueError."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.name not in DTYPES:
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    return dt


def check_positive(value, name: str, *, integer: bool = False, allow_zero: bool = False):
    """A finite number > 0 (>= 0 with allow_zero); integers when ``integer``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if integer and not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return int(value) if integer else float(value)


def check_fraction(value, name: str) -> float:
    """A probability in [0, 1) (dropout, corruption)."""
    value = check_positive(value, name, allow_zero=True)
    if not value < 1:
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return value


_INDEX_DTYPES = (np.dtype(np.int32), np.dtype(np.int64))
_INT32_MAX = np.iinfo(np.int32).max
# what the raw index arrays of each format hold, for the error messages
_COMPRESSED_AXES = {
    "csr": ("row pointers", "column indices"),
    "csc": ("column pointers", "row indices"),
    "bsr": ("block-row pointers", "block-column indices"),
}


def _check_shape(matrix, name: str) -> tuple:
    shape = tuple(matrix.shape)
    if len(shape) != 2:
        raise ValueError(f"{name} must be 2-D, got shape {shape}")
    for n in shape:
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
            raise ValueError(f"{name} must have a shape of two non-negative integers, got {shape}")
    shape = int(shape[0]), int(shape[1])
    require_shape(shape, name)
    return shape


def _check_data(data, name: str, ndim: int = 1) -> np.ndarray:
    data = np.asarray(data)
    if data.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric (bool, integer or float), got dtype {data.dtype}")
    if data.ndim != ndim:
        raise ValueError(
            f"{name}: the stored values (data) must be a {ndim}-D array, got shape {data.shape}"
        )
    return data


def _check_index(arr, name: str, what: str, n_entries=None, bound=None) -> np.ndarray:
    """A raw 1-D integer index array; with ``bound``: every value in [0, bound)."""
    arr = np.asarray(arr)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise ValueError(
            f"{name}: {what} must be a 1-D integer array, got dtype {arr.dtype}, shape {arr.shape}"
        )
    if n_entries is not None and arr.size != n_entries:
        raise ValueError(
            f"{name}: {what} must have one entry per stored value ({n_entries}), got {arr.size}"
        )
    if bound is not None and arr.size:  # compared as stored: nothing is cast, nothing wraps
        lo, hi = arr.min(), arr.max()
        if lo < 0 or hi >= bound:
            raise ValueError(
                f"{name}: {what} must be in [0, {bound}), got values in [{lo}, {hi}]"
            )
    return arr


def _check_compressed(matrix, shape, name: str):
    """The raw arrays of a CSR / CSC / BSR matrix; returns ``indptr, indices, data``."""
    fmt = matrix.format
    ptr_what, idx_what = _COMPRESSED_AXES[fmt]
    n_major, n_minor = shape if fmt != "csc" else shape[::-1]
    data = _check_data(matrix.data, name, 3 if fmt == "bsr" else 1)
    if fmt == "bsr":
        r, c = data.shape[1:]
        if r < 1 or c < 1 or n_major % r or n_minor % c:
            raise ValueError(f"{name}: blocks of shape {(r, c)} do not tile the shape {shape}")
        n_major, n_minor = n_major // r, n_minor // c
    indptr = _check_index(matrix.indptr, name, f"{ptr_what} (indptr)")
    if indptr.size != n_major + 1:
        raise ValueError(
            f"{name}: {ptr_what} (indptr) must have {n_major + 1} entries, got {indptr.size}"
        )
    if indptr[0] != 0:
        raise ValueError(f"{name}: {ptr_what} (indptr) must start at 0, got {indptr[0]}")
    if (indptr[1:] < indptr[:-1]).any():
        raise ValueError(f"{name}: {ptr_what} (indptr) must be non-decreasing")
    indices = _check_index(matrix.indices, name, f"{idx_what} (indices)", data.shape[0])
    nnz = int(indptr[-1])
    if nnz > indices.size:
        raise ValueError(
            f"{name}: {ptr_what} (indptr) end at {nnz} but only {indices.size} entries are stored"
        )
    _check_index(indices[:nnz], name, f"{idx_what} (indices)", bound=n_minor)
    return indptr, indices, data


def _coo_coords(matrix) -> tuple:
    coords = getattr(matrix, "coords", None)  # SciPy >= 1.13; row / col before
    return tuple(coords) if coords is not None else (matrix.row, matrix.col)


def _check_coo(matrix, shape, name: str):
    """The raw arrays of a COO matrix; returns ``row, col, data``."""
    data = _check_data(matrix.data, name)
    coords = _coo_coords(matrix)
    if len(coords) != 2:
        raise ValueError(f"{name}: a 2-D COO matrix needs 2 index arrays, got {len(coords)}")
    row = _check_index(coords[0], name, "row indices (row)", data.size, shape[0])
    col = _check_index(coords[1], name, "column indices (col)", data.size, shape[1])
    return row, col, data


def _scipy_layout(checked, raw, n_index) -> bool:
    """Whether the validated arrays are the matrix's own NumPy arrays in SciPy's layout.

    ``checked`` are the arrays as validated (index arrays first, ``n_index``
    of them, then ``data``), ``raw`` the matrix's attributes: they must be
    the same objects (no list or other array-like set by hand) and the index
    arrays int32 or int64 of one dtype, as SciPy's compiled routines expect.
    """
    dt = checked[0].dtype
    return (
        all(a is r for a, r in zip(checked, raw))
        and dt in _INDEX_DTYPES
        and all(a.dtype == dt for a in checked[:n_index])
    )


def _as_float(data: np.ndarray) -> np.ndarray:
    """Integer or bool values as float64, before SciPy sums duplicates in their own dtype
    (int64 sums wrap around silently; bool sums saturate at True)."""
    return data if data.dtype.kind == "f" else data.astype(np.float64)


def check_csr(matrix, name: str) -> sp.csr_matrix:
    """The one entry check of user sparse matrices: validate, then return a CSR matrix.

    Before SciPy touches it, the structure of ``matrix`` is checked with
    NumPy in O(nnz), so that a malformed matrix raises a ``ValueError``
    naming ``name`` instead of crashing SciPy's compiled routines: a 2-D
    shape of non-negative sizes; for CSR / CSC / BSR the raw arrays (1-D
    integer ``indptr`` / ``indices`` and numeric ``data`` of matching
    lengths, ``indptr`` of one entry per row (column, block row) plus one,
    starting at 0, non-decreasing, ending at most at the number of stored
    indices, every index in range); for COO row / column arrays of the
    length of ``data``, every index in range. Indices are compared as stored
    (an int64 index beyond int32 is valid if in range, never wrapped).
    LIL, DOK and DIA matrices, which hold no such raw arrays, are converted
    by SciPy and the result is checked.

    Returns a ``csr_matrix`` with the same entries in SciPy's own conversion:
    for a CSR input, a new object sharing its arrays (no copy; index arrays
    of another integer dtype are converted to int64); otherwise SciPy's
    ``tocsr`` of the validated input. Duplicates and unsorted indices are
    left as they are (``has_canonical_format`` is recomputed, not taken from
    the input's flags). Integer and bool values come back as float64, so that
    summing duplicates later cannot wrap around. A non-numeric (object, complex, ...) ``data`` is a
    ``TypeError``.
    """
    if not sp.issparse(matrix):
        raise TypeError(f"{name} must be a scipy.sparse matrix, got {type(matrix).__name__}")
    shape = _check_shape(matrix, name)
    fmt = matrix.format
    if fmt in _COMPRESSED_AXES:
        checked = _check_compressed(matrix, shape, name)
        floating = checked[2].dtype.kind == "f"
        if floating and _scipy_layout(checked, (matrix.indptr, matrix.indices, matrix.data), 2):
            if fmt == "csr":  # a new object sharing the arrays: no copy, no cached flags
                return sp.csr_matrix(matrix)
        else:  # e.g. uint16 arrays set by hand: int64 arrays of the stored entries
            indptr, indices, data = checked
            nnz = int(indptr[-1])
            rebuilt = (_as_float(data[:nnz]), indices[:nnz].astype(np.int64), indptr.astype(np.int64))
            matrix = {"csr": sp.csr_matrix, "csc": sp.csc_matrix, "bsr": sp.bsr_matrix}[fmt](
                rebuilt, shape=shape
            )
    elif fmt == "coo":
        row, col, data = checked = _check_coo(matrix, shape, name)
        if data.dtype.kind != "f" or not _scipy_layout(checked, (*_coo_coords(matrix), matrix.data), 2):
            coords = (row.astype(np.int64), col.astype(np.int64))
            matrix = sp.coo_matrix((_as_float(data), coords), shape=shape)
    else:  # LIL, DOK, DIA: no raw index arrays to check; SciPy converts, the result is checked
        try:
            matrix = matrix.tocsr()
        except (ValueError, TypeError, IndexError, KeyError) as exc:
            raise ValueError(f"{name}: cannot convert the {fmt} matrix to CSR: {exc}") from exc
        return check_csr(matrix, name)
    return check_csr(sp.csr_matrix(matrix), name)  # SciPy's conversion of a validated matrix


def canonical_csr(matrix: sp.spmatrix, dtype, name: str) -> sp.csr_matrix:
    """CSR with sorted indices, no duplicates, int64 indptr / int32 indices, finite values.

    ``matrix`` goes through :func:`check_csr` first; more than 2**31 - 1
    columns (indices beyond int32) is a ``ValueError``.
    """
    m = check_csr(matrix, name)  # the width check below runs on a validated shape
    if m.shape[1] > _INT32_MAX:
        raise ValueError(
            f"{name} has {m.shape[1]} columns; at most 2**31 - 1 are supported "
            f"(column indices are stored as int32)"
        )
    m = sp.csr_matrix(m, dtype=dtype, copy=False)
    if not m.has_canonical_format:
        m = m.copy()
        m.sum_duplicates()
    if m.data.size and not np.isfinite(m.data).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    indptr = m.indptr.astype(np.int64, copy=False)
    indices = m.indices.astype(np.int32, copy=False)
    out = sp.csr_matrix((m.data, indices, indptr), shape=m.shape, copy=False)
    out.has_canonical_format = True
    return out


def check_item_labels(history, item_ids, name: str) -> None:
    """An ``Interactions`` history must label its columns with the model's item ids
    (``item_ids``), or carry no labels of its own (0..n-1, as built from a matrix):
    columns are read by position, so other labels would score the wrong items."""
    if item_ids is None or history.n_items != len(item_ids):
        return  # a wrong column count is reported by the caller
    labels = history.item_ids
    if np.array_equal(labels, item_ids) or np.array_equal(labels, np.arange(len(labels))):
        return
    how = ("are the model's in another order" if set(labels.tolist()) == set(np.asarray(item_ids).tolist())
           else "are not the model's")
    raise ValueError(f"{name}: its item ids {how} (columns are read by position); build it with "
                     f"item_ids=model.item_ids, or pass a DataFrame in original ids")


def as_history(history, n_items: int, dtype, name: str = "history", item_ids=None) -> sp.csr_matrix:
    """Rows of user histories -> canonical CSR with ``n_items`` columns.

    Accepts an ``Interactions`` (labelled with the model's ``item_ids`` when given:
    :func:`check_item_labels`), any SciPy sparse matrix, or a dense 2-D array.
    """
    from .interactions import Interactions

    if isinstance(history, Interactions):
        check_item_labels(history, item_ids, name)
        m = history.matrix
    elif sp.issparse(history):
        m = history
    elif isinstance(history, np.ndarray):
        if history.ndim == 1:
            history = history[None, :]
        if history.ndim != 2:
            raise ValueError(f"{name} must be 2-D (users x items), got shape {history.shape}")
        if not np.issubdtype(history.dtype, np.number) and history.dtype != bool:
            raise TypeError(f"{name} must be numeric, got dtype {history.dtype}")
        m = sp.csr_matrix(history)
    else:
        raise TypeError(
            f"{name} must be an Interactions, a scipy.sparse matrix or a 2-D NumPy array, "
            f"got {type(history).__name__}"
        )
    if m.ndim != 2 or m.shape[1] != n_items:
        raise ValueError(f"{name} must have {n_items} columns (the model's items), got shape {m.shape}")
    return canonical_csr(m, dtype, name)


def check_k(k, n_items: int, name: str = "k") -> int:
    """1 <= k <= n_items."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {k!r}")
    if k <= 0 or k > n_items:
        raise ValueError(f"{name} must be between 1 and the number of items ({n_items}), got {k}")
    return int(k)
