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
