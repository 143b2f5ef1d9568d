"""Argument checks shared by the models and the evaluation: each error names the argument."""

from __future__ import annotations

import math
import numbers

import numpy as np
import scipy.sparse as sp

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


def canonical_csr(matrix: sp.spmatrix, dtype, name: str) -> sp.csr_matrix:
    """CSR with sorted indices, no duplicates, int64 indptr / int32 indices, finite values."""
    m = sp.csr_matrix(matrix, dtype=dtype, copy=False)
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


def as_history(history, n_items: int, dtype, name: str = "history") -> sp.csr_matrix:
    """Rows of user histories -> canonical CSR with ``n_items`` columns.

    Accepts an ``Interactions``, any SciPy sparse matrix, or a dense 2-D array.
    """
    from .interactions import Interactions

    if isinstance(history, Interactions):
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
