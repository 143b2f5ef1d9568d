"""The CUDA backend's device-side CSR operations (backends/_device_csr.py) are
written for any array module: here they run on NumPy against SciPy's row
slicing and the C++ transposed pattern, on fresh random inputs."""

import numpy as np
import pytest
import scipy.sparse as sp

from autorec_fast.backends import _cpu
from autorec_fast.backends._device_csr import ResidentCSR, csr_rows, transpose_pattern


def random_csr(rng, n_rows, n_cols, density, dtype):
    dense = np.where(rng.random((n_rows, n_cols)) < density, rng.standard_normal((n_rows, n_cols)), 0)
    dense[0] = 0  # an empty row
    X = sp.csr_matrix(dense.astype(dtype))
    X.indptr = X.indptr.astype(np.int64)
    X.indices = X.indices.astype(np.int32)
    return X


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,density", [((50, 30), 0.2), ((1, 1), 1.0), ((7, 1), 0.5), ((20, 40), 0.0)])
def test_rows_and_transposed_pattern_match_scipy_and_the_cpp_kernel(device, dtype, shape, density):
    """On NumPy here; on CuPy (the arrays the CUDA backend gives the kernels) with a GPU."""
    if device == "cuda":
        import cupy as xp

        host = xp.asnumpy
    else:
        xp, host = np, np.asarray
    rng = np.random.default_rng()
    X = random_csr(rng, *shape, density, dtype)
    M = ResidentCSR(xp, X, dtype)
    for rows in (np.sort(rng.choice(shape[0], size=min(5, shape[0]), replace=False)),
                 np.array([shape[0] - 1, 0, shape[0] - 1]),  # any order, duplicates
                 np.array([0]), np.zeros(0, np.int64)):
        rows = rows.astype(np.int64)
        got = csr_rows(xp, M.indptr, M.indices, M.data, xp.asarray(rows), M.count(rows))
        indptr, indices, data = (host(a) for a in got)
        want = X[rows]
        np.testing.assert_array_equal(indptr, want.indptr)
        np.testing.assert_array_equal(indices, want.indices)
        np.testing.assert_array_equal(data, want.data)
        assert indptr.dtype == np.int64 and indices.dtype == np.int32 and data.dtype == dtype
        got = transpose_pattern(xp, *got[:2], shape[1])
        ref = _cpu.transpose_pattern(indptr, indices, shape[1])
        for g, r, dt in zip((host(a) for a in got), ref, (np.int64, np.int32, np.int64)):
            np.testing.assert_array_equal(g, r)
            assert g.dtype == dt
