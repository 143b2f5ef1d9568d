"""The packed-sequence GRU kernels (csrc/cpu/gru.cpp) against a NumPy float64
reference written per sequence, and their backward pass against finite
differences."""

import numpy as np
import pytest

from autorec_fast import backends

cpu = backends._cpu


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def reference_gru(Xi_seqs, W_hh, b_hh):
    """Per-sequence loop with PyTorch's GRU equations (gate order r, z, n; h0 = 0)."""
    G = W_hh.shape[0]
    outs = []
    for Xi in Xi_seqs:
        h = np.zeros(G)
        hs = []
        for x in Xi:
            gh = h @ W_hh + b_hh
            r = _sigmoid(x[:G] + gh[:G])
            z = _sigmoid(x[G : 2 * G] + gh[G : 2 * G])
            n = np.tanh(x[2 * G :] + r * gh[2 * G :])
            h = (1 - z) * n + z * h
            hs.append(h)
        outs.append(np.array(hs).reshape(len(Xi), G))
    return outs


def reference_packed(Xi, seq, step, W, b):
    """reference_gru on every sequence of a packed batch, its outputs put back in
    the packed row order (float64)."""
    n_seq = int(seq.max()) + 1 if seq.size else 0
    per_seq = [Xi[seq == i][np.argsort(step[seq == i])].astype(np.float64) for i in range(n_seq)]
    out = np.zeros((len(seq), W.shape[0]))
    for i, r in enumerate(reference_gru(per_seq, W.astype(np.float64), b.astype(np.float64))):
        rows = np.flatnonzero(seq == i)
        out[rows[np.argsort(step[rows])]] = r
    return out


def pack(lengths):
    """Packed order for sequences sorted by length (longest first): for each packed
    row, (sequence, step); and the batch size of every step."""
    lengths = np.asarray(lengths)
    assert (np.diff(lengths) <= 0).all()
    steps = lengths.max() if lengths.size else 0
    batch_sizes = np.array([(lengths > t).sum() for t in range(steps)], np.int64)
    seq = np.concatenate([np.arange(b) for b in batch_sizes]) if steps else np.zeros(0, int)
    step = np.repeat(np.arange(steps), batch_sizes)
    return seq, step, batch_sizes


def _problem(rng, lengths, G, dtype, scale=0.5):
    seq, step, bs = pack(lengths)
    Xi = (rng.standard_normal((len(seq), 3 * G)) * scale).astype(dtype)
    W = (rng.standard_normal((G, 3 * G)) * scale / np.sqrt(G)).astype(dtype)
    b = (rng.standard_normal(3 * G) * 0.1).astype(dtype)
    return seq, step, bs, Xi, W, b


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("lengths", [[5, 3, 3, 1], [1], [7], [4, 4, 4], [200, 2]])
def test_forward_matches_reference(dtype, lengths):
    rng = np.random.default_rng(len(lengths) * 100 + sum(lengths))
    G = 6
    seq, step, bs, Xi, W, b = _problem(rng, lengths, G, dtype)
    H, cache = cpu.gru_forward(Xi, bs, W, b)
    assert H.dtype == dtype and H.shape == (len(seq), G) and cache.shape == (len(seq), 4 * G)
    got = reference_packed(Xi, seq, step, W, b)
    tol = 2e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(H, got, atol=tol * 10, rtol=tol)


def test_forward_saturated_gates_stay_finite():
    rng = np.random.default_rng(1)
    seq, step, bs, Xi, W, b = _problem(rng, [3, 2], 4, np.float32, scale=200.0)
    H, cache = cpu.gru_forward(Xi, bs, W, b)
    assert np.isfinite(H).all() and np.isfinite(cache).all() and (np.abs(H) <= 1.0).all()


def _loss(Xi, bs, W, b, R):
    H, _ = cpu.gru_forward(Xi, bs, W, b)
    return float((H * R).sum())


@pytest.mark.parametrize("lengths", [[4, 3, 1], [1, 1], [6]])
def test_backward_matches_finite_differences(lengths):
    rng = np.random.default_rng(7 + len(lengths))
    G = 5
    seq, step, bs, Xi, W, b = _problem(rng, lengths, G, np.float64)
    R = rng.standard_normal((len(seq), G))  # loss = Σ H ⊙ R, so dH = R
    H, cache = cpu.gru_forward(Xi, bs, W, b)
    dW = np.zeros_like(W)
    db = np.zeros_like(b)
    dXi = cpu.gru_backward(R, H, cache, bs, W, dW, db)
    eps = 1e-6

    def numeric(arr):
        g = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            old = arr[idx]
            arr[idx] = old + eps
            up = _loss(Xi, bs, W, b, R)
            arr[idx] = old - eps
            down = _loss(Xi, bs, W, b, R)
            arr[idx] = old
            g[idx] = (up - down) / (2 * eps)
        return g

    np.testing.assert_allclose(dXi, numeric(Xi), atol=1e-7, rtol=1e-6)
    np.testing.assert_allclose(dW, numeric(W), atol=1e-7, rtol=1e-6)
    np.testing.assert_allclose(db, numeric(b), atol=1e-7, rtol=1e-6)


def test_backward_accumulates_and_float32_agrees():
    rng = np.random.default_rng(3)
    seq, step, bs, Xi, W, b = _problem(rng, [9, 5, 5, 2], 8, np.float64)
    R = rng.standard_normal((len(seq), 8))
    H, cache = cpu.gru_forward(Xi, bs, W, b)
    dW0 = rng.standard_normal(W.shape)
    db0 = rng.standard_normal(b.shape)
    dW, db = dW0.copy(), db0.copy()
    dXi = cpu.gru_backward(R, H, cache, bs, W, dW, db)
    dW_fresh, db_fresh = np.zeros_like(W), np.zeros_like(b)
    cpu.gru_backward(R, H, cache, bs, W, dW_fresh, db_fresh)
    np.testing.assert_allclose(dW, dW0 + dW_fresh, rtol=1e-12)
    np.testing.assert_allclose(db, db0 + db_fresh, rtol=1e-12)
    f = np.float32
    H32, c32 = cpu.gru_forward(Xi.astype(f), bs, W.astype(f), b.astype(f))
    dW32, db32 = np.zeros_like(W, f), np.zeros_like(b, f)
    dXi32 = cpu.gru_backward(R.astype(f), H32, c32, bs, W.astype(f), dW32, db32)
    np.testing.assert_allclose(dXi32, dXi, atol=1e-5, rtol=1e-4)
    np.testing.assert_allclose(dW32, dW_fresh, atol=1e-4, rtol=1e-4)


def test_empty_and_bad_input():
    G = 3
    W = np.zeros((G, 3 * G))
    b = np.zeros(3 * G)
    H, cache = cpu.gru_forward(np.zeros((0, 3 * G)), np.zeros(0, np.int64), W, b)
    assert H.shape == (0, G)
    with pytest.raises(ValueError, match="batch_sizes"):
        cpu.gru_forward(np.zeros((4, 3 * G)), np.array([1, 3]), W, b)
    with pytest.raises(ValueError, match="batch_sizes"):
        cpu.gru_forward(np.zeros((2, 3 * G)), np.array([2, 0]), W, b)
    with pytest.raises(ValueError, match="Xi"):
        cpu.gru_forward(np.zeros((3, 3 * G)), np.array([2, 2]), W, b)
    with pytest.raises(ValueError, match="W_hh"):
        cpu.gru_forward(np.zeros((2, 3 * G)), np.array([2]), np.zeros((G, G)), b)
    with pytest.raises(ValueError, match="dW_hh"):
        cpu.gru_backward(np.zeros((2, G)), np.zeros((2, G)), np.zeros((2, 4 * G)), np.array([2]), W,
                         np.zeros((G, G)), b.copy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_batch_uses_threads_and_matches_reference(dtype):
    """Big enough for the per-thread split of the sequences and full 4-row tiles
    of the step product (with a column tail): forward against the reference,
    backward float32 against float64."""
    rng = np.random.default_rng(9)
    lengths = sorted(rng.integers(1, 80, 37).tolist(), reverse=True)  # rows x G² > 2^22
    G = 67
    seq, step, bs, Xi, W, b = _problem(rng, lengths, G, dtype)
    H, cache = cpu.gru_forward(Xi, bs, W, b)
    got = reference_packed(Xi, seq, step, W, b)
    tol = 2e-5 if dtype == np.float32 else 1e-11
    np.testing.assert_allclose(H, got, atol=tol, rtol=tol)
    R = rng.standard_normal(H.shape).astype(dtype)
    dW, db = np.zeros_like(W), np.zeros_like(b)
    dXi = cpu.gru_backward(R, H, cache, bs, W, dW, db)
    f = np.float64
    H64, c64 = cpu.gru_forward(Xi.astype(f), bs, W.astype(f), b.astype(f))
    dW64, db64 = np.zeros_like(W, f), np.zeros_like(b, f)
    dXi64 = cpu.gru_backward(R.astype(f), H64, c64, bs, W.astype(f), dW64, db64)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(dXi, dXi64, atol=tol, rtol=tol)
    np.testing.assert_allclose(dW, dW64, atol=tol * 10, rtol=tol)
