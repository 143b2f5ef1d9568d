"""The EASE kernel stages one by one (gram_upper, cholesky_inverse_upper,
ease_weights_from_inverse) against NumPy float64; the whole fit is checked
through the model in tests/models/test_ease.py."""

import numpy as np
from helpers import ease_reference, random_interactions

from autorec_fast import backends


def test_kernel_stages_against_numpy():
    """gram_upper, cholesky_inverse_upper and ease_weights_from_inverse one by one."""
    rng = np.random.default_rng()
    X = random_interactions(rng, 200, 150, 0.05, ratings=True)  # 150 > one 64-wide tile
    G = np.zeros((150, 150))
    backends._cpu.gram_upper(X.indptr.astype(np.int64), X.indices.astype(np.int32), X.data, G)
    ref = (X.T @ X).toarray()
    np.testing.assert_allclose(np.triu(G), np.triu(ref), rtol=1e-12)
    assert np.all(np.tril(G, -1) == 0)
    G[np.diag_indices(150)] += 3.0
    assert backends._cpu.cholesky_inverse_upper(G) == 0
    P = np.linalg.inv(ref + 3.0 * np.eye(150))
    np.testing.assert_allclose(np.triu(G), np.triu(P), rtol=1e-8, atol=1e-12)
    backends._cpu.ease_weights_from_inverse(G)
    np.testing.assert_allclose(G, ease_reference(X, 3.0), rtol=1e-8, atol=1e-12)


def test_gram_upper_rows_in_any_order_with_duplicates_and_empty_rows():
    """Canonical rows (sorted) take the half walk from each entry; rows out of order or
    with duplicate entries take the whole row. Both accumulate into ``out`` (+=), the
    form the distributed fit sums partitions with."""
    import scipy.sparse as sp

    rng = np.random.default_rng()
    for dtype in (np.float32, np.float64):
        X = random_interactions(rng, 120, 70, 0.1, ratings=True).astype(dtype).tolil()
        X[5, :] = 0  # an empty row
        X = X.tocsr()
        X.eliminate_zeros()
        indptr, indices, data = X.indptr.astype(np.int64), X.indices.astype(np.int32), X.data
        ref = (sp.csr_matrix(X, dtype=np.float64).T @ X.astype(np.float64)).toarray()
        tol = dict(rtol=1e-5) if dtype == np.float32 else dict(rtol=1e-12)
        G = np.zeros((70, 70), dtype)
        backends._cpu.gram_upper(indptr, indices, data, G)  # sorted rows
        np.testing.assert_allclose(np.triu(G), np.triu(ref), **tol)
        # each row reversed: same matrix, other order
        rev_idx, rev_val = indices.copy(), data.copy()
        for u in range(X.shape[0]):
            a, b = indptr[u], indptr[u + 1]
            rev_idx[a:b], rev_val[a:b] = indices[a:b][::-1], data[a:b][::-1]
        G2 = np.zeros((70, 70), dtype)
        backends._cpu.gram_upper(indptr, rev_idx, rev_val, G2)
        np.testing.assert_allclose(G2, G, **tol)
        # a duplicate entry (row 0's first item twice, values split): the sum of the two
        a = indptr[1]
        dup_idx = np.insert(indices, a, indices[0])
        dup_val = np.insert(data, a, data[0] / 2).astype(dtype)
        dup_val[0] /= 2
        dup_ptr = indptr.copy()
        dup_ptr[1:] += 1
        G3 = np.zeros((70, 70), dtype)
        backends._cpu.gram_upper(dup_ptr, dup_idx, dup_val, G3)
        np.testing.assert_allclose(G3, G, **tol)
        # accumulation: a second call adds
        backends._cpu.gram_upper(indptr, indices, data, G)
        np.testing.assert_allclose(np.triu(G), 2 * np.triu(ref), **tol)
