"""Loss kernels against NumPy float64 references: the fused multinomial NLL of
Mult-VAE / Mult-DAE (softmax over all items) and CDAE's logistic loss over
every item, with its NumPy/CuPy formulation. (The masked MSE of DeepRec is
checked with the activation kernels it is fused with, in test_dense_ops.py.)"""

import numpy as np
import pytest
import scipy.sparse as sp
from helpers import log_softmax

from autorec_fast import backends

cpu = backends._cpu


# ------------------------------------------------------------------ multinomial

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_multinomial_kernel_matches_numpy(dtype):
    rng = np.random.default_rng()
    B, n = 9, 300
    logits = (rng.standard_normal((B, n)) * 5).astype(dtype)
    bias = rng.standard_normal(n).astype(dtype)
    X = sp.random(B, n, density=0.05, format="csr", random_state=rng, dtype=np.float64)
    X.data = rng.integers(1, 4, X.nnz).astype(np.float64)  # counts too
    X = X.tolil()
    X[3, :] = 0  # an empty row: no loss, gradient 0
    X = X.tocsr().astype(dtype)
    z = logits.astype(np.float64) + bias
    x = X.toarray().astype(np.float64)
    ref_loss = -np.sum(x * log_softmax(z)) / B
    ref_grad = (np.exp(log_softmax(z)) * x.sum(1, keepdims=True) - x) / B
    out = logits.copy()
    loss = cpu.multinomial_nll_grad(out, bias, X.indptr.astype(np.int64), X.indices.astype(np.int32),
                                    X.data, 1.0 / B)
    tol = 2e-5 if dtype == np.float32 else 1e-12
    assert loss == pytest.approx(ref_loss, rel=tol)
    np.testing.assert_allclose(out, ref_grad, rtol=tol * 10, atol=tol / 10)
    assert np.all(out[3] == 0)


def test_multinomial_kernel_extreme_logits():
    # -1e10 and -3e38 below the row maximum: the vectorised exp's int32 exponent once
    # overflowed there and returned NaN (a diverging fit's logits)
    logits = np.array([[1000.0, -1000.0, 0.0], [-90.0, -95.0, -200.0], [0.0, -1e10, -3e38]], np.float32)
    X = sp.csr_matrix(np.array([[0, 1, 0], [1, 0, 1], [1, 0, 0]], np.float32))
    out = logits.copy()
    loss = cpu.multinomial_nll_grad(out, None, X.indptr.astype(np.int64), X.indices.astype(np.int32),
                                    X.data, 1.0)
    ref = -(log_softmax(logits.astype(np.float64)) * X.toarray()).sum()
    assert np.isfinite(loss) and loss == pytest.approx(ref, rel=1e-5)
    assert np.all(np.isfinite(out))


# --------------------------------------------------------------------- logistic

def _logistic_reference(Z, bias, Y):
    """NumPy float64: Σ softplus(z) − y·z over every entry, and σ(z) − y."""
    z = Z.astype(np.float64) + bias.astype(np.float64)
    y = Y.toarray().astype(np.float64)
    loss = np.logaddexp(0.0, z).sum() - (y * z).sum()
    return loss, 1.0 / (1.0 + np.exp(-z)) - y


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logistic_loss_kernel_matches_numpy(dtype):
    rng = np.random.default_rng()
    n_rows, n = 37, 1000  # several 256-wide blocks and a partial one
    Z = (rng.standard_normal((n_rows, n)) * 6).astype(dtype)
    Z[0, :5] = [-90.0, 90.0, 0.0, -20.0, 20.0]  # saturated both ways, and exactly 0
    bias = rng.standard_normal(n).astype(dtype)
    dense = rng.random((n_rows, n)) < 0.02
    dense[1] = False  # a row without targets
    dense[2, :] = True  # and one where every item is a target
    Y = sp.csr_matrix(np.where(dense, rng.uniform(0.5, 2.0, dense.shape), 0).astype(dtype))
    Y.sum_duplicates()
    ref_loss, ref_grad = _logistic_reference(Z, bias, Y)
    out = Z.copy()
    loss = backends._cpu.logistic_loss_grad(out, bias, Y.indptr.astype(np.int64), Y.indices, Y.data)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert loss == pytest.approx(ref_loss, rel=tol)
    np.testing.assert_allclose(out, ref_grad, rtol=tol, atol=tol)
    # the NumPy/CuPy formulation the GPU runs, on NumPy
    from autorec_fast.backends.cuda import logistic_loss_grad_xp
    z = Z + bias
    rows = np.repeat(np.arange(n_rows), np.diff(Y.indptr))
    loss_xp, grad_xp = logistic_loss_grad_xp(np, z, rows * n + Y.indices, Y.data)
    assert loss_xp == pytest.approx(ref_loss, rel=tol)
    np.testing.assert_allclose(grad_xp, ref_grad, rtol=tol, atol=tol)
    with pytest.raises(ValueError, match="Y"):
        backends._cpu.logistic_loss_grad(Z.copy(), bias, Y.indptr[:-1].astype(np.int64), Y.indices, Y.data)
    with pytest.raises(ValueError, match="bias"):
        backends._cpu.logistic_loss_grad(Z.copy(), bias[:-1], Y.indptr.astype(np.int64), Y.indices, Y.data)
