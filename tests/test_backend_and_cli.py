"""The compiled backends, and EASE end to end on real data (through the API and the CLI;
the CLI itself is tested in test_cli.py)."""

import numpy as np
import pytest
import scipy.sparse as sp

import autorec_fast as af
from autorec_fast import backends
from autorec_fast.cli import main


def test_cpu_extension_and_blas_are_ready():
    assert backends._cpu.get_num_threads() >= 1
    a = np.array([[4.0, 0.0], [0.0, 9.0]])
    assert backends._cpu.cholesky_inverse_upper(a) == 0  # LAPACK reached through SciPy
    np.testing.assert_allclose(np.diag(a), [0.25, 1 / 9])


def test_cuda_extension_reports_its_device_state():
    if not af.HAS_CUDA:
        pytest.skip("built without the CUDA extension (no nvcc at build time)")
    n = backends._cuda.device_count()
    assert n == af.cuda_device_count() and n >= 0
    assert backends._cuda.runtime_version() > 0
    if n == 0:
        assert backends._cuda.device_error() != ""
        assert not af.cuda_available()
        assert "no CUDA device" in backends.cuda_unavailable_reason()


def popularity_recall(split, k):
    """Recall@k of recommending the most popular training items (fold-in excluded)."""
    pop = np.asarray(split.train.matrix.sum(0)).ravel().astype(np.float32)
    fold_in = split.test.fold_in.matrix
    W = np.tile(pop, (fold_in.shape[1], 1))  # every history scores items by popularity
    model = af.EASE(l2=1.0)
    model.weights, model.n_items, model.item_ids = W, W.shape[1], split.item_ids
    return af.evaluate(model, split.test, [f"recall@{k}"])[f"recall@{k}"]


def test_ease_on_movielens_100k_beats_popularity(ml100k_path):
    data = af.load_movielens(ml100k_path)
    split = af.strong_generalization_from_ratings(data, n_heldout_users=100)
    model = af.train("ease", split.train, l2=200.0)
    res = af.evaluate(model, split.test, ["recall@20", "ndcg@100"])
    assert res["recall@20"] > popularity_recall(split, 20) + 0.05
    assert 0 < res["ndcg@100"] <= 1
    # the CLI main job gives the same numbers
    assert main(["--data", str(ml100k_path), "--heldout-users", "100", "--l2", "200", "--quiet",
                 "--metrics", "recall@20"]) == 0


def test_recommend_for_new_users_by_fold_in():
    rng = np.random.default_rng()
    X = sp.random(300, 40, density=0.1, format="csr", random_state=rng)
    model = af.train("ease", X, l2=5.0)
    new_user = np.zeros((1, 40))
    new_user[0, [1, 2, 3]] = 1
    items, _ = model.recommend(new_user, k=5)
    assert not set(items[0]) & {1, 2, 3}
