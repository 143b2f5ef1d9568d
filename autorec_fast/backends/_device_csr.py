"""CSR operations in array-module-generic form (``xp`` is NumPy or CuPy), so the
CUDA backend can slice batches and build their transposed patterns on the
device, and the tests can check the very same code against SciPy and the C++
kernels on the CPU."""

from __future__ import annotations

import numpy as np


class ResidentCSR:
    """A training matrix kept on the device for the whole fit: its host SciPy CSR
    (``host``) and device copies of indptr (int64), indices (int32) and data,
    uploaded once, on first use (models that slice their batches on the host
    never upload it)."""

    def __init__(self, xp, X, dtype):
        self.host = X
        self.shape = X.shape
        self._xp, self._dtype, self._device = xp, dtype, None

    def _arrays(self):
        if self._device is None:
            xp, X = self._xp, self.host
            self._device = (xp.asarray(X.indptr, dtype=np.int64), xp.asarray(X.indices, dtype=np.int32),
                            xp.asarray(X.data, dtype=self._dtype))
        return self._device

    def count(self, rows) -> int:
        """The number of entries in ``rows`` (host row ids), counted on the host:
        reading it back from the device would wait for the device every batch."""
        indptr = self.host.indptr
        return int((indptr[rows + 1] - indptr[rows]).sum())

    indptr = property(lambda self: self._arrays()[0])
    indices = property(lambda self: self._arrays()[1])
    data = property(lambda self: self._arrays()[2])


def _row_of_positions(xp, indptr, n_positions):
    """The row of each position 0..n_positions-1 of a CSR with row pointers ``indptr``."""
    return xp.searchsorted(indptr[1:], xp.arange(n_positions, dtype=np.int64), side="right")


def csr_rows(xp, indptr, indices, data, rows, nnz):
    """Rows ``rows`` (int64, any order) of a CSR as (indptr int64, indices, data);
    ``nnz``, their number of entries, comes from the host (:meth:`ResidentCSR.count`)."""
    starts = indptr[rows]
    counts = indptr[rows + 1] - starts
    out_indptr = xp.zeros(rows.shape[0] + 1, dtype=np.int64)
    xp.cumsum(counts, out=out_indptr[1:])
    row_of = _row_of_positions(xp, out_indptr, nnz)
    src = starts[row_of] + xp.arange(nnz, dtype=np.int64) - out_indptr[row_of]
    return out_indptr, indices[src], data[src]


def transpose_pattern(xp, indptr, indices, n_cols):
    """CSC view of a CSR pattern: (colptr int64, row int32 of each entry grouped by
    column, rows ascending within a column; entry int64, its CSR position), as the
    C++ ``transpose_pattern`` builds it. Nothing is read back to the host."""
    nnz = indices.shape[0]
    position = xp.arange(nnz, dtype=np.int64)
    # unique keys (column, position): any sort gives the one order the kernels expect
    entry = xp.argsort(indices.astype(np.int64) * max(nnz, 1) + position)
    row = _row_of_positions(xp, indptr, nnz)[entry].astype(np.int32)
    # each column's first entry by binary search in the sorted columns (CuPy's
    # bincount reads the largest index back to the host: a wait per batch)
    sorted_cols = indices[entry].astype(np.int64)
    colptr = xp.searchsorted(sorted_cols, xp.arange(n_cols + 1, dtype=np.int64), side="left").astype(np.int64, copy=False)
    return colptr, row, entry.astype(np.int64)
