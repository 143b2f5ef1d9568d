"""SVAE: the batch packing, the loss against a per-user NumPy float64 reference,
the whole backward pass against finite differences, training, the temporal
protocol, ordered histories, save/load and bad input."""

import numpy as np
import pytest
import scipy.sparse as sp

import autorec_fast as af
from autorec_fast.models.svae import PARAM_NAMES, pack_batch

SMALL = dict(embedding=3, gru=4, hidden=3, latent=2, next_k=2)


def _timed(users, items, times, n_items=None):
    users, items, times = map(np.asarray, (users, items, times))
    n_items = n_items or items.max() + 1
    return af.Interactions.from_arrays(users, items, timestamps=times,
                                       item_ids=np.arange(n_items))


def _random_sequences(rng, n_users, n_items, lo=2, hi=9):
    users, items, times = [], [], []
    for u in range(n_users):
        n = rng.integers(lo, hi)
        seq = rng.choice(n_items, n, replace=False)
        users += [u] * n
        items += list(seq)
        times += list(rng.permutation(n) * 10 + 1000)  # time order differs from item order
    return _timed(users, items, times, n_items)


def test_pack_batch_matches_a_loop():
    rng = np.random.default_rng(0)
    data = _random_sequences(rng, 7, 20, lo=2, hi=8)
    model = af.SVAE(**SMALL)
    from autorec_fast.models.svae import ordered_sequences

    indptr, items, _ = ordered_sequences(data)
    n_steps = np.diff(indptr) - 1
    users = np.array([5, 0, 3, 6, 1])
    inputs, bs, users_sorted, row_seq, row_step, t_ip, t_ix = pack_batch(indptr, items, users, n_steps, 3)
    assert (np.diff(n_steps[users_sorted]) <= 0).all() and set(users_sorted) == set(users)
    row = 0
    for t in range(bs.size):
        for i in range(bs[t]):
            seq = items[indptr[users_sorted[i]] : indptr[users_sorted[i] + 1]]
            assert t < len(seq) - 1
            assert inputs[row] == seq[t] and row_seq[row] == i and row_step[row] == t
            assert list(t_ix[t_ip[row] : t_ip[row + 1]]) == list(seq[t + 1 : t + 4])
            row += 1
    assert row == inputs.size == n_steps[users].sum()
    del model


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def reference_loss(model, data, users, noise_rows, beta):
    """Per-user float64 loop: the SVAE loss written from its definition."""
    from autorec_fast.models.svae import ordered_sequences

    P = {k: np.asarray(v, np.float64) for k, v in zip(PARAM_NAMES, model._params)}
    G, L, k = model.gru, model.latent, model.next_k
    indptr, items, _ = ordered_sequences(data)
    total = 0.0
    for u in users:
        seq = items[indptr[u] : indptr[u + 1]]
        h = np.zeros(G)
        nll = kl = 0.0
        for t in range(len(seq) - 1):
            xi = P["embedding"][seq[t]] @ P["W_ih"] + P["b_ih"]
            gh = h @ P["W_hh"] + P["b_hh"]
            r = _sigmoid(xi[:G] + gh[:G])
            z = _sigmoid(xi[G : 2 * G] + gh[G : 2 * G])
            n = np.tanh(xi[2 * G :] + r * gh[2 * G :])
            h = (1 - z) * n + z * h
            a1 = np.tanh(h @ P["W_enc"] + P["b_enc"])
            lat = a1 @ P["W_lat"] + P["b_lat"]
            mu, logvar = lat[:L], lat[L:]
            zz = mu + noise_rows[(u, t)] * np.exp(0.5 * logvar)
            logits = np.tanh(zz @ P["W_dec"] + P["b_dec"]) @ P["W_out"] + P["b_out"]
            logp = logits - logits.max() - np.log(np.exp(logits - logits.max()).sum())
            nll -= logp[seq[t + 1 : t + 1 + k]].sum() / k
            kl += 0.5 * np.sum(-logvar + np.exp(logvar) + mu**2 - 1)
        total += nll + beta * kl / (len(seq) - 1)
    return total / len(users)


def _batch(model, data, users, rng):
    from autorec_fast.models.svae import ordered_sequences

    indptr, items, _ = ordered_sequences(data)
    n_steps = np.diff(indptr) - 1
    batch = pack_batch(indptr, items, users, n_steps, model.next_k)
    noise = rng.standard_normal((batch[0].size, model.latent))
    users_sorted, row_seq, row_step = batch[2], batch[3], batch[4]
    rows = {(users_sorted[s], t): noise[i] for i, (s, t) in enumerate(zip(row_seq, row_step))}
    return batch, noise, n_steps, rows


@pytest.fixture
def small_model():
    rng = np.random.default_rng(11)
    data = _random_sequences(rng, 6, 9, lo=2, hi=7)
    model = af.SVAE(**SMALL, dtype="float64")
    model.n_items = 9
    model._init(np.random.default_rng(1), 9)
    for p in model._params:  # larger than the initialisation so every path matters
        p[...] = np.random.default_rng(p.size).normal(0, 0.6, p.shape)
    return model, data


def test_loss_matches_reference(small_model):
    model, data = small_model
    rng = np.random.default_rng(2)
    users = np.array([4, 1, 0, 5, 2, 3])
    batch, noise, n_steps, rows = _batch(model, data, users, rng)
    loss, grads = model._loss_and_grads(batch, noise, 0.3, n_steps)
    assert loss == pytest.approx(reference_loss(model, data, users, rows, 0.3), rel=1e-10)
    assert [g.shape for g in grads] == [p.shape for p in model._params]


def test_backward_matches_finite_differences(small_model):
    model, data = small_model
    rng = np.random.default_rng(3)
    users = np.array([2, 0, 5, 3])  # a subset: unused items' embedding rows get zero gradient
    batch, noise, n_steps, _ = _batch(model, data, users, rng)
    beta = 0.7
    _, grads = model._loss_and_grads(batch, noise, beta, n_steps)
    eps = 1e-6
    for name, p, g in zip(PARAM_NAMES, model._params, grads):
        num = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + eps
            up = model._loss_and_grads(batch, noise, beta, n_steps)[0]
            p[idx] = old - eps
            down = model._loss_and_grads(batch, noise, beta, n_steps)[0]
            p[idx] = old
            num[idx] = (up - down) / (2 * eps)
        np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-8, err_msg=name)


def test_float32_gradients_agree_with_float64(small_model):
    model64, data = small_model
    model32 = af.SVAE(**SMALL, dtype="float32")
    model32.n_items = 9
    model32._params = [p.astype(np.float32) for p in model64._params]
    rng = np.random.default_rng(4)
    users = np.arange(6)
    batch, noise, n_steps, _ = _batch(model64, data, users, rng)
    l64, g64 = model64._loss_and_grads(batch, noise, 0.2, n_steps)
    l32, g32 = model32._loss_and_grads(batch, noise.astype(np.float32), 0.2, n_steps)
    assert l32 == pytest.approx(l64, rel=1e-5)
    for name, a, b in zip(PARAM_NAMES, g32, g64):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5, err_msg=name)


def test_training_learns_order_and_protocol(device):
    """On sequences where item i is followed by i+1, training must put the next
    item first; the temporal protocol and evaluate run end to end."""
    rng = np.random.default_rng(5)
    n_items, users, items, times = 30, [], [], []
    for u in range(120):
        start = rng.integers(0, n_items - 12)
        n = rng.integers(6, 12)
        users += [u] * n
        items += list(range(start, start + n))
        times += list(range(n))
    data = _timed(users, items, times, n_items)
    split = af.splits.temporal_heldout_split(data, n_heldout_users=15, seed=1)
    model = af.train("svae", split.train, embedding=16, gru=16, hidden=16, latent=8, epochs=30,
                     batch_size=16, lr=1e-2, l2=0.0, metric="ndcg@10", validation=split.validation,
                     anneal_steps=200_000, device=device)  # order, not annealing, is tested here
    assert model.history[-1]["loss"] < model.history[0]["loss"]
    best = max(h["ndcg@10"] for h in model.history)  # the best epoch's parameters are kept
    assert model.history[model.best_epoch - 1]["ndcg@10"] == best
    assert af.evaluate(model, split.validation, ["ndcg@10"])["ndcg@10"] == pytest.approx(best, rel=1e-6)
    res = af.evaluate(model, split.test, ["ndcg@10", "recall_nout@10"])
    assert res["ndcg@10"] > 0.3  # popularity is ~0.1 here
    col = {int(i): c for c, i in enumerate(model.item_ids)}  # item id -> model column
    hist = [[col[i] for i in range(s, s + 5)] for s in (3, 10)]
    top, _ = model.recommend(hist, k=1, return_ids=True)
    assert [int(t) for t in top.ravel()] == [8, 15]
    # order matters: the same items reversed give another prediction
    rev = [h[::-1] for h in hist]
    s1, s2 = model.score(hist), model.score(rev)
    xp = np if device == "cpu" else __import__("cupy")
    assert not xp.allclose(s1, s2)


def test_histories_as_interactions_and_sequences_agree():
    rng = np.random.default_rng(6)
    data = _random_sequences(rng, 20, 15, lo=3, hi=8)
    model = af.train("svae", data, **SMALL, epochs=1, batch_size=8)
    from autorec_fast.models.svae import ordered_sequences

    indptr, items, _ = ordered_sequences(data)
    seqs = [items[indptr[u] : indptr[u + 1]] for u in range(20)]
    np.testing.assert_allclose(model.score(data), model.score(seqs), rtol=1e-6)
    # an empty history scores from h = 0; an item repeated keeps its last position
    s = model.score([[], [1, 2, 1]])
    np.testing.assert_allclose(s[1], model.score([[2, 1]])[0], rtol=1e-6)
    items_, _ = model.recommend([[1, 2, 1]], k=3)
    assert not {1, 2} & set(items_[0])


def test_save_load_roundtrip(tmp_path):
    rng = np.random.default_rng(7)
    data = _random_sequences(rng, 25, 12)
    model = af.train("svae", data, **SMALL, epochs=2, batch_size=10, seed=3)
    model.save(tmp_path / "svae")
    loaded = af.load(tmp_path / "svae.npz")
    assert isinstance(loaded, af.SVAE) and loaded.next_k == 2 and loaded.history == model.history
    np.testing.assert_array_equal(loaded.score(data), model.score(data))


def test_bad_input():
    no_time = sp.csr_matrix(np.eye(4, dtype=np.float32))
    with pytest.raises(ValueError, match="timestamps"):
        af.train("svae", no_time)
    one = _timed([0, 0, 1], [0, 1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="1 users with fewer than 2"):
        af.train("svae", one, **SMALL)
    for kw, match in [(dict(next_k=0), "next_k"), (dict(gru=-1), "gru"), (dict(epochs=0), "epochs"),
                      (dict(metric="rmse"), "ranking metric"), (dict(beta_cap=-1), "beta_cap")]:
        with pytest.raises((ValueError, TypeError), match=match):
            af.train("svae", _timed([0, 0], [0, 1], [1, 2]), **kw)
    model = af.train("svae", _timed([0, 0, 1, 1], [0, 1, 1, 2], [1, 2, 3, 4]), **SMALL, epochs=1)
    with pytest.raises(TypeError, match="ordered histories"):
        model.score(np.ones((1, 3)))
    with pytest.raises(ValueError, match="outside"):
        model.score([[0, 3]])
    with pytest.raises(TypeError, match="integer item indices"):
        model.score([[0.5, 1.0]])


def test_cuda_matches_cpu(device):
    if device != "cuda":
        pytest.skip("compares the CUDA backend with the CPU backend")
    rng = np.random.default_rng(8)
    data = _random_sequences(rng, 30, 20)
    kw = dict(SMALL, epochs=2, batch_size=8, dtype="float64")
    a = af.train("svae", data, **kw)
    b = af.train("svae", data, device="cuda", **kw)
    for name, pa, pb in zip(PARAM_NAMES, a._params, b._params):
        np.testing.assert_allclose(pa, pb.get(), rtol=1e-7, atol=1e-9, err_msg=name)
    np.testing.assert_allclose(a.score(data), b.score(data).get(), rtol=1e-7, atol=1e-9)


def test_empty_histories_score_from_the_initial_state():
    """A user with no history yet gets the scores of the GRU's initial state, the same
    whether or not other rows have items (the docstring's promise)."""
    data = af.synthetic(n_users=60, n_items=40, density=0.2, implicit=True, seed=1)
    model = af.train("svae", data, epochs=1, embedding=6, gru=5, hidden=4, latent=3, batch_size=8)
    alone = model.score([[]])
    mixed = model.score([[1, 2], []])
    assert alone.shape == (1, 40) and np.isfinite(alone).all()
    np.testing.assert_allclose(alone[0], mixed[1], rtol=1e-6)
    items, _ = model.recommend([[], []], k=3)
    assert items.shape == (2, 3) and (items >= 0).all()
