"""Original ids everywhere a user types them (issue 14): recommend(DataFrame),
recommend(users=...) with fit(..., keep_history=True), predict(DataFrame), evaluate on
DataFrames, for every model and ids that are strings, negative or non-contiguous ints."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import autorec_fast as af
from helpers import RATING_MODELS, SMALL

pd = pytest.importorskip("pandas")

RATING = RATING_MODELS
ID_KINDS = {
    # strings sort in another order than their numbers ("u-10" < "u-2")
    "str": (lambda u: np.array([f"u-{x}" for x in u], dtype=object),
            lambda i: np.array([f"item {x}" for x in i], dtype=object)),
    "negative": (lambda u: -(3 * u + 1), lambda i: -(i + 1) * 5),
    "sparse": (lambda u: 1000 * u + 17, lambda i: 10**9 + i * i),
}
UNKNOWN_ITEM = {"str": "no such item", "negative": 1, "sparse": 3}


def test_every_model_is_covered():
    assert set(SMALL) == set(af.MODELS)


def frames(kind):
    """(training DataFrame, history DataFrame of 8 training users and 2 new ones,
    shuffled, plus one row with an unknown item) in original ids."""
    base = af.synthetic(n_users=50, n_items=30, density=0.25, implicit=False, seed=3)
    u, i, r, _ = base.to_coo_arrays()
    rng = np.random.default_rng(0)
    to_user, to_item = ID_KINDS[kind]
    train = pd.DataFrame({"user": to_user(u), "item": to_item(i), "rating": r.astype(float),
                          "timestamp": rng.permutation(u.size)})
    known = train[train["user"].isin(to_user(np.array([4, 7, 1, 30, 12, 9, 22, 40])))]
    new = pd.DataFrame({"user": to_user(np.array([900, 900, 900, 901, 901])),
                        "item": to_item(np.array([2, 5, 11, 0, 3])), "rating": [5.0, 3.0, 4.0, 2.0, 5.0],
                        "timestamp": [3, 1, 2, 7, 5]})
    stray = pd.DataFrame({"user": to_user(np.array([7])), "item": [UNKNOWN_ITEM[kind]], "rating": [4.0],
                          "timestamp": [10**6]})
    history = pd.concat([known, new, stray]).sample(frac=1.0, random_state=1).reset_index(drop=True)
    return train, history


def for_model(name, df):
    """Ratings for the rating models; the others get (user, item[, timestamp])."""
    return df if name in RATING else df.drop(columns="rating")


def fit(name, train, **kw):
    return af.train(name, for_model(name, train), **SMALL[name], **kw)


def by_index(model, history):
    """The history DataFrame as the model's index-space input, built by hand through its
    id maps: a CSR (rows: users in order of first appearance), for SVAE an Interactions
    with the timestamps."""
    col = {v: j for j, v in enumerate(model.item_ids.tolist())}
    hist = history[history["item"].isin(list(col))]
    order = list(dict.fromkeys(history["user"].tolist()))
    row = {v: j for j, v in enumerate(order)}
    rows = np.array([row[v] for v in hist["user"]])
    cols = np.array([col[v] for v in hist["item"]])
    if model.name == "svae":
        return af.Interactions.from_arrays(rows, cols, timestamps=hist["timestamp"].to_numpy(),
                                           user_ids=np.arange(len(order)), item_ids=np.arange(model.n_items)), order
    values = hist["rating"].to_numpy() if model.name in RATING else np.ones(len(hist))
    return sp.csr_matrix((values, (rows, cols)), shape=(len(order), model.n_items)), order


def assert_frame_matches(frame, users, items, scores, item_ids):
    """The DataFrame (user, item, score, rank) holds the index-space top-k arrays; the
    padding of a user with fewer than k unseen items (index -1) has no row."""
    k = items.shape[1]
    valid = (items >= 0).ravel()
    assert list(frame.columns) == ["user", "item", "score", "rank"]
    assert frame["user"].tolist() == np.repeat(np.asarray(users, dtype=object), k)[valid].tolist()
    assert frame["item"].tolist() == item_ids[items.ravel()[valid]].tolist()
    assert frame["rank"].tolist() == np.tile(np.arange(1, k + 1), len(users))[valid].tolist()
    np.testing.assert_allclose(frame["score"].to_numpy(), scores.ravel()[valid], rtol=1e-6)
    return int((~valid).sum())


def check_recommend(model, train, history, k, tmp_path):
    """recommend by original id against the index-space calls; the kept history."""
    # recommend(DataFrame) == recommend(the same histories through the model's id maps)
    with pytest.warns(af.UnknownIdsWarning, match="1 of .* rows name items the model never saw"):
        got = model.recommend(history, k=k)
    X, order = by_index(model, history)
    items, scores = model.recommend(X, k=k)
    assert assert_frame_matches(got, order, items, scores, model.item_ids) == k  # user 9 has seen every item
    if model.name == "svae":  # its order comes from the timestamps, which it needs
        with pytest.raises(ValueError, match="timestamps"), pytest.warns(af.UnknownIdsWarning):
            model.recommend(history.drop(columns="timestamp"), k=k)

    # recommend(users=...) == recommending their training rows; kept through save/load
    inter = af.as_interactions(for_model(model.name, train))
    seen = train.groupby("user").size()
    users = [u for u in dict.fromkeys(history["user"]) if u in seen.index][:5]
    light = next(u for u in users if seen[u] <= model.n_items - k)  # one with k unseen items
    rows = [inter.user_ids.tolist().index(u) for u in users]
    items, scores = model.recommend(inter.subset_users(rows), k=k)
    got = model.recommend(users=users, k=k)
    assert_frame_matches(got, users, items, scores, model.item_ids)
    model.save(tmp_path / "m.npz")
    pd.testing.assert_frame_equal(af.load(tmp_path / "m.npz").recommend(users=users, k=k), got)

    # unknown users: a ValueError naming them, or left out with a warning
    stranger = history["user"][~history["user"].isin(train["user"])].iloc[0]
    with pytest.raises(ValueError, match=f"1 of the 2 users are not training users.*{stranger}"):
        model.recommend(users=[light, stranger], k=k)
    with pytest.warns(af.UnknownIdsWarning, match="1 of the 2 users"):
        skipped = model.recommend(users=[stranger, light], k=k, unknown="skip")
    pd.testing.assert_frame_equal(skipped, got[got["user"] == light].reset_index(drop=True))


@pytest.mark.parametrize("kind", sorted(ID_KINDS))
@pytest.mark.parametrize("name", sorted(af.MODELS))
def test_original_ids(name, kind, tmp_path):
    train, history = frames(kind)
    history = for_model(name, history)
    model = fit(name, train, keep_history=True)
    k = 5
    stranger = history["user"][~history["user"].isin(train["user"])].iloc[0]

    if name == "autorec":  # it predicts ratings only; what it keeps still travels through save/load
        with pytest.raises(ValueError, match="predicts ratings"), pytest.warns(af.UnknownIdsWarning):
            model.recommend(history, k=k)
        model.save(tmp_path / "m.npz")
        loaded = af.load(tmp_path / "m.npz")
        assert (loaded._kept_history != model._kept_history).nnz == 0
        np.testing.assert_array_equal(loaded.user_ids, model.user_ids)
        with pytest.raises(ValueError, match=f"not training users.*{stranger}"):
            model.recommend(users=[stranger], k=k)
    else:
        check_recommend(model, train, history, k, tmp_path)

    # missing columns are named
    with pytest.raises(ValueError, match=r"needs the column\(s\) \['item'\]"):
        model.recommend(history.rename(columns={"item": "thing"}), k=k)
    with pytest.raises(ValueError, match=r"needs the column\(s\) \['user', 'item'\]"):
        model.recommend(history[["timestamp"]], k=k)

    if name in RATING:  # predict(DataFrame) == predict(index pairs through the id maps)
        pairs = train.iloc[::7][["user", "item"]]
        u = np.array([model.user_ids.tolist().index(x) for x in pairs["user"]])
        i = np.array([model.item_ids.tolist().index(x) for x in pairs["item"]])
        np.testing.assert_array_equal(model.predict(pairs), model.predict(u, i))
        odd = pd.DataFrame({"user": [pairs["user"].iloc[0], stranger],
                            "item": [UNKNOWN_ITEM[kind], pairs["item"].iloc[1]]})
        with pytest.raises(ValueError, match="1 rows with users the model never saw.*1 rows with items"):
            model.predict(odd)
        np.testing.assert_array_equal(model.predict(odd, unknown="default"),
                                      model.predict([u[0], -1], [-1, i[1]], unknown="default"))
        with pytest.raises(ValueError, match=r"needs the column\(s\) \['user'\]"):
            model.predict(pairs.rename(columns={"user": "who"}))


@pytest.mark.parametrize("name", ["ease", "bias"])
def test_keep_history_is_off_by_default(name, tmp_path):
    train, _ = frames("sparse")
    model = fit(name, train)
    with pytest.raises(ValueError, match="keep_history=True"):
        model.recommend(users=[train["user"].iloc[0]], k=3)
    model.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz") as f:
        assert not [key for key in f.files if key.startswith("kept_history")]
    if name == "ease":
        assert model.user_ids is None
    # a refit without keep_history drops what the previous fit kept
    model.fit(train.drop(columns="rating") if name == "ease" else train, keep_history=True)
    assert model._kept_history is not None
    model.fit(train.drop(columns="rating") if name == "ease" else train)
    assert model._kept_history is None
    with pytest.raises(TypeError, match="keep_history"):
        model.fit(train, keep_history="yes")


def test_recommend_needs_history_or_users():
    train, history = frames("str")
    model = fit("ease", train, keep_history=True)
    with pytest.raises(TypeError, match="either history or users"):
        model.recommend(history, users=["u-1"])
    with pytest.raises(TypeError, match="users="):
        model.recommend(k=3)
    with pytest.raises(ValueError, match="none of its"):
        model.recommend(pd.DataFrame({"user": ["a"], "item": ["nothing"]}), k=3)


def test_evaluate_reports_unknown_ids_and_takes_dataframe_pairs():
    train, history = frames("str")
    bias = fit("bias", train)
    test = train.iloc[::5].copy()
    test.loc[test.index[0], "user"] = "stranger"
    with pytest.warns(af.UnknownIdsWarning, match=r"1 of .* test ratings .*\(1 with an unknown user, 0 with an unknown item\)"):
        af.evaluate(bias, test, ["rmse"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        af.evaluate(bias, train.iloc[::5], ["rmse"])  # all known: no warning

    ease = fit("ease", train)
    history = for_model("ease", history)
    fold_in = history[~history["item"].isin(["no such item"])]
    fold_out = fold_in.groupby("user").tail(1)
    fold_in = fold_in.drop(fold_out.index)
    got = af.evaluate(ease, (fold_in, fold_out), ["ndcg@10", "recall@5"])
    (X_in, order), (X_out, order_out) = by_index(ease, fold_in), by_index(ease, fold_out)
    rows = [order.index(u) for u in order_out]
    assert af.evaluate(ease, (X_in[rows], X_out), ["ndcg@10", "recall@5"]) == pytest.approx(got, rel=1e-12)
    with pytest.raises(TypeError, match="two DataFrames"):
        af.evaluate(ease, (fold_in, X_out), ["ndcg@10"])
