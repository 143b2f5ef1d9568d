"""Ranking kernels (_cpu) against plain NumPy references on fresh random inputs."""

import numpy as np
import pytest
import scipy.sparse as sp

from autorec_fast import backends

cpu = backends._cpu


def pattern(X):
    X = sp.csr_matrix(X)
    return X.indptr.astype(np.int64), X.indices.astype(np.int32)


def reference_topk(scores, exclude, k):
    """Sort by (score desc, index asc) with NaN and excluded items removed; pad with -1."""
    idx_out = np.full((scores.shape[0], k), -1, np.int64)
    val_out = np.full((scores.shape[0], k), -np.inf, scores.dtype)
    ex = exclude.toarray() > 0 if exclude is not None else np.zeros(scores.shape, bool)
    for r in range(scores.shape[0]):
        ok = np.flatnonzero(~ex[r] & ~np.isnan(scores[r]))
        order = ok[np.lexsort((ok, -scores[r, ok]))][:k]
        idx_out[r, : order.size] = order
        val_out[r, : order.size] = scores[r, order]
    return idx_out, val_out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_topk_matches_reference_with_ties_exclusion_and_nan(dtype):
    rng = np.random.default_rng()
    n_rows, n_items, k = 37, 211, 15
    scores = rng.integers(0, 20, (n_rows, n_items)).astype(dtype)  # many ties
    scores[3, ::7] = np.nan
    exclude = sp.random(n_rows, n_items, density=0.3, format="lil", random_state=rng)
    exclude[4, :] = 1.0  # a row with everything excluded
    exclude[5, :] = 0.0
    exclude[5, :200] = 1.0  # fewer than k left
    exclude = exclude.tocsr()
    exclude.eliminate_zeros()
    idx, val = cpu.topk_exclude(scores, *pattern(exclude), k)
    ref_idx, ref_val = reference_topk(scores, exclude, k)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_array_equal(val, ref_val)
    assert np.all(idx[4] == -1)
    assert np.sum(idx[5] >= 0) == 11


def test_topk_without_exclusion_and_k_equal_items():
    rng = np.random.default_rng()
    scores = rng.standard_normal((6, 9)).astype(np.float32)
    idx, val = cpu.topk_exclude(scores, None, None, 9)
    np.testing.assert_array_equal(idx, np.argsort(-scores, axis=1, kind="stable"))
    idx1, _ = cpu.topk_exclude(scores, k=1)
    np.testing.assert_array_equal(idx1[:, 0], scores.argmax(1))


def test_topk_bad_arguments():
    scores = np.zeros((2, 5), np.float32)
    with pytest.raises(ValueError, match="k"):
        cpu.topk_exclude(scores, k=0)
    with pytest.raises(ValueError, match="k"):
        cpu.topk_exclude(scores, k=6)
    bad = (np.array([0, 1, 2], np.int64), np.array([0, 9], np.int32))
    with pytest.raises(ValueError, match="exclude.*out of range"):
        cpu.topk_exclude(scores, *bad, 2)
    with pytest.raises(ValueError, match="exclude.*one row per row"):
        cpu.topk_exclude(scores, np.array([0, 1], np.int64), np.array([0], np.int32), 2)
    with pytest.raises(ValueError, match="indptr"):
        cpu.topk_exclude(scores, np.array([0, 2, 1], np.int64), np.array([0, 1], np.int32), 2)


def test_hits_at_k():
    rng = np.random.default_rng()
    topk = np.stack([rng.permutation(50)[:10] for _ in range(20)]).astype(np.int64)
    topk[0, 5:] = -1
    targets = sp.random(20, 50, density=0.2, format="csr", random_state=rng)
    hits = cpu.hits_at_k(topk, *pattern(targets), 50)
    dense = targets.toarray() > 0
    expected = np.where(topk >= 0, dense[np.arange(20)[:, None], np.maximum(topk, 0)], False)
    np.testing.assert_array_equal(hits.astype(bool), expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_first_hit_rank(dtype):
    rng = np.random.default_rng()
    n_rows, n_items = 30, 80
    scores = rng.standard_normal((n_rows, n_items)).astype(dtype)
    exclude = sp.random(n_rows, n_items, density=0.1, format="csr", random_state=rng)
    targets = sp.random(n_rows, n_items, density=0.05, format="csr", random_state=rng)
    targets = targets - targets.multiply(exclude > 0)
    targets.eliminate_zeros()
    rank = cpu.first_hit_rank(scores, *pattern(exclude), *pattern(targets))
    ex, tg = exclude.toarray() > 0, targets.toarray() > 0
    for r in range(n_rows):
        if not tg[r].any():
            assert rank[r] == 0
            continue
        best = scores[r, tg[r]].max()
        best_j = min(j for j in np.flatnonzero(tg[r]) if scores[r, j] == best)
        ahead = (scores[r] > best) | ((scores[r] == best) & (np.arange(n_items) < best_j))
        assert rank[r] == 1 + np.sum(ahead & ~ex[r])


@pytest.mark.parametrize("width", [300, 1500])  # the row-parallel and the column-blocked forms
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_csr_matmul_dense(dtype, width):
    rng = np.random.default_rng()
    X = sp.random(45, 70, density=0.1, format="coo", random_state=rng)
    # duplicates and an empty row
    X = sp.coo_matrix((np.r_[X.data, 2.0], (np.r_[X.row, X.row[0]], np.r_[X.col, X.col[0]])), shape=X.shape)
    X = X.tocsr().tolil()  # sums the duplicate
    X[10, :] = 0
    X = X.tocsr()
    X.eliminate_zeros()
    X = X.astype(dtype)
    W = rng.standard_normal((70, width)).astype(dtype)
    out = np.empty((45, width), dtype)
    cpu.csr_matmul_dense(X.indptr.astype(np.int64), X.indices.astype(np.int32), X.data, W, out)
    ref = X.astype(np.float64).toarray() @ W.astype(np.float64)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, ref, rtol=tol, atol=tol)
    assert np.all(out[10] == 0)


def test_csr_matmul_dense_bad_shapes():
    X = sp.csr_matrix(np.eye(3, dtype=np.float32))
    W = np.ones((3, 4), np.float32)
    with pytest.raises(ValueError, match="out"):
        cpu.csr_matmul_dense(X.indptr.astype(np.int64), X.indices.astype(np.int32), X.data, W,
                             np.empty((3, 5), np.float32))
    with pytest.raises(ValueError, match="X.*out of range"):
        cpu.csr_matmul_dense(X.indptr.astype(np.int64), X.indices.astype(np.int32), X.data,
                             np.ones((2, 4), np.float32), np.empty((3, 4), np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 7, 40])
def test_topk_on_long_rows_with_ties_and_exclusions(dtype, k):
    """Long rows (many threshold raises and buffer compactions), massive ties, NaN,
    the best half excluded, and fewer than k eligible items."""
    rng = np.random.default_rng()
    n_rows, n_items = 12, 64 * k + 137
    scores = rng.standard_normal((n_rows, n_items)).astype(dtype)
    scores[0] = np.round(scores[0])  # massive ties
    scores[1, :] = 1.0  # all equal
    scores[2, ::3] = np.nan
    exclude = sp.lil_matrix((n_rows, n_items))
    best = np.argsort(-np.nan_to_num(scores[3], nan=-np.inf))[: n_items // 2]
    exclude[3, best] = 1  # the best half excluded: the sampled threshold is too high
    exclude[4, :] = 1
    exclude[4, -k // 2 - 1:] = 0  # fewer than k eligible
    exclude = exclude.tocsr()
    exclude.eliminate_zeros()
    idx, val = cpu.topk_exclude(scores, *pattern(exclude), k)
    ref_idx, ref_val = reference_topk(scores, exclude, k)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_array_equal(val, ref_val)
