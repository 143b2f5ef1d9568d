"""autorec_fast.distributed on a real dask.distributed LocalCluster (2 worker processes,
2 threads each, the real scheduler; no mocks): EASE, recommend and evaluate give the
single-machine results; bad input gets errors naming the problem; a worker killed
mid-Gram changes nothing."""

from __future__ import annotations

import os
import signal
import threading
import time
import warnings

import numpy as np
import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

import autorec_fast as af  # noqa: E402
import autorec_fast.distributed as afd  # noqa: E402
from autorec_fast._data.original_ids import UnknownIdsWarning  # noqa: E402

WORKER_MEMORY = 2 << 30  # per worker: the memory-limit tests ask for more than this


@pytest.fixture(scope="module")
def client():
    from dask.distributed import Client, LocalCluster

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # start-up chatter (ports, event loops) is not ours to test
        cluster = LocalCluster(n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None,
                               memory_limit=WORKER_MEMORY, silence_logs=50)
        c = Client(cluster)
    yield c
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c.close()
        cluster.close()


def synthetic_frame(seed, n_users=400, n_items=120, per_user=(1, 30), string_ids=False):
    """Implicit (user, item) rows in original ids, users' rows scattered in random order
    (so ``from_pandas`` partitions split users: the shuffle must regroup them)."""
    rng = np.random.default_rng(seed)
    rows = []
    popularity = rng.dirichlet(np.full(n_items, 0.3))
    for u in range(n_users):
        k = int(rng.integers(per_user[0], per_user[1] + 1))
        items = rng.choice(n_items, size=min(k, n_items), replace=False, p=popularity)
        rows += [(u, i) for i in items]
    df = pd.DataFrame(rows, columns=["user", "item"]).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    df["user"] = df["user"] * 7 + 1000  # ids, not indices
    df["item"] = df["item"] * 3 + 5
    if string_ids:
        df["user"] = "u" + df["user"].astype(str)
        df["item"] = "i" + df["item"].astype(str)
    return df


def by_user(df):
    return df.sort_values(["user", "rank"]).reset_index(drop=True)


def users_split(df, seed, frac=0.8):
    """Held-out users' rows -> (fold_in, fold_out) DataFrames (random rows per user)."""
    rng = np.random.default_rng(seed)
    mask = rng.random(len(df)) < frac
    return df[mask].reset_index(drop=True), df[~mask].reset_index(drop=True)


# --------------------------------------------------------------------- EASE
@pytest.mark.parametrize("seed", [0, 1])
def test_fit_ease_equals_single_machine(client, seed):
    df = synthetic_frame(seed)
    single = af.train("ease", df, l2=30.0, dtype="float64")
    model = afd.fit_ease(dd.from_pandas(df, npartitions=7), l2=30.0, dtype="float64", client=client)
    assert isinstance(model, af.EASE)
    np.testing.assert_array_equal(model.item_ids, single.item_ids)
    np.testing.assert_allclose(model.weights, single.weights, rtol=1e-9, atol=1e-12)
    assert model.fit_info["workers"] == 2 and model.fit_info["partitions"] == 7
    # the fitted model is the ordinary one: it scores, saves and loads as usual
    hist = df[df.user < 1500]
    np.testing.assert_array_equal(model.recommend(hist, k=5).item, single.recommend(hist, k=5).item)


def test_fit_ease_string_ids_float32_and_factorisation_on_a_worker(client):
    df = synthetic_frame(2, string_ids=True)
    single = af.train("ease", df, l2=30.0)
    worker = sorted(client.scheduler_info()["workers"])[1]
    for where in ("client", worker):
        model = afd.fit_ease(dd.from_pandas(df, npartitions=3), l2=30.0, factorize_on=where, client=client)
        assert model.weights.dtype == np.float32
        np.testing.assert_array_equal(model.item_ids, single.item_ids)
        # 0/1 data: the Gram's entries are integers, exact in float32 whatever the sum order
        np.testing.assert_allclose(model.weights, single.weights, rtol=1e-5, atol=1e-7)


def test_ml100k_ease_recommend_evaluate(client, ml100k_path):
    raw = pd.read_csv(ml100k_path, sep="\t", names=["user", "item", "rating", "timestamp"])
    df = raw[raw.rating > 3.5][["user", "item"]].reset_index(drop=True)
    held = np.random.default_rng(0).choice(df.user.unique(), 150, replace=False)
    train_df, test_df = df[~df.user.isin(held)], df[df.user.isin(held)]
    single = af.train("ease", train_df, l2=200.0, dtype="float64")
    model = afd.fit_ease(dd.from_pandas(train_df, npartitions=6), l2=200.0, dtype="float64", client=client)
    np.testing.assert_allclose(model.weights, single.weights, rtol=1e-9, atol=1e-12)
    fold_in, fold_out = users_split(test_df, 1)
    rec = afd.recommend(model, dd.from_pandas(fold_in, npartitions=4), k=20).compute()
    with pytest.warns(UnknownIdsWarning):  # held-out users rated items no training user liked
        want = single.recommend(fold_in, k=20)
    pd.testing.assert_frame_equal(by_user(rec), by_user(want), check_dtype=False)
    metrics = ["recall@20", "ndcg@100", "mrr", "coverage@10", "map@10"]
    with pytest.warns(UnknownIdsWarning):
        expected = af.evaluate(single, (fold_in, fold_out), metrics)
    with pytest.warns(UnknownIdsWarning):
        got = afd.evaluate(model, (dd.from_pandas(fold_in, npartitions=3), dd.from_pandas(fold_out, npartitions=2)),
                           metrics, client=client)
    assert got.keys() == expected.keys()
    for name in metrics:
        assert got[name] == pytest.approx(expected[name], rel=1e-12), name


# ---------------------------------------------------------------- recommend
@pytest.mark.parametrize("name,options", [
    ("ease", {"l2": 20.0}),
    ("itemknn", {}),
    ("multvae", {"epochs": 2, "layers": [16], "seed": 0}),
])
def test_recommend_equals_single_machine(client, name, options):
    df = synthetic_frame(3)
    model = af.train(name, df, **options)
    hist = synthetic_frame(4, n_users=90)  # new users, scored from their histories
    hist = hist[hist.item.isin(df.item)]  # items the model knows (unknown ones: the next test)
    for exclude_seen in (True, False):
        got = afd.recommend(model, dd.from_pandas(hist, npartitions=5), k=7, exclude_seen=exclude_seen,
                            batch_size=16, client=client)
        assert list(got.columns) == ["user", "item", "score", "rank"]
        got, want = by_user(got.compute()), by_user(model.recommend(hist, k=7, exclude_seen=exclude_seen))
        assert len(got) == len(want) == hist.user.nunique() * 7
        pd.testing.assert_frame_equal(got[["user", "rank"]], want[["user", "rank"]], check_dtype=False)
        # batches of different rows: BLAS may block a GEMM differently, so scores
        # agree to float32 rounding; the ranked items agree wherever scores are not tied
        np.testing.assert_allclose(got.score.to_numpy(), want.score.to_numpy(), rtol=1e-5, atol=1e-6)
        if name != "multvae":
            np.testing.assert_array_equal(got.item.to_numpy(), want.item.to_numpy())


def test_recommend_unknown_items_are_dropped(client):
    df = synthetic_frame(5)
    model = af.train("popularity", df)
    hist = synthetic_frame(6, n_users=40)
    hist = hist[hist.item.isin(df.item)].reset_index(drop=True)
    hist.loc[hist.index[:5], "item"] = 999_999  # items the model never saw: dropped
    with pytest.warns(UnknownIdsWarning):
        want = model.recommend(hist, k=4)
    got = afd.recommend(model, dd.from_pandas(hist, npartitions=3), k=4, client=client).compute()
    pd.testing.assert_frame_equal(by_user(got), by_user(want), check_dtype=False)


def test_to_parquet(client, tmp_path):
    df = synthetic_frame(7)
    model = af.train("ease", df, l2=20.0)
    afd.recommend(model, dd.from_pandas(df, npartitions=4), k=3, client=client).to_parquet(tmp_path / "recs")
    back = pd.read_parquet(tmp_path / "recs")
    assert len(back) == df.user.nunique() * 3 and set(back.columns) == {"user", "item", "score", "rank"}


# ----------------------------------------------------------------- evaluate
def test_evaluate_ranking_equals_single_machine(client):
    train_df = synthetic_frame(8)
    model = af.train("multdae", train_df, epochs=2, layers=[16], seed=0)
    held = synthetic_frame(9, n_users=120)
    fold_in, fold_out = users_split(held[held.item.isin(train_df.item)], 2)
    fold_in.loc[fold_in.index[:3], "item"] = -1  # unknown: dropped and counted
    metrics = ["recall@5", "recall_nout@5", "ndcg@10", "precision@3", "mrr@5", "coverage@5"]
    with pytest.warns(UnknownIdsWarning, match="3 of"):
        want = af.evaluate(model, (fold_in, fold_out), metrics)
    with pytest.warns(UnknownIdsWarning, match="3 of"):
        got = afd.evaluate(model, (dd.from_pandas(fold_in, npartitions=4), dd.from_pandas(fold_out, npartitions=5)),
                           metrics, batch_size=8, client=client)
    for name in metrics:
        assert got[name] == pytest.approx(want[name], rel=1e-6), name


def test_evaluate_ratings_equals_single_machine(client):
    rng = np.random.default_rng(10)
    df = synthetic_frame(10)
    df["rating"] = rng.integers(1, 6, len(df)).astype(float)
    model = af.train("bias", df)
    test = df.sample(frac=0.3, random_state=0).reset_index(drop=True)
    want = af.evaluate(model, test, ["rmse", "mae"])
    got = afd.evaluate(model, dd.from_pandas(test, npartitions=4), ["rmse", "mae"], client=client)
    assert got == pytest.approx(want, rel=1e-12)
    with pytest.raises(ValueError, match="'rating' column"):
        afd.evaluate(model, dd.from_pandas(test[["user", "item"]], npartitions=2), ["rmse"], client=client)


# ------------------------------------------------------------- partitioning
def _user_ranges(df, n_parts):
    """Partitions holding whole users (ranges of user ids)."""
    users = np.sort(df.user.unique())
    edges = users[np.linspace(0, len(users), n_parts + 1).astype(int)[1:-1]]
    parts = [df[(df.user >= lo) & (df.user < hi)] for lo, hi in zip(np.r_[users[0], edges], np.r_[edges, np.inf])]
    return dd.from_delayed([__import__("dask").delayed(p) for p in parts], meta=df.iloc[:0])


def test_grouped_input_and_empty_partitions(client):
    df = synthetic_frame(11)
    single = af.train("ease", df, l2=25.0, dtype="float64")
    grouped = _user_ranges(df, 4)
    # an empty partition, and one holding no user at all, change nothing
    grouped = dd.concat([grouped, dd.from_pandas(df.iloc[:0], npartitions=1)])
    model = afd.fit_ease(grouped, l2=25.0, dtype="float64", grouped=True, client=client)
    np.testing.assert_allclose(model.weights, single.weights, rtol=1e-9, atol=1e-12)
    got = afd.recommend(single, grouped, k=5, grouped=True, client=client).compute()
    pd.testing.assert_frame_equal(by_user(got), by_user(single.recommend(df, k=5)), check_dtype=False)


def test_grouped_true_detects_users_in_several_partitions(client):
    df = synthetic_frame(12)  # rows in random order: every partition holds parts of many users
    ddf = dd.from_pandas(df, npartitions=4)
    with pytest.raises(ValueError, match="several partitions"):
        afd.fit_ease(ddf, grouped=True, client=client)
    model = af.train("ease", df, l2=20.0)
    lazy = afd.recommend(model, ddf, k=3, grouped=True, client=client)
    with pytest.raises(ValueError, match="several partitions"):
        lazy.compute()


# ---------------------------------------------------------------- bad input
def test_bad_input_names_the_problem(client):
    df = synthetic_frame(13)
    model = af.train("ease", df, l2=20.0)
    with pytest.raises(TypeError, match="Dask DataFrame.*from_pandas"):
        afd.fit_ease(df, client=client)
    with pytest.raises(ValueError, match=r"needs the column\(s\) \['item'\]"):
        afd.fit_ease(dd.from_pandas(df.rename(columns={"item": "thing"}), npartitions=2), client=client)
    with pytest.raises(TypeError, match=r"data\['item'\] holds float64 ids"):
        afd.fit_ease(dd.from_pandas(df.assign(item=df.item + 0.5), npartitions=2), client=client)
    with pytest.raises(TypeError, match="holds bool ids"):
        afd.recommend(model, dd.from_pandas(df.assign(user=df.user > 2000), npartitions=2), client=client)
    with pytest.raises(ValueError, match="l2"):
        afd.fit_ease(dd.from_pandas(df, npartitions=2), l2=-1.0, client=client)
    with pytest.raises(ValueError, match="factorize_on"):
        afd.fit_ease(dd.from_pandas(df, npartitions=2), factorize_on="tcp://nowhere:1", client=client)
    with pytest.raises(TypeError, match="client must be"):
        afd.fit_ease(dd.from_pandas(df, npartitions=2), client="localhost")
    with pytest.raises(ValueError, match="k"):
        afd.recommend(model, dd.from_pandas(df, npartitions=2), k=0, client=client)
    with pytest.raises(TypeError, match="pair"):
        afd.evaluate(model, dd.from_pandas(df, npartitions=2), ["ndcg@5"], client=client)
    with pytest.raises(ValueError, match="no interactions"):
        afd.fit_ease(dd.from_pandas(df.iloc[:0], npartitions=1), client=client)


def test_too_large_for_the_workers_is_refused_before_computing(client):
    n = 20_000  # float32 weights 1.6 GB: twice that while they arrive exceeds the 2 GiB limit
    model = af.EASE()
    model.weights = np.zeros((n, n), np.float32)  # calloc: no page is touched
    model.item_ids, model.n_items = np.arange(n), n
    hist = dd.from_pandas(pd.DataFrame({"user": [1, 2], "item": [0, 1]}), npartitions=1)
    with pytest.raises(MemoryError, match="memory limit"):
        afd.recommend(model, hist, client=client)
    wide = dd.from_pandas(pd.DataFrame({"user": np.arange(n) % 50, "item": np.arange(n)}), npartitions=2)
    with pytest.raises(MemoryError, match="partial Gram of 20,000 items"):
        afd.fit_ease(wide, client=client)


# ------------------------------------------------------------------ threads
def test_worker_threads_follow_the_worker(client):
    def threads_in_tasks():  # local: Dask sends it by value (workers cannot import this module)
        from autorec_fast.backends.threads import blas_num_threads, get_num_threads
        from autorec_fast.distributed._cluster import worker_threads

        out = {}
        for whole in (False, True):
            with worker_threads(whole_worker=whole):
                out[whole] = (get_num_threads(), sorted(set(blas_num_threads().values())))
        return out

    for addr in client.scheduler_info()["workers"]:
        got = client.submit(threads_in_tasks, workers=[addr], pure=False).result(timeout=60)
        assert got[False] == (1, [1])  # a task sharing its worker: one thread
        assert got[True] == (2, [2])  # a task that has the worker to itself: the worker's 2 threads


# ------------------------------------------------------------ worker failure
def test_worker_killed_mid_gram_changes_nothing(client):
    df = synthetic_frame(14, n_users=6000, n_items=1500, per_user=(40, 160))
    single = af.train("ease", df, l2=50.0, dtype="float64")
    pids = client.run(os.getpid)
    killed = {}

    def killer():
        deadline = time.time() + 60
        while time.time() < deadline and not killed:
            for addr, keys in client.processing().items():
                if any("partial_gram" in str(k) for k in keys) and addr in pids:
                    os.kill(pids[addr], signal.SIGKILL)
                    killed[addr] = keys
                    return
            time.sleep(0.005)

    thread = threading.Thread(target=killer)
    thread.start()
    model = afd.fit_ease(dd.from_pandas(df, npartitions=6), l2=50.0, dtype="float64", client=client)
    thread.join()
    assert killed, "no partial Gram was seen running (the test did not kill a worker)"
    np.testing.assert_allclose(model.weights, single.weights, rtol=1e-9, atol=1e-12)
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the killed worker for the next tests


def test_the_same_model_is_sent_to_the_workers_once(client):
    """Dask keeps the graphs of computed lazy results, and the model futures in them: a
    scatter per call left one more copy of the model on every worker each time."""
    df = synthetic_frame(15)
    model = af.train("ease", df, l2=20.0)
    ddf = dd.from_pandas(df, npartitions=3)

    def copies():
        return sum(client.run(lambda dask_worker: sum(type(v).__name__ == "EASE" for v in dask_worker.data.values()))
                   .values())

    before = copies()
    for _ in range(3):
        afd.recommend(model, ddf, k=3, client=client).compute()
    afd.evaluate(model, (ddf, ddf), ["ndcg@5"], client=client)
    assert copies() - before == 2  # one copy on each of the 2 workers
