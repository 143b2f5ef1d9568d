"""Metric definitions (REFERENCE.md) against a direct per-user computation."""

import numpy as np
import pytest
import scipy.sparse as sp

import autorec_fast as af


class LinearScores(af.EASE):
    """scores = history @ W for a given W: isolates the evaluation from any fitting."""

    def __init__(self, W):
        super().__init__(l2=1.0)
        self.weights = W
        self.n_items = W.shape[1]
        self.item_ids = np.arange(self.n_items)
        self.dtype = np.dtype(W.dtype)


def reference_metrics(scores, fold_in, fold_out, k):
    """One user at a time, straight from the definitions."""
    res = {"recall": [], "recall_nout": [], "ndcg": [], "precision": [], "map": [], "mrr_k": [], "mrr": []}
    covered = set()
    for r in range(scores.shape[0]):
        targets = set(np.flatnonzero(fold_out[r]))
        if not targets:
            continue
        s = scores[r].astype(np.float64).copy()
        s[fold_in[r] > 0] = -np.inf
        order = sorted(range(len(s)), key=lambda j: (-s[j], j))
        top = order[:k]
        covered.update(top)
        rel = [1.0 if j in targets else 0.0 for j in top]
        n = len(targets)
        res["recall"].append(sum(rel) / min(k, n))
        res["recall_nout"].append(sum(rel) / n)
        res["precision"].append(sum(rel) / k)
        dcg = sum(x / np.log2(i + 2) for i, x in enumerate(rel))
        idcg = sum(1 / np.log2(i + 2) for i in range(min(k, n)))
        res["ndcg"].append(dcg / idcg)
        ap = sum((sum(rel[: i + 1]) / (i + 1)) * rel[i] for i in range(k)) / min(k, n)
        res["map"].append(ap)
        res["mrr_k"].append(next((1 / (i + 1) for i, x in enumerate(rel) if x), 0.0))
        full_rank = next(i for i, j in enumerate(order) if j in targets) + 1
        res["mrr"].append(1 / full_rank)
    out = {name: float(np.mean(v)) for name, v in res.items()}
    out["coverage"] = len(covered) / scores.shape[1]
    return out


@pytest.mark.parametrize("batch_size", [7, 1000])
def test_metrics_match_definitions(batch_size):
    rng = np.random.default_rng()
    n_users, n_items, k = 40, 60, 10
    W = rng.integers(0, 3, (n_items, n_items)).astype(np.float32)  # integer scores: many ties
    fold_in = (rng.random((n_users, n_items)) < 0.15).astype(np.float32)
    fold_in[:, 0] = 1  # nobody has an empty history
    scores = fold_in @ W
    fold_out = ((rng.random((n_users, n_items)) < 0.1) & (fold_in == 0)).astype(np.float32)
    fold_out[3] = 0  # a user without targets: left out of the averages
    fold_out[4] = 0
    fold_out[4, 5] = 1 if fold_in[4, 5] == 0 else 0
    names = [f"recall@{k}", f"recall_nout@{k}", f"ndcg@{k}", f"precision@{k}", f"map@{k}",
             f"mrr@{k}", "mrr", f"coverage@{k}"]
    got = af.evaluate(LinearScores(W), (sp.csr_matrix(fold_in), sp.csr_matrix(fold_out)), names,
                      batch_size=batch_size)
    ref = reference_metrics(scores, fold_in, fold_out, k)
    for name, key in zip(names, ["recall", "recall_nout", "ndcg", "precision", "map", "mrr_k", "mrr", "coverage"]):
        assert got[name] == pytest.approx(ref[key], rel=1e-12), name


def test_per_user_values_and_users_without_targets():
    W = np.array([[0, 2, 1, 0], [0, 1, 2, 3], [1, 1, 1, 1], [0, 0, 0, 0]], np.float32)
    # user 0 folds in item 0 (scores 0 2 1 0), user 1 item 1 (0 1 2 3), user 2 item 2
    fold_in = sp.csr_matrix(np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], np.float32))
    fold_out = sp.csr_matrix(np.array([[0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0]], np.float32))
    got = af.evaluate(LinearScores(W), (fold_in, fold_out), ["recall@1", "recall@2", "ndcg@3"],
                      per_user=True)
    # user 0 ranks items 1, 2, 3 (item 0 folded in): target 2 at position 2;
    # user 1 ranks 3, 2, 0: target 0 at position 3; user 2 has no target
    np.testing.assert_allclose(got["per_user"]["recall@1"], [0.0, 0.0])
    np.testing.assert_allclose(got["per_user"]["recall@2"], [1.0, 0.0])
    np.testing.assert_allclose(got["per_user"]["ndcg@3"], [1 / np.log2(3), 1 / np.log2(4)])


def test_bad_metric_names_and_data():
    model = af.train("ease", sp.csr_matrix(np.eye(5)), l2=1.0)
    pair = (sp.csr_matrix(np.eye(5)), sp.csr_matrix(np.roll(np.eye(5), 1, axis=1)))
    for bad in ["recal@20", "ndcg", "ndcg@0", "rmse@5", "ndcg@x"]:
        with pytest.raises(ValueError, match="metrics"):
            af.evaluate(model, pair, [bad])
    with pytest.raises(ValueError, match="exceeds the number of items"):
        af.evaluate(model, pair, ["ndcg@6"])
    with pytest.raises(ValueError, match="rating-prediction"):
        af.evaluate(model, af.Interactions.from_scipy(sp.csr_matrix(np.eye(5))), ["rmse"])
    with pytest.raises(TypeError, match="data"):
        af.evaluate(model, sp.csr_matrix(np.eye(5)), ["ndcg@2"])
    with pytest.raises(ValueError, match="fold_in.*columns"):
        af.evaluate(model, (sp.csr_matrix(np.eye(4)), pair[1]), ["ndcg@2"])
    with pytest.raises(ValueError, match="no user has fold-out"):
        af.evaluate(model, (pair[0], sp.csr_matrix((5, 5))), ["ndcg@2"])


def test_rating_metrics_match_test_data_to_the_model_by_id():
    """A test DataFrame (or Interactions) in original ids is matched to the model's users
    and items by id, not by its own index: the RMSE equals the one computed by hand
    through predict() on the model's indices; unknown users/items get the mean."""
    import pandas as pd

    rng = np.random.default_rng(0)
    users, items = rng.integers(100, 160, 2500), rng.integers(1000, 1060, 2500)
    df = pd.DataFrame({"user": users, "item": items, "rating": rng.integers(1, 6, 2500).astype(float)})
    df = df.drop_duplicates(["user", "item"])
    cut = int(0.8 * len(df))
    train, test = df.iloc[:cut], df.iloc[cut:].copy()
    test.loc[test.index[0], "user"] = 9999  # a user the model never saw
    model = af.train("autorec", train, epochs=3, hidden=8, seed=0)
    uid = {u: i for i, u in enumerate(model.user_ids)}
    iid = {v: i for i, v in enumerate(model.item_ids)}
    u = np.array([uid.get(x, -1) for x in test["user"]])
    i = np.array([iid.get(x, -1) for x in test["item"]])
    want = np.sqrt(np.mean((model.predict(u, i, unknown="default") - test["rating"].to_numpy()) ** 2))
    for data in (test, af.as_interactions(test)):  # the unknown user is reported
        with pytest.warns(af.UnknownIdsWarning, match=r"1 of .* \(1 with an unknown user"):
            assert af.evaluate(model, data, ["rmse"])["rmse"] == pytest.approx(want, rel=1e-12)


def test_interactions_labelled_with_other_item_ids_are_refused():
    """Columns are read by position: an Interactions whose item ids are not the model's
    (another order, other ids) would score the wrong items, so it is a ValueError;
    the model's own ids and unlabelled (0..n-1) columns are accepted."""
    rng = np.random.default_rng()
    items = np.array([50, 10, 40, 20, 30])
    users = np.repeat(np.arange(12), 3)
    train = af.Interactions.from_arrays(users, rng.choice(items, users.size), item_ids=items)
    model = af.train("ease", train, l2=1.0)
    fold_out = af.Interactions.from_arrays([0, 1], [10, 40], item_ids=items)
    same = af.Interactions.from_arrays([0, 1], [20, 30], item_ids=items)
    unlabelled = af.Interactions.from_scipy(same.matrix)
    expected = af.evaluate(model, (same, fold_out), ["recall@2"])
    assert af.evaluate(model, (unlabelled, fold_out), ["recall@2"]) == expected
    np.testing.assert_array_equal(model.recommend(unlabelled, k=2)[0], model.recommend(same, k=2)[0])
    reordered = af.Interactions.from_arrays([0, 1], [20, 30], item_ids=np.sort(items))
    other = af.Interactions.from_arrays([0, 1], [2, 3], item_ids=[1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match="data.fold_in: its item ids are the model's in another order"):
        af.evaluate(model, (reordered, fold_out), ["recall@2"])
    with pytest.raises(ValueError, match="data.fold_out: its item ids are not the model's"):
        af.evaluate(model, (same, other), ["recall@2"])
    with pytest.raises(ValueError, match="history: its item ids are not the model's"):
        model.recommend(other, k=2)
