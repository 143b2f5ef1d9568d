"""Mult-VAE / Mult-DAE: the whole backward pass against finite differences of a
NumPy float64 loss; training behaviour. (The fused multinomial kernel is checked
in tests/kernels/test_loss.py.)"""

import numpy as np
import pytest
import scipy.sparse as sp
from helpers import log_softmax

import autorec_fast as af


def numpy_loss(model, Xb, seed, beta):
    """The model's batch objective in float64, with the same dropout / noise draws."""
    logits, inputs, aux = model._forward(Xb, np.random.default_rng(seed), train=True)
    z = logits.astype(np.float64) + model._biases[-1]
    x = Xb.toarray().astype(np.float64)
    nll = -np.sum(x * log_softmax(z)) / Xb.shape[0]
    kl = 0.0
    if aux is not None:
        mu, logvar = aux[0].astype(np.float64), aux[1].astype(np.float64)
        kl = np.mean(-0.5 * np.sum(1 + logvar - mu**2 - np.exp(logvar), axis=1))
    reg = model.l2 * sum(np.sum(w.astype(np.float64) ** 2) for w in model._weights)
    return nll + beta * kl + reg


@pytest.mark.parametrize("name,layers", [("multvae", [7, 3]), ("multdae", [5]), ("multdae", [6, 4])])
def test_backward_matches_finite_differences(name, layers):
    rng = np.random.default_rng()
    n_users, n_items = 12, 20
    dense = (rng.random((n_users, n_items)) < 0.25).astype(np.float64)
    dense[:, 0] = 1  # nobody empty
    X = sp.csr_matrix(dense)
    model = af.MODELS[name](layers=layers, dtype="float64", l2=0.01, dropout=0.3, epochs=1, batch_size=n_users)
    model._init(rng, n_items)
    model.n_items, model.item_ids = n_items, np.arange(n_items)
    model._optimizer, model.lr = "sgd", 1.0  # one SGD step of lr 1 moves each parameter by -gradient
    beta, seed = 0.3, 123
    before = [p.copy() for p in model._weights + model._biases]
    loss_before = numpy_loss(model, X, seed, beta)
    n_p = len(before)
    state = [np.zeros_like(p) for p in before]
    model._state1 = model._state2 = state
    got = model._batch_step(X, np.random.default_rng(seed), beta, 1)
    assert got == pytest.approx(loss_before, rel=1e-9)
    after = model._weights + model._biases
    grads = [b - a for b, a in zip(before, after)]
    # restore and check a few coordinates of every parameter by central differences
    for p, b in zip(after, before):
        p[...] = b
    eps = 1e-6
    for i in range(n_p):
        p = (model._weights + model._biases)[i]
        for idx in [tuple(rng.integers(0, s) for s in p.shape) for _ in range(6)]:
            old = p[idx]
            p[idx] = old + eps
            up = numpy_loss(model, X, seed, beta)
            p[idx] = old - eps
            down = numpy_loss(model, X, seed, beta)
            p[idx] = old
            assert grads[i][idx] == pytest.approx((up - down) / (2 * eps), rel=1e-5, abs=1e-8), (i, idx)


@pytest.mark.parametrize("name", ["multvae", "multdae"])
def test_training_beats_popularity_and_keeps_best_epoch(name):
    data = af.synthetic("ml-100k", seed=3)
    split = af.strong_generalization_from_ratings(data, n_heldout_users=80)
    model = af.train(name, split.train, validation=split.validation, epochs=15, batch_size=100,
                     anneal_steps=200) if name == "multvae" else \
        af.train(name, split.train, validation=split.validation, epochs=15, batch_size=100)
    best = max(h["ndcg@100"] for h in model.history)
    assert model.history[model.best_epoch - 1]["ndcg@100"] == best
    assert af.evaluate(model, split.validation, ["ndcg@100"])["ndcg@100"] == pytest.approx(best, rel=1e-6)
    pop = np.asarray(split.train.matrix.sum(0)).ravel()
    pop_model = af.EASE(l2=1.0)
    pop_model.weights = np.tile(pop.astype(np.float32), (len(pop), 1))
    pop_model.n_items, pop_model.item_ids = len(pop), split.item_ids
    assert best > af.evaluate(pop_model, split.validation, ["ndcg@100"])["ndcg@100"]


def test_recommend_for_new_users_and_save_load(tmp_path):
    rng = np.random.default_rng(0)
    X = sp.csr_matrix((rng.random((60, 30)) < 0.2).astype(np.float32))
    model = af.train("multvae", X, layers=[16, 8], epochs=2, batch_size=20)
    new = np.zeros((2, 30), np.float32)
    new[0, [1, 2]] = 1
    items, _ = model.recommend(new, k=5)
    assert not {1, 2} & set(items[0])
    model.save(tmp_path / "vae")
    loaded = af.load(tmp_path / "vae.npz")
    np.testing.assert_array_equal(loaded.score(new), model.score(new))
    assert isinstance(loaded, af.MultVAE) and loaded.layers == [16, 8]


@pytest.mark.parametrize("kwargs,match", [
    (dict(layers=[]), "layers"), (dict(layers=[0]), "layers"), (dict(dropout=1.0), "dropout"),
    (dict(beta_cap=-0.1), "beta_cap"), (dict(metric="rmse"), "ranking metric"),
    (dict(metric="ndcg"), "metrics"), (dict(epochs=0), "epochs"),
])
def test_bad_arguments(kwargs, match):
    X = sp.csr_matrix(np.eye(4, dtype=np.float32))
    with pytest.raises((ValueError, TypeError), match=match):
        af.train("multvae", X, **kwargs)


def test_negative_values_rejected_and_wrong_history_width():
    with pytest.raises(ValueError, match="negative"):
        af.train("multdae", sp.csr_matrix(np.array([[1.0, -1.0], [0.0, 1.0]])))
    for name in ("multdae", "cdae"):  # a training user without interactions
        with pytest.raises(ValueError, match="1 users without interactions"):
            af.train(name, sp.csr_matrix(np.array([[1.0, 1.0], [0.0, 0.0]])))
    model = af.train("multdae", sp.csr_matrix(np.eye(4, dtype=np.float32)), layers=[2], epochs=1)
    with pytest.raises(ValueError, match="history.*4 columns"):
        model.score(np.ones((1, 5)))


@pytest.mark.parametrize("name", ["multvae", "multdae"])
def test_cuda_matches_cpu(device, name):
    """The GPU path (cuSPARSE/cuBLAS + our kernels) against the CPU path: same seeds,
    same random draws, so the same parameters up to rounding."""
    if device != "cuda":
        pytest.skip("compares the CUDA backend with the CPU backend")
    rng = np.random.default_rng(0)
    X = sp.csr_matrix((rng.random((60, 40)) < 0.2).astype(np.float64))
    kw = dict(layers=[12, 6] if name == "multvae" else [8], epochs=2, batch_size=20, dtype="float64", l2=1e-3)
    a = af.train(name, X, **kw)
    b = af.train(name, X, device="cuda", **kw)
    for wa, wb in zip(a._weights + a._biases, b._weights + b._biases):
        np.testing.assert_allclose(wa, wb.get(), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(a.score(X[:5]), b.score(X[:5]).get(), rtol=1e-7, atol=1e-9)
