"""CDAE: negative sampling, the user node, training and the model's interface.
(The logistic-loss gradients are checked in test_autorec.py: same kernel.)"""

import numpy as np
import pytest
import scipy.sparse as sp

import autorec_fast as af
from autorec_fast.models.cdae import append_user_nodes, sample_negatives


def test_negative_sampling_is_exact_and_reproducible():
    rng = np.random.default_rng(0)
    dense = rng.random((40, 60)) < 0.1
    dense[0, :55] = True  # a user who needs nearly all of the remaining items
    dense[1] = False  # and one without positives
    X = sp.csr_matrix(dense.astype(np.float32))
    Y = sample_negatives(X, 3, np.random.default_rng(7))
    Y2 = sample_negatives(X, 3, np.random.default_rng(7))
    assert (Y != Y2).nnz == 0
    Yd = Y.toarray()
    for r in range(40):  # test-side check
        cols = Y.indices[Y.indptr[r] : Y.indptr[r + 1]]
        assert len(set(cols)) == len(cols)  # no duplicates
        pos = set(np.flatnonzero(dense[r]))
        neg = set(cols[Yd[r, cols] == 0])
        assert pos == set(cols[Yd[r, cols] == 1])
        assert not pos & neg
        assert len(neg) == min(3 * len(pos), 60 - len(pos))


def test_user_node_column():
    X = sp.csr_matrix(np.array([[0, 1, 1], [1, 0, 0]], np.float32))
    Xin = append_user_nodes(X, np.array([4, 2]), n_users=5)
    assert Xin.shape == (2, 8)
    np.testing.assert_array_equal(Xin.toarray()[:, 3:], [[0, 0, 0, 0, 1], [0, 0, 1, 0, 0]])
    np.testing.assert_array_equal(Xin.toarray()[:, :3], X.toarray())
    assert append_user_nodes(X, None, 5).nnz == X.nnz


@pytest.mark.parametrize("negative_ratio,loss,output", [(5, "logistic", "sigmoid"), (0, "logistic", "sigmoid"),
                                                        (3, "square", "identity")])
def test_training_beats_popularity(negative_ratio, loss, output):
    data = af.synthetic("ml-100k", seed=3)
    split = af.strong_generalization_from_ratings(data, n_heldout_users=80)
    model = af.train("cdae", split.train, validation=split.validation, epochs=15,
                     negative_ratio=negative_ratio, loss=loss, output_activation=output)
    best = max(h["ndcg@100"] for h in model.history)
    assert model.history[model.best_epoch - 1]["ndcg@100"] == best
    pop = np.asarray(split.train.matrix.sum(0)).ravel()
    pop_model = af.EASE(l2=1.0)
    pop_model.weights = np.tile(pop.astype(np.float32), (len(pop), 1))
    pop_model.n_items, pop_model.item_ids = len(pop), split.item_ids
    assert best > af.evaluate(pop_model, split.validation, ["ndcg@100"])["ndcg@100"]


def test_seeded_and_save_load(tmp_path):
    rng = np.random.default_rng(0)
    X = sp.csr_matrix((rng.random((50, 30)) < 0.2).astype(np.float32))
    a = af.train("cdae", X, hidden=8, epochs=2, seed=3)
    b = af.train("cdae", X, hidden=8, epochs=2, seed=3)
    np.testing.assert_array_equal(a._params[2], b._params[2])
    a.save(tmp_path / "cdae")
    c = af.load(tmp_path / "cdae.npz")
    hist = X[:5]
    np.testing.assert_array_equal(c.recommend(hist, k=5)[0], a.recommend(hist, k=5)[0])
    items, _ = a.recommend(hist, k=5)
    for r in range(5):
        assert not set(items[r]) & set(hist[r].indices)


@pytest.mark.parametrize("kwargs,match", [
    (dict(negative_ratio=-1), "negative_ratio"), (dict(hidden=0), "hidden"), (dict(corruption=1.0), "corruption"),
    (dict(loss="hinge"), "loss"), (dict(loss="logistic", output_activation="identity"), "sigmoid"),
    (dict(optimizer="sgd"), "optimizer"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        af.train("cdae", sp.csr_matrix(np.eye(4, dtype=np.float32)), **kwargs)


def test_cuda_matches_cpu(device):
    """The GPU path against the CPU path: same seeds and negatives, same parameters."""
    if device != "cuda":
        pytest.skip("compares the CUDA backend with the CPU backend")
    rng = np.random.default_rng(0)
    X = sp.csr_matrix((rng.random((60, 40)) < 0.2).astype(np.float64))
    kw = dict(hidden=8, epochs=2, batch_size=20, dtype="float64")
    a = af.train("cdae", X, **kw)
    b = af.train("cdae", X, device="cuda", **kw)
    for pa, pb in zip(a._params, b._params):
        np.testing.assert_allclose(pa, pb.get(), rtol=1e-7, atol=1e-9)
    assert b.history[-1]["loss"] == pytest.approx(a.history[-1]["loss"], rel=1e-9)
