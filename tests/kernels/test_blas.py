"""The BLAS binding (``gemm``, SciPy's OpenBLAS, row-major) against NumPy, every
transpose combination, float32 and float64, and its shape checks."""

import numpy as np
import pytest

from autorec_fast import backends

cpu = backends._cpu


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("trans_a,trans_b", [(False, False), (True, False), (False, True), (True, True)])
def test_gemm_binding_matches_numpy(dtype, trans_a, trans_b):
    rng = np.random.default_rng(10)
    m, k, n = 7, 5, 3
    A = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    B = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    C = rng.standard_normal((m, n)).astype(dtype)
    expect = 2.0 * (A.T if trans_a else A).astype(np.float64) @ (B.T if trans_b else B) + 0.5 * C
    cpu.gemm(A, trans_a, B, trans_b, C, 2.0, 0.5)
    np.testing.assert_allclose(C, expect, rtol=1e-5 if dtype == np.float32 else 1e-12)
    with pytest.raises(ValueError, match="inner dimensions"):
        cpu.gemm(A, not trans_a, B, trans_b, C)
    with pytest.raises(ValueError, match="C"):
        cpu.gemm(A, trans_a, B, trans_b, np.zeros((m + 1, n), dtype))
