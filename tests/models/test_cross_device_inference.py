"""Every GPU model's inference against the CPU's with the same parameters: a model
trained on the CPU in float64 is saved, loaded onto the GPU, and must give the same
scores, recommendations (the device's top-k and seen-item mask) and predictions.
Training itself is compared per model in each model's test file."""

import numpy as np
import pytest
import scipy.sparse as sp

import autorec_fast as af
from helpers import random_interactions

K = 7

# name: (hyper-parameters, data kind)
MODELS = {
    "autorec-item": (dict(variant="item", hidden=40), "ratings"),
    "autorec-user": (dict(variant="user", hidden=33), "ratings"),
    "cdae": (dict(hidden=36, negative_ratio=2), "implicit"),
    "multvae": (dict(layers=[40, 12]), "implicit"),
    "multdae": (dict(layers=[35]), "implicit"),
    "deeprec": (dict(layers=[30], batch_size=16), "ratings"),
    "svae": (dict(embedding=12, gru=10, hidden=9, latent=4), "sequences"),
    "ease": (dict(l2=20.0), "implicit"),
}


def make_data(rng, kind):
    if kind != "sequences":
        X = random_interactions(rng, 90, 60, 0.12, ratings=kind == "ratings").tolil()
        X[np.arange(90), np.arange(90) % 60] = 4.0  # no user without interactions
        return af.Interactions.from_scipy(X.tocsr())
    users, items, times = [], [], []
    for u in range(90):
        n = int(rng.integers(3, 12))
        users += [u] * n
        items += list(rng.choice(60, n, replace=False))
        times += list(rng.permutation(n) + 1000)
    return af.Interactions.from_arrays(users, items, timestamps=times, item_ids=np.arange(60))


@pytest.mark.parametrize("name", MODELS)
def test_a_cpu_model_loaded_on_the_gpu_gives_the_same_results(device, name, tmp_path):
    if device != "cuda":
        pytest.skip("compares the CUDA backend with the CPU backend")
    seed = int(np.random.SeedSequence().entropy % 2**32)  # fresh data, reproducible from the message
    rng = np.random.default_rng(seed)
    params, kind = MODELS[name]
    data = make_data(rng, kind)
    iterative = {} if name == "ease" else dict(epochs=2, seed=1)
    model = af.train(name.split("-")[0], data, dtype="float64", **iterative, **params)
    model.save(tmp_path / "model.npz")
    on_gpu = af.load(tmp_path / "model.npz", device=device)
    assert on_gpu.device == "cuda" and on_gpu.dtype == np.float64
    if not name.startswith("autorec"):  # AutoRec predicts ratings only (no score/recommend)
        history = data if kind == "sequences" else af.Interactions.from_scipy(data.matrix[:40])
        S_cpu = model.score(history)
        S_gpu = on_gpu.score(history).get()
        np.testing.assert_allclose(S_gpu, S_cpu, rtol=1e-9, atol=1e-12, err_msg=f"data seed {seed}")
        items_cpu, scores_cpu = model.recommend(history, k=K, batch_size=16)
        items_gpu, scores_gpu = on_gpu.recommend(history, k=K, batch_size=16)
        np.testing.assert_allclose(scores_gpu, scores_cpu, rtol=1e-9, atol=1e-12, err_msg=f"data seed {seed}")
        np.testing.assert_array_equal(items_gpu, items_cpu, err_msg=f"data seed {seed}")  # float64: no ties
    if kind == "ratings":
        users, items, _, _ = data.to_coo_arrays()
        np.testing.assert_allclose(on_gpu.predict(users, items), model.predict(users, items),
                                   rtol=1e-9, atol=1e-12, err_msg=f"data seed {seed}")
    if kind == "implicit":  # ranking evaluation through the device's top-k
        fold = (sp.csr_matrix(data.matrix[40:70]), sp.csr_matrix(data.matrix[:30]))
        assert af.evaluate(on_gpu, fold, ["ndcg@10", "recall@5"]) == pytest.approx(
            af.evaluate(model, fold, ["ndcg@10", "recall@5"]), rel=1e-12)
