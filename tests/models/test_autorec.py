"""AutoRec: the trainer's behaviour (learning, seeds and options, validation and
early stop, side features, predictions, bad arguments, save/load, CUDA against
CPU). The kernel's gradients and fused optimizer steps are checked in
tests/kernels/test_sparse_layer.py."""

import numpy as np
import pytest
import scipy.sparse as sp

import autorec_fast as af


def low_rank_ratings(rng, n_users=120, n_items=80, density=0.3):
    U, V = rng.normal(size=(n_users, 3)), rng.normal(size=(n_items, 3))
    full = np.clip(np.rint(3 + U @ V.T * 0.8), 1, 5)
    mask = rng.random(full.shape) < density
    users, items = np.nonzero(mask)
    return af.Interactions.from_arrays(users, items, full[mask].astype(np.float32),
                                       user_ids=np.arange(n_users), item_ids=np.arange(n_items))


@pytest.mark.parametrize("variant", ["item", "user"])
def test_training_learns_and_beats_the_mean(variant, device):
    rng = np.random.default_rng(0)
    data = low_rank_ratings(rng)
    train, test = af.random_split(data, 0.1, seed=1)
    model = af.train("autorec", train, variant=variant, hidden=32, l2=1.0, epochs=60, lr=1e-2,
                     batch_size=32, seed=0, device=device)
    losses = [h["loss"] for h in model.history]
    assert losses[-1] < 0.5 * losses[0]
    rmse = af.evaluate(model, test, ["rmse"])["rmse"]
    _, _, r_test, _ = test.to_coo_arrays()
    mean_rmse = np.sqrt(np.mean((r_test - model.mean_) ** 2))
    assert rmse < mean_rmse


def test_same_seed_same_model_and_options_run():
    rng = np.random.default_rng(0)
    data = low_rank_ratings(rng)
    kw = dict(hidden=8, epochs=3, batch_size=16, seed=5)
    a = af.train("autorec", data, **kw)
    b = af.train("autorec", data, **kw)
    np.testing.assert_array_equal(a._params[2], b._params[2])
    for extra in [dict(corruption="dropout", noise=0.2), dict(corruption="gaussian", noise=0.1),
                  dict(optimizer="sgd", lr=1e-3, momentum=0.9), dict(optimizer="rprop", lr=1e-3),
                  dict(hidden_activation="selu", output_activation="identity", dtype="float64")]:
        m = af.train("autorec", data, **{**kw, **extra})
        assert np.isfinite(m.history[-1]["loss"])
        assert not np.array_equal(m._params[2], a._params[2])


def test_validation_keeps_best_epoch_and_early_stops(device):
    rng = np.random.default_rng(0)
    data = low_rank_ratings(rng)
    train, val = af.random_split(data, 0.1, seed=2)
    model = af.train("autorec", train, validation=val, hidden=32, epochs=200, lr=3e-2, batch_size=16,
                     l2=0.0, patience=5, device=device)
    assert len(model.history) < 200
    assert all("val_rmse" in h and h["seconds"] > 0 for h in model.history)
    best = min(h["val_rmse"] for h in model.history)
    assert model.history[model.best_epoch - 1]["val_rmse"] == best
    u, i, r, _ = val.to_coo_arrays()
    got = np.sqrt(np.mean((model.predict(u, i, unknown="default") - r) ** 2))
    assert got == pytest.approx(best, rel=1e-6)


def test_side_features():
    rng = np.random.default_rng(0)
    data = low_rank_ratings(rng)
    feats = rng.normal(size=(data.n_items, 4))
    model = af.train("autorec", data, hidden=8, epochs=2, item_features=feats)
    assert model._params[0].shape == (data.n_users + 4, 8)
    model_u = af.train("autorec", data, variant="user", hidden=8, epochs=2,
                       user_features=sp.random(data.n_users, 6, density=0.5, random_state=0))
    assert model_u._params[0].shape == (data.n_items + 6, 8)
    with pytest.raises(ValueError, match="item_features has 3 rows"):
        af.train("autorec", data, hidden=8, epochs=1, item_features=feats[:3])
    with pytest.raises(ValueError, match="user_features cannot"):
        af.train("autorec", data, hidden=8, epochs=1, user_features=np.ones((data.n_users, 2)))


def test_predict_defaults_clipping_and_errors():
    rng = np.random.default_rng(0)
    data = low_rank_ratings(rng)
    lil = data.matrix.tolil()
    lil[:, 5] = 0  # item 5 has no training ratings
    lil[7, :] = 0  # user 7 neither
    X = lil.tocsr()
    X.eliminate_zeros()
    model = af.train("autorec", X, hidden=8, epochs=2)
    pred = model.predict(np.array([0, 1, 2, 7]), np.array([5, 0, 1, 0]))
    # an item without ratings, a trained user: the network's output for an empty input vector
    Vt, mu, W, b = (np.asarray(p, np.float64) for p in model._params)
    h = 1 / (1 + np.exp(-mu))
    assert pred[0] == pytest.approx(np.clip(W[0] @ h + b[0], *model.rating_range_), rel=1e-5)
    assert pred[3] == pytest.approx(model.mean_)  # an untrained output unit: the training mean
    assert np.all((pred >= 1) & (pred <= 5))
    user_model = af.train("autorec", X, variant="user", hidden=8, epochs=2)
    pred = user_model.predict(np.array([7, 0]), np.array([0, 5]))  # U-AutoRec: the roles swap
    Vt, mu, W, b = (np.asarray(p, np.float64) for p in user_model._params)
    h = 1 / (1 + np.exp(-mu))
    assert pred[0] == pytest.approx(np.clip(W[0] @ h + b[0], *user_model.rating_range_), rel=1e-5)
    assert pred[1] == pytest.approx(user_model.mean_)
    with pytest.raises(ValueError, match="users.*outside"):
        model.predict(np.array([1000]), np.array([0]))
    with pytest.raises(ValueError, match="items.*outside"):
        model.predict(np.array([0]), np.array([-1]))
    assert model.predict(np.array([1000]), np.array([0]), unknown="default")[0] == pytest.approx(model.mean_)
    with pytest.raises(TypeError, match="users"):
        model.predict(np.array([0.5]), np.array([0]))


@pytest.mark.parametrize("kwargs,match", [
    (dict(hidden=0), "hidden"), (dict(epochs=0), "epochs"), (dict(hidden_activation="swish"), "hidden_activation"),
    (dict(optimizer="lbfgs"), "optimizer"), (dict(variant="both"), "variant"), (dict(lr=-1.0), "lr"),
    (dict(corruption="dropout", noise=1.0), "noise"), (dict(l2=float("nan")), "l2"),
    (dict(batch_size=0), "batch_size"), (dict(nonsense=1), "unknown option"),
])
def test_bad_arguments(kwargs, match):
    data = sp.csr_matrix(np.array([[1.0, 2.0], [3.0, 0.0]]))
    with pytest.raises((ValueError, TypeError), match=match):
        af.train("autorec", data, **kwargs)


def test_nan_ratings_rejected():
    with pytest.raises(ValueError, match="NaN"):
        af.train("autorec", (np.array([0, 1]), np.array([0, 1]), np.array([1.0, np.nan])))


def test_save_load_round_trip(tmp_path, device):
    rng = np.random.default_rng(0)
    data = low_rank_ratings(rng)
    model = af.train("autorec", data, hidden=8, epochs=2, item_features=rng.normal(size=(data.n_items, 3)),
                     device=device)
    model.save(tmp_path / "autorec.npz")
    loaded = af.load(tmp_path / "autorec.npz", device=device)
    u, i, _, _ = data.to_coo_arrays()
    np.testing.assert_array_equal(loaded.predict(u, i), model.predict(u, i))
    assert loaded.history == model.history and loaded.variant == "item"


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rprop"])
def test_cuda_training_matches_cpu(device, optimizer):
    """The CUDA kernels against the CPU ones (themselves checked against NumPy)."""
    if device != "cuda":
        pytest.skip("compares the CUDA backend with the CPU backend")
    rng = np.random.default_rng(0)
    data = low_rank_ratings(rng)
    kw = dict(hidden=16, epochs=3, batch_size=16, optimizer=optimizer, lr=1e-3, l2=0.5,
              dtype="float64", item_features=rng.normal(size=(data.n_items, 2)))
    a = af.train("autorec", data, **kw)
    b = af.train("autorec", data, device="cuda", **kw)
    for pa, pb in zip(a._params, b._params):
        np.testing.assert_allclose(pa, pb.get(), rtol=1e-7, atol=1e-9)
    assert b.history[-1]["loss"] == pytest.approx(a.history[-1]["loss"], rel=1e-9)


@pytest.mark.parametrize("variant,hidden,corruption,dtype", [
    ("user", 40, None, "float64"),  # k not a multiple of a warp's 32 lanes
    ("item", 33, "dropout", "float64"),  # corrupted inputs: batches uploaded from the host
    ("item", 70, None, "float32"),
])
def test_cuda_matches_cpu_across_shapes(device, variant, hidden, corruption, dtype):
    """Training and predictions on both devices, with an empty user and an empty item
    (rows and targets with no entries in the kernels)."""
    if device != "cuda":
        pytest.skip("compares the CUDA backend with the CPU backend")
    rng = np.random.default_rng(1)
    u, i, r, _ = low_rank_ratings(rng).to_coo_arrays()
    keep = (u != 0) & (i != 0)
    data = af.Interactions.from_arrays(u[keep], i[keep], r[keep], user_ids=np.arange(120), item_ids=np.arange(80))
    kw = dict(variant=variant, hidden=hidden, epochs=2, batch_size=16, lr=1e-3, l2=0.5, dtype=dtype,
              corruption=corruption, noise=0.2 if corruption else 0.0)
    a = af.train("autorec", data, **kw)
    b = af.train("autorec", data, device="cuda", **kw)
    users, items = np.repeat(np.arange(120), 80), np.tile(np.arange(80), 120)  # every pair, the empty ones too
    if dtype == "float64":
        for pa, pb in zip(a._params, b._params):
            np.testing.assert_allclose(pa, pb.get(), rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(b.predict(users, items), a.predict(users, items), rtol=1e-9, atol=1e-12)
        rel = 1e-9
    else:  # float32: sums in other orders on the two devices
        np.testing.assert_allclose(b.predict(users, items), a.predict(users, items), rtol=1e-3, atol=1e-3)
        rel = 1e-3
    for ha, hb in zip(a.history, b.history):
        assert hb["loss"] == pytest.approx(ha["loss"], rel=rel)
