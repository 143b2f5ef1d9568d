"""Dense element-wise and gather/scatter kernels against NumPy: bias + activation,
the activation-derivative product and the masked MSE fused with them, sampled_dot
(DeepRec's output layer at the observed ratings only), scatter_add_rows and
squared_norm, in float32 and float64."""

import numpy as np
import pytest

from autorec_fast import backends
from autorec_fast.backends import ACTIVATIONS
from autorec_fast.backends.cpu import squared_norm_host as squared_norm

cpu = backends._cpu


ACT_REF = {
    "identity": (lambda z: z, lambda h: np.ones_like(h)),
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda h: h * (1 - h)),
    "tanh": (np.tanh, lambda h: 1 - h**2),
    "relu": (lambda z: np.maximum(z, 0), lambda h: (h > 0).astype(float)),
    "elu": (lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0))), lambda h: np.where(h > 0, 1.0, h + 1)),
    "selu": (lambda z: 1.0507009873554805 * np.where(z > 0, z, 1.6732632423543772 * np.expm1(np.minimum(z, 0))),
             lambda h: np.where(h > 0, 1.0507009873554805, h + 1.0507009873554805 * 1.6732632423543772)),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(ACT_REF))
def test_dense_elementwise_kernels_match_numpy(dtype, name):
    code = ACTIVATIONS[name]
    rng = np.random.default_rng()
    Z = (rng.standard_normal((7, 300)) * 3).astype(dtype)
    b = rng.standard_normal(300).astype(dtype)
    f, df = ACT_REF[name]
    tol = dict(rtol=2e-6, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    H = Z.copy()
    cpu.bias_activation(H, b, code)
    np.testing.assert_allclose(H, f(Z.astype(np.float64) + b), **tol)
    D = rng.standard_normal(Z.shape).astype(dtype)
    D2 = D.copy()
    cpu.mul_activation_grad(D2, H, code)
    np.testing.assert_allclose(D2, D * df(H.astype(np.float64)), **tol)
    target = np.where(rng.random(Z.shape) < 0.3, rng.integers(1, 6, Z.shape), 0).astype(dtype)
    grad = np.empty_like(H)
    loss = cpu.masked_mse_grad(H, target, code, grad)
    mask = target != 0
    err = np.where(mask, H.astype(np.float64) - target, 0)
    assert loss == pytest.approx(np.sum(err**2) / mask.sum(), rel=1e-5 if dtype == np.float32 else 1e-12)
    np.testing.assert_allclose(grad, 2 * err * df(H.astype(np.float64)) / mask.sum(), **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(ACT_REF))
def test_activations_at_extreme_inputs(dtype, name):
    """Far outside any sane range (a diverging fit, a history value of 1e30): finite
    inputs give finite outputs, the limits at ±inf, NaN stays NaN. The float32 ELU/SELU
    path's vectorised exp once turned -1e10 into NaN (its int32 exponent overflowed)."""
    big = np.finfo(dtype).max
    z = np.array([-big, -1e30, -1e10, -4e9, -1e3, -88.5, -87.5, -20, 0, 20, 1e3, 1e10, big], dtype)
    z = np.tile(z, (3, 40))  # long rows: the vectorised loop, not only its remainder
    H = z.copy()
    cpu.bias_activation(H, np.zeros(z.shape[1], dtype), ACTIVATIONS[name])
    with np.errstate(over="ignore"):
        want = ACT_REF[name][0](z.astype(np.float64)).astype(dtype)
    finite = np.isfinite(want)
    assert np.isfinite(H[finite]).all()
    np.testing.assert_allclose(H[finite], want[finite], rtol=2e-6)
    assert (H[~finite] == want[~finite]).all()  # overflow to ±inf where float64 overflows too
    H = np.array([[np.nan, -np.inf, np.inf] * 8], dtype)
    cpu.bias_activation(H, np.zeros(24, dtype), ACTIVATIONS[name])
    assert np.isnan(H[0, ::3]).all()
    with np.errstate(invalid="ignore"):
        ref = ACT_REF[name][0](np.array([-np.inf, np.inf]))
    np.testing.assert_array_equal(H[0, 1:3], ref.astype(dtype))


def test_sampled_dot_matches_numpy_and_checks_indices():
    rng = np.random.default_rng(3)
    A, B = rng.standard_normal((5, 7)), rng.standard_normal((9, 7))
    rows, cols = np.array([0, 4, 4, 2]), np.array([8, 0, 0, 3])
    np.testing.assert_allclose(cpu.sampled_dot(A, B, rows, cols),
                               np.einsum("ij,ij->i", A[rows], B[cols]), rtol=1e-12)
    assert cpu.sampled_dot(A, B, rows[:0], cols[:0]).shape == (0,)
    with pytest.raises(ValueError, match="cols"):
        cpu.sampled_dot(A, B, rows, np.array([8, 0, 0, 9]))
    with pytest.raises(ValueError, match="B"):
        cpu.sampled_dot(A, B[:, :3], rows, cols)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scatter_add_rows_with_duplicates(dtype):
    rng = np.random.default_rng(5)
    idx = np.array([3, 0, 3, 3, 1], np.int64)
    src = rng.standard_normal((5, 4)).astype(dtype)
    out = rng.standard_normal((6, 4)).astype(dtype)
    expect = out.astype(np.float64).copy()
    np.add.at(expect, idx, src.astype(np.float64))
    cpu.scatter_add_rows(idx, src, out)
    np.testing.assert_allclose(out, expect, rtol=1e-6 if dtype == np.float32 else 1e-12)
    with pytest.raises(ValueError, match="idx"):
        cpu.scatter_add_rows(np.array([6]), src[:1], out)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_squared_norm_matches_numpy(dtype):
    rng = np.random.default_rng()
    for x in (rng.normal(size=(700, 513)).astype(dtype), np.zeros((0, 4), dtype),
              rng.normal(size=(9, 6)).astype(dtype)[:, ::2], np.array([3.0], dtype)):
        assert squared_norm(x) == pytest.approx(float(np.sum(x.astype(np.float64) ** 2)), rel=1e-12)
