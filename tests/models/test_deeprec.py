"""DeepRec: both training passes (sparse masked, dense re-feeding) against finite
differences of a NumPy float64 loss, with tied and untied weights; the trainer.
(Its kernels, sampled_dot and the element-wise activation / masked-MSE ones, are
checked in tests/kernels/test_dense_ops.py.)"""

import numpy as np
import pytest
import scipy.sparse as sp

import autorec_fast as af


def numpy_loss(model, X, seed):
    """Masked MSE, the mean over the observed entries (X sparse: its entries; X
    dense: its non-zeros), with the same dropout draw as the step."""
    hs, _ = model._forward(X, np.random.default_rng(seed))
    out = hs[-1].astype(np.float64)
    if sp.issparse(X):
        rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
        err = out[rows, X.indices] - X.data
        return float(np.sum(err**2) / X.nnz)
    mask = X != 0
    return float(np.sum(((out - X) * mask) ** 2) / mask.sum())


@pytest.mark.parametrize("constrained", [True, False])
@pytest.mark.parametrize("layers,activation,last", [([6, 4], "selu", True), ([5], "tanh", True),
                                                    ([7, 5, 3], "elu", True), ([6, 4], "selu", False)])
@pytest.mark.parametrize("sparse_pass", [True, False])
def test_step_gradients_match_finite_differences(constrained, layers, activation, last, sparse_pass):
    rng = np.random.default_rng()
    n_users, n_items = 9, 13
    dense = np.where(rng.random((n_users, n_items)) < 0.35, rng.integers(1, 6, (n_users, n_items)), 0.0)
    dense[:, 0] = 3.0  # nobody empty
    X = sp.csr_matrix(dense)
    model = af.DeepRec(layers=layers, activation=activation, constrained=constrained, dropout=0.3,
                       dtype="float64", optimizer="sgd", momentum=0.0, last_layer_activation=last,
                       init_scale=1.0)
    model._init(rng, n_items)
    for b in model._enc_b + model._dec_b:  # non-zero biases exercise their gradients
        b[...] = rng.normal(0, 0.1, b.shape)
    if not sparse_pass:  # the re-feeding pass gets a dense input
        X = model._forward(X, None)[0][-1].astype(np.float64)
    seed = 7
    before = [p.copy() for p in model._parameters()]
    state = [np.zeros_like(p) for p in before]
    loss_before = numpy_loss(model, X, seed)
    model._state1 = model._state2 = state
    _, loss = model._step(X, np.random.default_rng(seed), 1.0, 1, sparse_pass=sparse_pass)
    assert loss == pytest.approx(loss_before, rel=1e-9)
    grads = [b - a for b, a in zip(before, model._parameters())]  # lr 1, no momentum: -gradient
    for p, b in zip(model._parameters(), before):
        p[...] = b
    eps = 1e-6
    for n, p in enumerate(model._parameters()):
        for idx in [tuple(rng.integers(0, s) for s in p.shape) for _ in range(5)]:
            old = p[idx]
            p[idx] = old + eps
            up = numpy_loss(model, X, seed)
            p[idx] = old - eps
            down = numpy_loss(model, X, seed)
            p[idx] = old
            assert grads[n][idx] == pytest.approx((up - down) / (2 * eps), rel=1e-5, abs=1e-8), (n, idx)


#: the reference's training (momentum SGD, raw ratings, selu output), no schedule
REFERENCE_TRAINING = dict(optimizer="momentum", lr_schedule=None, refeed_steps=1, center=None,
                          last_layer_activation=True, init_scale=1.0)


def low_rank(rng, n_users=150, n_items=60):
    U, V = rng.normal(size=(n_users, 3)), rng.normal(size=(n_items, 3))
    full = np.clip(np.rint(3 + U @ V.T * 0.8), 1, 5)
    mask = rng.random(full.shape) < 0.3
    u, i = np.nonzero(mask)
    return af.Interactions.from_arrays(u, i, full[mask].astype(np.float32),
                                       user_ids=np.arange(n_users), item_ids=np.arange(n_items))


def test_training_learns_beats_mean_and_keeps_best():
    data = low_rank(np.random.default_rng(0))
    train, test = af.random_split(data, 0.1, seed=1)
    model = af.train("deeprec", train, layers=[32, 16], dropout=0.2, lr=0.02, epochs=40, batch_size=16,
                     validation=test, **REFERENCE_TRAINING)
    assert model.history[-1]["loss"] < 0.5 * model.history[0]["loss"]
    best = min(h["val_rmse"] for h in model.history)
    assert model.history[model.best_epoch - 1]["val_rmse"] == best
    rmse = af.evaluate(model, test, ["rmse"])["rmse"]
    assert rmse == pytest.approx(best, rel=1e-6)
    _, _, r, _ = test.to_coo_arrays()
    assert rmse < np.sqrt(np.mean((r - model.mean_) ** 2))


def test_schedule_refeed_off_save_load(tmp_path):
    data = low_rank(np.random.default_rng(1))
    model = af.train("deeprec", data, layers=[8], epochs=3, refeed_steps=0, constrained=False,
                     lr_schedule="deeprec", lr=0.005)
    assert [h["lr"] for h in model.history] == [0.005] * 3
    model.save(tmp_path / "dr")
    loaded = af.load(tmp_path / "dr.npz")
    u, i, _, _ = data.to_coo_arrays()
    np.testing.assert_array_equal(loaded.predict(u, i), model.predict(u, i))


@pytest.mark.parametrize("constrained", [True, False])
def test_without_refeeding_the_output_layer_runs_at_the_ratings_only(constrained):
    """refeed_steps=0 evaluates the output layer at the observed ratings only
    (``sampled_dot``); it must train exactly as the dense output layer does."""
    data = low_rank(np.random.default_rng(2))
    kw = dict(layers=[16, 8], epochs=2, refeed_steps=0, constrained=constrained, dtype="float64",
              dropout=0.3, seed=4)
    sampled = af.DeepRec(**kw)
    dense = af.DeepRec(**kw)
    dense._sampled_output = False  # forces the dense output layer
    sampled.fit(data)
    dense.fit(data)
    np.testing.assert_allclose([h["loss"] for h in sampled.history], [h["loss"] for h in dense.history],
                               rtol=1e-12)
    for a, b in zip(sampled._parameters(), dense._parameters()):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("kwargs,match", [
    (dict(layers=[]), "layers"), (dict(dropout=1.0), "dropout"), (dict(activation="gelu"), "activation"),
    (dict(optimizer="rprop"), "optimizer"), (dict(refeed_steps=-1), "refeed_steps"), (dict(lr_schedule="cosine"), "lr_schedule"),
    (dict(refeed_steps=10**6), "refeed_steps"), (dict(seed=-1), "seed"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        af.train("deeprec", sp.csr_matrix(np.array([[1.0, 2.0], [3.0, 0.0]])), **kwargs)


@pytest.mark.parametrize("constrained", [True, False])
def test_cuda_matches_cpu(device, constrained, tmp_path):
    """The GPU path (cuSPARSE/cuBLAS + our kernels) against the CPU path: same seeds,
    same random draws (shuffling, dropout masks), so the same parameters up to rounding."""
    if device != "cuda":
        pytest.skip("compares the CUDA backend with the CPU backend")
    data = low_rank(np.random.default_rng(2), n_users=70, n_items=40)
    kw = dict(layers=[12, 6], dropout=0.3, constrained=constrained, epochs=2, batch_size=16,
              dtype="float64", l2=1e-3, lr=0.01)
    a = af.train("deeprec", data, **kw)
    b = af.train("deeprec", data, device="cuda", **kw)
    for pa, pb in zip(a._params(), b._params()):
        np.testing.assert_allclose(pa, pb.get(), rtol=1e-7, atol=1e-9)
    for ha, hb in zip(a.history, b.history):
        assert hb["loss"] == pytest.approx(ha["loss"], rel=1e-7)
    u, i, _, _ = data.to_coo_arrays()
    np.testing.assert_allclose(a.predict(u, i), b.predict(u, i), rtol=1e-7, atol=1e-9)
    X = data.matrix.tocsr()[:5]
    np.testing.assert_allclose(a.score(X), b.score(X).get(), rtol=1e-7, atol=1e-9)
    # the re-feeding and Adam paths, one epoch
    kw.update(epochs=1, optimizer="adam", refeed_steps=2)
    a, b = af.train("deeprec", data, **kw), af.train("deeprec", data, device="cuda", **kw)
    for pa, pb in zip(a._params(), b._params()):
        np.testing.assert_allclose(pa, pb.get(), rtol=1e-7, atol=1e-9)
    # save on the GPU (host arrays), load on either device
    b.save(tmp_path / "dr")
    on_cpu = af.load(tmp_path / "dr.npz")
    on_gpu = af.load(tmp_path / "dr.npz", device="cuda")
    for pb, pc, pg in zip(b._params(), on_cpu._params(), on_gpu._params()):
        np.testing.assert_array_equal(pc, pb.get())
        np.testing.assert_array_equal(pg.get(), pb.get())
    np.testing.assert_allclose(on_cpu.predict(u, i), b.predict(u, i), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(on_gpu.predict(u, i), b.predict(u, i), rtol=1e-12, atol=1e-12)


def test_reference_settings_are_one_argument_away():
    ref = af.DeepRec(**af.DeepRec.REFERENCE)
    for key, value in af.DeepRec.REFERENCE.items():
        assert getattr(ref, key) == value, key
    assert (ref.layers, ref.refeed_steps, ref.optimizer, ref.center) == ([512, 512, 1024], 1, "momentum", None)


def test_auto_epochs_follow_the_number_of_users():
    from autorec_fast.models.deeprec import auto_epochs

    assert auto_epochs(943, 128) == 50  # ML-100K: 8 batches an epoch
    assert auto_epochs(6040, 128) == 9
    assert auto_epochs(138_000, 128) == 5  # at least 5
    assert auto_epochs(3, 128) == 100  # at most 100
    data = low_rank(np.random.default_rng(3), n_users=700)  # 6 batches: ceil(400 / 6) = 67
    model = af.train("deeprec", data, layers=[8])
    assert model.epochs == "auto" and len(model.history) == 67
    with pytest.raises(ValueError, match="auto"):
        af.DeepRec(epochs="many")


@pytest.mark.parametrize("center", ["bias", "item"])
def test_centred_training_starts_at_the_baseline_and_scores_consistently(center, tmp_path):
    """With ``center``, a (nearly) untrained network predicts the offsets: the
    global mean + regularised item (and user) biases; predict, score and a
    reloaded model agree, and score computes a new row's user offset from the row."""
    from autorec_fast.models._shared import item_offsets, user_offsets

    data = low_rank(np.random.default_rng(4))
    model = af.train("deeprec", data, layers=[8], epochs=1, lr=1e-12, init_scale=1e-9, center=center,
                     dtype="float64", clip=False)
    R = data.matrix.tocsr()
    item = item_offsets(R, center == "bias")
    user = user_offsets(R, item) if center == "bias" else np.zeros(R.shape[0])
    u, i, r, _ = data.to_coo_arrays()
    np.testing.assert_allclose(model.predict(u, i), user[u] + item[i], atol=1e-6)
    np.testing.assert_allclose(model.score(R[:7]), user[:7, None] + item[None, :], atol=1e-6)
    assert np.sqrt(np.mean((model.predict(u, i) - r) ** 2)) < np.sqrt(np.mean((r - r.mean()) ** 2))
    trained = af.train("deeprec", data, layers=[8], epochs=3, center=center, dtype="float64")
    trained.save(tmp_path / "dr")
    loaded = af.load(tmp_path / "dr.npz")
    np.testing.assert_array_equal(loaded.predict(u, i), trained.predict(u, i))
    rows = trained.score(R[:5])
    np.testing.assert_allclose(rows[np.repeat(np.arange(5), 60), np.tile(np.arange(60), 5)],
                               trained.predict(np.repeat(np.arange(5), 60), np.tile(np.arange(60), 5),
                                               clip=False), rtol=1e-12)


def test_a_file_from_before_the_new_options_loads_with_the_reference_values(tmp_path):
    """A file saved before last_layer_activation, center and init_scale existed (its
    metadata without them) loads as the model it was: those options at the reference's values."""
    import json

    data = low_rank(np.random.default_rng(5))
    model = af.train("deeprec", data, layers=[8], epochs=2, **REFERENCE_TRAINING)
    model.save(tmp_path / "dr")
    with np.load(tmp_path / "dr.npz", allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(arrays["__metadata__"].tobytes().decode("utf-8"))
    for key in ("last_layer_activation", "center", "init_scale"):
        del meta["params"][key]
    arrays["__metadata__"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    np.savez(tmp_path / "old.npz", **arrays)
    old = af.load(tmp_path / "old.npz")
    assert (old.last_layer_activation, old.center, old.init_scale) == (True, None, 1.0)
    u, i, _, _ = data.to_coo_arrays()
    np.testing.assert_array_equal(old.predict(u, i), model.predict(u, i))
