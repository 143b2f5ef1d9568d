"""The masked sparse-layer kernel AutoRec and CDAE train through (``autorec_batch``):
gradients against finite differences of a NumPy float64 reference (squared and
logistic losses), float32 against float64, the fused optimizer steps against
NumPy, bad arrays, and batches given as rows of whole matrices."""

import numpy as np
import pytest
import scipy.sparse as sp

from autorec_fast import backends
from autorec_fast.backends import ACTIVATIONS, OPTIMIZERS

cpu = backends._cpu

ACT = {
    "identity": lambda z: z,
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
    "elu": lambda z: np.where(z > 0, z, np.expm1(z)),
    "selu": lambda z: 1.0507009873554805 * np.where(z > 0, z, 1.6732632423543772 * np.expm1(z)),
}


def reference_objective(X, Y, params, hidden, output, l2s, loss="squared"):
    """Σ over target entries (duplicates count twice) of (f(W_u·h + b_u) − y)² (or the
    logistic loss of sigmoid(W_u·h + b_u) against y) + l2s/2 (‖W‖² + ‖V‖²)."""
    Vt, mu, W, b = params
    total = 0.0
    for r in range(X.shape[0]):
        z = mu.copy()
        for p in range(X.indptr[r], X.indptr[r + 1]):
            z = z + X.data[p] * Vt[X.indices[p]]
        h = ACT[hidden](z)
        for p in range(Y.indptr[r], Y.indptr[r + 1]):
            u = Y.indices[p]
            y = W[u] @ h + b[u]
            if loss == "logistic":
                # -(t log σ(y) + (1 - t) log(1 - σ(y))) in its stable form: log(1 - σ(y))
                # for a saturated y would lose the digits the finite differences need
                t = Y.data[p]
                total += np.logaddexp(0.0, y) - t * y
            else:
                total += (ACT[output](y) - Y.data[p]) ** 2
    return total + 0.5 * l2s * (np.sum(W**2) + np.sum(Vt**2))


def raw_csr(rows, n_cols, rng, dup=False):
    """CSR built by hand (rows: list of entry counts), optionally with a duplicate entry."""
    indptr = np.zeros(len(rows) + 1, np.int64)
    indices, data = [], []
    for r, n in enumerate(rows):
        cols = list(rng.choice(n_cols, size=n, replace=False))
        if dup and n:
            cols.append(cols[0])
        indices += cols
        data += list(rng.integers(1, 6, len(cols)).astype(float))
        indptr[r + 1] = len(indices)
    return sp.csr_matrix((np.array(data), np.array(indices, np.int32), indptr), shape=(len(rows), n_cols))


def run_kernel(X, Y, params, hidden, output, l2s, optimizer="none", grads=None, s1=None, s2=None,
               lr=0.0, step=1, momentum=0.0, loss="squared"):
    return cpu.autorec_batch(X.indptr.astype(np.int64), X.indices.astype(np.int32), X.data,
                             Y.indptr.astype(np.int64), Y.indices.astype(np.int32), Y.data, params,
                             grads, s1, s2, ACTIVATIONS[hidden], ACTIVATIONS[output], l2s,
                             OPTIMIZERS[optimizer], lr, momentum=momentum, step=step,
                             loss={"squared": 0, "logistic": 1}[loss])


def random_params(rng, n_in, n_out, k, dtype=np.float64):
    return (rng.normal(0, 0.5, (n_in, k)).astype(dtype), rng.normal(0, 0.1, k).astype(dtype),
            rng.normal(0, 0.5, (n_out, k)).astype(dtype), rng.normal(0, 0.1, n_out).astype(dtype))


ACTIVATION_CASES = [("sigmoid", "identity", "squared"), ("tanh", "sigmoid", "squared"),
                    ("relu", "identity", "squared"), ("elu", "tanh", "squared"),
                    ("selu", "selu", "squared"), ("identity", "relu", "squared"),
                    ("sigmoid", "sigmoid", "logistic")]
SMOOTH_CASES = [c for c in ACTIVATION_CASES if not {"relu", "elu", "selu"} & set(c)]


@pytest.mark.parametrize("k,x_rows,y_rows,hidden,output,loss", [
    # every activation pair; an empty input row, an empty target row, a single-entry
    # row, duplicates
    *[(5, [3, 0, 1, 4], [2, 3, 0, 1], *c) for c in ACTIVATION_CASES],
    # the kernels' vector paths (blocks of 4 vectors, single vectors, a scalar tail:
    # 85 = 64 + 16 + 5 floats = 80 + 5 doubles) and output rows with >= 4 targets.
    # Smooth activations only: with ~30 outputs per example a relu / elu kink within
    # the finite-difference step of some output is no longer rare.
    *[(85, [5, 0, 9, 2], [7, 7, 1, 7], *c) for c in SMOOTH_CASES],
])
def test_gradients_match_finite_differences(hidden, output, loss, k, x_rows, y_rows):
    rng = np.random.default_rng()
    n_in, n_out = 9, 7
    X = raw_csr(x_rows, n_in, rng, dup=True)
    Y = raw_csr(y_rows, n_out, rng, dup=True)
    if loss == "logistic":
        Y.data = (Y.data > 2.5).astype(float)  # binary targets
    params = random_params(rng, n_in, n_out, k)
    grads = tuple(np.zeros_like(p) for p in params)
    l2s = 0.3
    sse = run_kernel(X, Y, params, hidden, output, l2s, grads=grads, loss=loss)
    obj = reference_objective(X, Y, params, hidden, output, l2s, loss)
    reg = 0.5 * l2s * (np.sum(params[0] ** 2) + np.sum(params[2] ** 2))
    assert sse == pytest.approx(obj - reg, rel=1e-12)
    eps = 1e-6
    for p, g in zip(params, grads):
        fd = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + eps
            up = reference_objective(X, Y, params, hidden, output, l2s, loss)
            p[idx] = old - eps
            down = reference_objective(X, Y, params, hidden, output, l2s, loss)
            p[idx] = old
            fd[idx] = (up - down) / (2 * eps)
        # relu/elu/selu kinks: a coordinate within eps of the kink would differ; random inputs avoid it
        np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("k", [16, 85])
def test_float32_matches_float64(k):
    rng = np.random.default_rng()
    # dense enough that output rows have >= 4 targets (the four-at-a-time dots)
    X = raw_csr([5, 2, 7, 1, 0, 8, 6], 9, rng)
    Y = X.copy()
    p64 = random_params(rng, 9, 9, k)
    p32 = tuple(p.astype(np.float32) for p in p64)
    g64 = tuple(np.zeros_like(p) for p in p64)
    g32 = tuple(np.zeros_like(p) for p in p32)
    s64 = run_kernel(X, Y, p64, "sigmoid", "identity", 0.1, grads=g64)
    s32 = run_kernel(X.astype(np.float32), Y.astype(np.float32), p32, "sigmoid", "identity", 0.1, grads=g32)
    assert s32 == pytest.approx(s64, rel=1e-5)
    for a, b in zip(g32, g64):
        # float32 rounding of sums whose terms reach the gradient's largest entries:
        # an absolute tolerance relative to those (k = 85 gradients reach ~10)
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5 * max(1.0, float(np.abs(b).max())))


@pytest.mark.parametrize("optimizer", ["sgd", "sgd_momentum", "adam", "rprop"])
def test_fused_optimizer_steps_match_numpy(optimizer):
    rng = np.random.default_rng()
    X = raw_csr([4, 3, 5], 12, rng)
    Y = raw_csr([2, 4, 3], 10, rng)
    params = random_params(rng, 12, 10, 6)
    ref = [p.copy() for p in params]
    s1 = tuple(np.zeros_like(p) for p in params)
    s2 = tuple(np.full_like(p, 0.01) if optimizer == "rprop" else np.zeros_like(p) for p in params)
    m = [np.zeros_like(p) for p in params]
    v = [np.full_like(p, 0.01) if optimizer == "rprop" else np.zeros_like(p) for p in params]
    lr, momentum = 0.01, (0.9 if optimizer == "sgd_momentum" else 0.0)
    kind = "sgd" if optimizer.startswith("sgd") else optimizer
    for step in (1, 2, 3):
        grads = tuple(np.zeros_like(p) for p in ref)
        run_kernel(X, Y, tuple(ref), "sigmoid", "identity", 0.2, grads=grads)  # exact gradient
        run_kernel(X, Y, params, "sigmoid", "identity", 0.2, optimizer=kind, s1=s1, s2=s2, lr=lr,
                   step=step, momentum=momentum)
        for i, g in enumerate(grads):
            if kind == "sgd":
                m[i] = momentum * m[i] + g
                ref[i] -= lr * (m[i] if momentum else g)
            elif kind == "adam":
                m[i] = 0.9 * m[i] + 0.1 * g
                v[i] = 0.999 * v[i] + 0.001 * g * g
                ref[i] -= lr / (1 - 0.9**step) * m[i] / (np.sqrt(v[i]) / np.sqrt(1 - 0.999**step) + 1e-8)
            else:  # iRprop- as torch.optim.Rprop; m = previous gradient, v = step sizes
                sign = m[i] * g
                v[i] = np.where(sign > 0, np.minimum(v[i] * 1.2, 50), np.where(sign < 0, np.maximum(v[i] * 0.5, 1e-6), v[i]))
                g = np.where(sign < 0, 0.0, g)
                ref[i] -= np.sign(g) * v[i]
                m[i] = g
        for a, b in zip(params, ref):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_kernel_rejects_bad_arrays():
    rng = np.random.default_rng()
    X = raw_csr([5, 1], 5, rng)  # row 0 uses every column, so a shorter Vt is out of range
    params = random_params(rng, 5, 5, 3)
    with pytest.raises(ValueError, match="grads"):
        run_kernel(X, X, params, "sigmoid", "identity", 0.0)  # 'none' needs grads
    with pytest.raises(ValueError, match="state1"):
        run_kernel(X, X, params, "sigmoid", "identity", 0.0, optimizer="adam")
    bad = (params[0][:4], *params[1:])
    with pytest.raises(ValueError, match="inputs.*out of range"):
        run_kernel(X, X, bad, "sigmoid", "identity", 0.0, grads=tuple(np.zeros_like(p) for p in bad))
    mixed = (params[0].astype(np.float32), *params[1:])
    with pytest.raises(ValueError, match="dtype"):
        run_kernel(X, X, mixed, "sigmoid", "identity", 0.0, grads=tuple(np.zeros_like(p) for p in params))


@pytest.mark.parametrize("side_features", [False, True])
def test_kernel_batch_rows_of_whole_matrices(side_features):
    """rows=: the batch given as row ids of the whole matrices equals the kernel on the slices."""
    rng = np.random.default_rng()
    n_out, k = 11, 20
    Y = raw_csr([4, 0, 7, 2, 5, 1, 9], n_out, rng)
    X = sp.hstack([Y, sp.random(7, 3, density=0.5, random_state=1)], format="csr") if side_features else Y
    rows = np.array([5, 0, 2, 6, 1], np.int64)  # any order, an empty row included
    n_in = X.shape[1]
    p_a = random_params(rng, n_in, n_out, k)
    p_b = tuple(p.copy() for p in p_a)
    s_a = [tuple(np.zeros_like(p) for p in p_a) for _ in range(2)]
    s_b = [tuple(np.zeros_like(p) for p in p_a) for _ in range(2)]
    sliced = run_kernel(X[rows], Y[rows], p_a, "sigmoid", "identity", 0.2, optimizer="adam",
                        s1=s_a[0], s2=s_a[1], lr=1e-2)
    whole = cpu.autorec_batch(X.indptr.astype(np.int64), X.indices.astype(np.int32), X.data,
                              Y.indptr.astype(np.int64), Y.indices.astype(np.int32), Y.data, p_b, None,
                              s_b[0], s_b[1], ACTIVATIONS["sigmoid"], ACTIVATIONS["identity"], 0.2,
                              OPTIMIZERS["adam"], 1e-2, rows=rows)
    assert whole == pytest.approx(sliced, rel=1e-12)
    for a, b in zip(p_a + s_a[0] + s_a[1], p_b + s_b[0] + s_b[1]):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-15)
    params = random_params(rng, n_out, n_out, k)
    grads = tuple(np.zeros_like(p) for p in params)
    ip, ix = Y.indptr.astype(np.int64), Y.indices.astype(np.int32)
    for bad in (np.array([0, 7]), np.array([-1])):
        with pytest.raises(ValueError, match="rows"):
            cpu.autorec_batch(ip, ix, Y.data, ip, ix, Y.data, params, grads, None, None, 1, 0, 0.0, 0,
                              0.0, rows=bad)
