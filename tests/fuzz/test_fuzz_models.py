"""Fuzzing training and inference: ``autorec_fast.train`` for every model with tiny
and bad options, then ``score`` / ``recommend`` / ``predict`` / ``evaluate`` with
malformed histories, bad ``k``, odd indices.

Budget of the whole suite (tests/fuzz): the "ci" profile (default; derandomized,
so every run tries the same examples) runs 6,500 examples (11 tests: 3,000 data,
1,500 models, 2,000 files) in about 30 s on 2 cores; ``HYPOTHESIS_PROFILE=nightly``
runs 25 times as many (about 160,000 examples, randomized, roughly 15 minutes).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import given, strategies as st

import fuzz_strategies as fs
from fuzz_harness import BASE, REJECTED, attempt, run_in_child

TRAIN_ALLOWED = BASE + (FloatingPointError,)
#: scoring refuses non-finite scores (weights that diverged in a last step, extreme histories)
SCORE_ALLOWED = BASE + (FloatingPointError,)

TINY = {
    "ease": {"l2": [1.0, 10.0, 500.0], "dtype": ["float32", "float64"]},
    "autorec": {"hidden": [2, 3], "epochs": [1], "batch_size": [2, 256], "variant": ["item", "user"],
                "lr": [1e-3], "seed": [0, 1]},
    "deeprec": {"layers": [[2], [3, 2]], "epochs": [1], "batch_size": [2], "dropout": [0.0, 0.5],
                "lr": [1e-3]},
    "cdae": {"hidden": [2, 3], "epochs": [1], "batch_size": [2], "negative_ratio": [1, 2]},
    "multvae": {"layers": [[2], [4, 2]], "epochs": [1], "batch_size": [2], "anneal_steps": [1, 10]},
    "multdae": {"layers": [[2], [4, 2]], "epochs": [1], "batch_size": [2]},
    "svae": {"embedding": [2], "gru": [2], "hidden": [2], "latent": [2], "next_k": [1, 2], "epochs": [1],
             "batch_size": [2], "anneal_steps": [1]},
    "popularity": {"dtype": ["float32", "float64"]},
    "bias": {"reg_items": [0.0, 10.0], "reg_users": [0.0, 15.0], "iterations": [1, 3], "dtype": ["float32", "float64"]},
    "itemknn": {"neighbors": [1, 2, 200], "dtype": ["float32", "float64"]},
}
RATING_MODELS = {"autorec", "deeprec", "bias"}
#: bad values tried for any option, plus a few option-specific ones
EXTRA_BAD = {"layers": [[], [0], [-1], [2.5], "4", [True], [2**40]], "variant": ["both", None],
             "dtype": ["float16", "int32", None, np.float16], "hidden": [2**40]}


@st.composite
def model_and_options(draw):
    name = draw(st.sampled_from(sorted(TINY)))
    options = {k: draw(st.sampled_from(v)) for k, v in TINY[name].items()}
    for key in draw(st.lists(st.sampled_from(sorted(options)), max_size=2, unique=True)):
        options[key] = draw(fs.BAD_SCALARS | st.sampled_from(EXTRA_BAD.get(key, [0])))
    if draw(st.integers(0, 20)) == 0:
        options[draw(st.sampled_from(["unknown_option", "epochs", "metric", "patience"]))] = \
            draw(st.sampled_from(["ndcg@1", "bogus", 1, None]))
    return name, options


def _history_strategy(n_items):
    """Histories for a model with ``n_items`` items: mostly right, sometimes the wrong width."""
    width = st.sampled_from([n_items] * 4 + [0, n_items + 1, max(n_items - 1, 0)])
    dense = st.tuples(st.integers(0, 3), width).flatmap(
        lambda s: fs.value_arrays(s[0] * s[1]).map(lambda v: v.reshape(s)))
    sparse = st.tuples(st.integers(0, 3), width, st.integers(0, 2**32 - 1)).map(
        lambda s: sp.random(s[0], s[1], density=0.5, format="csr", random_state=s[2]))
    return st.one_of(dense, sparse, fs.raw_sparse().map(lambda c: c[0]),
                     st.sampled_from([None, [1, 2], "x", np.zeros(n_items)]))


def _sequence_strategy(n_items):
    seq = st.lists(fs.index_values(n_items), max_size=4).map(lambda v: np.asarray(v, dtype=object).astype(
        np.int64) if all(-(2**63) <= x < 2**63 for x in v) else v)
    return st.one_of(st.lists(seq, max_size=3), st.lists(st.lists(st.integers(0, max(n_items - 1, 0)), max_size=4),
                                                         min_size=1, max_size=3).map(tuple),
                     st.sampled_from([None, "abc", [[0.5]], [[True]], np.zeros((2, 2))]))


def _seen(model, history):
    """Per row, the set of items the history holds (what exclude_seen removes)."""
    if model.name == "svae":
        return [set(np.asarray(s, dtype=np.int64).tolist()) for s in history]
    X = model._as_history(history)
    return [set(X.indices[X.indptr[r]:X.indptr[r + 1]].tolist()) for r in range(X.shape[0])]


def check_scores(model, S, n_rows):
    S = np.asarray(S)
    assert S.shape == (n_rows, model.n_items), (S.shape, n_rows, model.n_items)
    assert S.dtype == model.dtype
    assert np.isfinite(S).all(), "non-finite scores"


def check_recommend(model, history, k, exclude_seen, out, S):
    items, scores = out
    n_rows = S.shape[0]
    assert items.shape == scores.shape == (n_rows, k)
    assert np.issubdtype(items.dtype, np.integer)
    seen = _seen(model, history) if exclude_seen else [set()] * n_rows
    for r in range(n_rows):
        valid = items[r] >= 0
        n_valid = int(valid.sum())
        assert valid[:n_valid].all(), "padding (-1) before real items"
        assert (items[r, n_valid:] == -1).all() and np.isneginf(scores[r, n_valid:]).all()
        top = items[r, :n_valid]
        assert (top < model.n_items).all()
        assert len(set(top.tolist())) == n_valid, "repeated items"
        assert not (set(top.tolist()) & seen[r]), "recommended a seen item"
        assert n_valid == min(k, model.n_items - len(seen[r]))
        assert (np.diff(scores[r, :n_valid]) <= 0).all(), "scores not in descending order"
        np.testing.assert_allclose(scores[r, :n_valid], S[r, top], rtol=1e-5, atol=1e-6)
        if n_valid:  # nothing unseen scores above the k-th
            rest = np.setdiff1d(np.arange(model.n_items), np.r_[top, list(seen[r])].astype(np.int64))
            if rest.size:
                assert S[r, rest].max() <= scores[r, n_valid - 1] + 1e-6


K_VALUES = st.one_of(st.integers(-1, 8), fs.BAD_SCALARS, st.just(np.int64(2)))


@given(model_and_options(), st.data())
def prop_train_and_infer(case, data):
    import autorec_fast as af

    name, options = case
    train = data.draw(fs.valid_interactions(min_users=1, max_users=5, max_items=5, dense_rows=True,
                                            ratings=name in RATING_MODELS), "train")
    model = attempt(af.train, name, train, **options, allowed=TRAIN_ALLOWED)
    if model is REJECTED:
        return
    assert model.n_items == train.n_items
    # scoring the training users
    hist = train if name == "svae" else train.matrix
    S = attempt(model.score, hist, allowed=SCORE_ALLOWED)
    if S is not REJECTED:
        check_scores(model, S, train.n_users)
    # fuzzed histories, k and flags
    history = data.draw(_sequence_strategy(model.n_items) if name == "svae" else _history_strategy(model.n_items),
                        "history")
    S = attempt(model.score, history, allowed=SCORE_ALLOWED)
    if S is not REJECTED:
        n_rows = len(history) if name == "svae" else model._as_history(history).shape[0]
        check_scores(model, S, n_rows)
    k = data.draw(K_VALUES, "k")
    exclude_seen = data.draw(st.booleans(), "exclude_seen")
    batch_size = data.draw(st.sampled_from([1, 2, 4096]) | fs.BAD_SCALARS, "batch_size")
    out = attempt(model.recommend, history, k, exclude_seen=exclude_seen, batch_size=batch_size,
                  allowed=SCORE_ALLOWED)
    if out is not REJECTED:
        assert S is not REJECTED, "recommend accepted a history that score rejected"
        check_recommend(model, history, int(k), exclude_seen, out, np.asarray(S))
    if model.predicts_ratings:
        n = data.draw(st.integers(0, 4), "n_pairs")
        users = data.draw(fs.id_arrays(n) | st.lists(fs.index_values(model.n_users), min_size=n, max_size=n),
                          "users")
        items = data.draw(fs.id_arrays(n) | st.lists(fs.index_values(model.n_items), min_size=n, max_size=n),
                          "items")
        unknown = data.draw(st.sampled_from(["error", "default", "default", "bogus", None]), "unknown")
        pred = attempt(model.predict, users, items, unknown=unknown, allowed=SCORE_ALLOWED)
        if pred is not REJECTED:
            assert pred.shape == (n,) and np.isfinite(pred).all()
            lo, hi = model.rating_range_
            if model.clip:
                assert ((pred >= lo - 1e-6) & (pred <= hi + 1e-6)).all()
        metrics = attempt(af.evaluate, model, train, ["rmse", "mae"], allowed=SCORE_ALLOWED)
        if metrics is not REJECTED:
            assert all(np.isfinite(v) and v >= 0 for v in metrics.values())
    # ranking evaluation on (fold_in, fold_out) built from the training data
    metric_names = data.draw(st.lists(st.sampled_from(["recall@1", "ndcg@2", "precision@1", "map@2", "mrr",
                                                       "mrr@2", "coverage@1", "recall_nout@3", "ndcg@0",
                                                       "bogus@1", "rmse", "recall", "ndcg@99"]),
                                      min_size=0, max_size=3), "metrics")
    fold_in = train
    fold_out = af.Interactions(train.matrix, user_ids=train.user_ids, item_ids=train.item_ids)
    if name != "svae":
        fold_in = data.draw(st.sampled_from([train, train.matrix, train.matrix.toarray()]), "fold_in")
    result = attempt(af.evaluate, model, (fold_in, fold_out), metric_names, per_user=True, allowed=SCORE_ALLOWED)
    if result is not REJECTED:
        for key, value in result.items():
            if key != "per_user":
                assert 0.0 <= value <= 1.0, (key, value)


def test_fuzz_train_and_infer():
    run_in_child(__name__.rpartition(".")[2], "prop_train_and_infer", 1500)
