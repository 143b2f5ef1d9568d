"""Tests of autorec_fast.splits: the splits that hold out entries of the same
users (random, per-user, temporal by each user's latest entries) and DeepRec's
split by date (time_split)."""

import numpy as np
import pytest
import scipy.sparse as sp
from helpers import keyed, row_counts

import autorec_fast as af
from autorec_fast.interactions import Interactions
from autorec_fast.splits import per_user_split, random_split, temporal_split


def assert_partition(data, train, test):
    for part in (train, test):
        assert part.shape == data.shape
        np.testing.assert_array_equal(part.user_ids, data.user_ids)
        np.testing.assert_array_equal(part.item_ids, data.item_ids)
        assert part.has_ratings == data.has_ratings
    a, b, full = keyed(train), keyed(test), keyed(data)
    assert not set(a) & set(b)
    assert {**a, **b} == full
    assert abs(train.matrix + test.matrix - data.matrix).max() == 0


# --------------------------------------------------------------------------
# random / per-user / temporal
# --------------------------------------------------------------------------
def test_random_split(data):
    train, test = random_split(data, 0.1, seed=3)
    assert_partition(data, train, test)
    assert test.nnz == round(0.1 * data.nnz)
    again, _ = random_split(data, 0.1, seed=3)
    assert keyed(again) == keyed(train)
    other, _ = random_split(data, 0.1, seed=4)
    assert keyed(other) != keyed(train)


def test_per_user_split(data):
    train, test = per_user_split(data, 0.25, seed=1)
    assert_partition(data, train, test)
    n = row_counts(data)
    np.testing.assert_array_equal(row_counts(test), np.floor(0.25 * n).astype(int))
    # min_interactions: users below it keep everything in train
    train2, test2 = per_user_split(data, 0.25, seed=1, min_interactions=30)
    assert_partition(data, train2, test2)
    assert np.all(row_counts(test2)[n < 30] == 0)
    assert np.all(row_counts(test2)[n >= 30] == np.floor(0.25 * n[n >= 30]))
    # different users get different random choices (not the first entries)
    first_k = [set(data.matrix.indices[s : s + k]) for s, k in
               zip(data.matrix.indptr[:-1], row_counts(test))]
    chosen = [set(test.matrix.indices[s:e]) for s, e in
              zip(test.matrix.indptr[:-1], test.matrix.indptr[1:])]
    assert first_k != chosen


def test_temporal_split_holds_out_latest(data):
    train, test = temporal_split(data, 0.3)
    assert_partition(data, train, test)
    n = row_counts(data)
    np.testing.assert_array_equal(row_counts(test), (0.3 * n).astype(int))
    for r in range(data.n_users):
        tr = train.timestamps[train.matrix.indptr[r] : train.matrix.indptr[r + 1]]
        te = test.timestamps[test.matrix.indptr[r] : test.matrix.indptr[r + 1]]
        if tr.size and te.size:
            assert te.min() >= tr.max()
            # ties at the boundary: later input position goes to test
            tie = te.min()
            if tie == tr.max():
                tr_o = train.entry_order[train.matrix.indptr[r] : train.matrix.indptr[r + 1]]
                te_o = test.entry_order[test.matrix.indptr[r] : test.matrix.indptr[r + 1]]
                assert te_o[te == tie].min() > tr_o[tr == tie].max()


def test_temporal_split_tie_break_by_input_order():
    inter = Interactions.from_arrays([1] * 5, [10, 11, 12, 13, 14], timestamps=[5, 9, 9, 1, 9])
    _train, test = temporal_split(inter, 0.5)  # int(2.5) = 2 held out
    assert set(test.item_ids[test.matrix.indices].tolist()) == {12, 14}


def test_split_errors(data):
    no_ts = Interactions.from_arrays([1, 2], [1, 2])
    with pytest.raises(ValueError, match="data has no timestamps"):
        temporal_split(no_ts)
    for split in (random_split, per_user_split, temporal_split):
        with pytest.raises(ValueError, match="test_fraction"):
            split(data, 1.0)
        with pytest.raises(ValueError, match="test_fraction"):
            split(data, 0)
        with pytest.raises(TypeError, match="test_fraction"):
            split(data, "0.2")
    with pytest.raises(ValueError, match="min_interactions"):
        per_user_split(data, min_interactions=-1)
    with pytest.raises(TypeError, match="data"):
        random_split([1, 2, 3])


# ---------------------------------------------------------------------------
# time_split (DeepRec's Netflix protocol)
# ---------------------------------------------------------------------------
def _dated():
    day = 86_400
    t0 = int(np.datetime64("2005-11-01", "s").astype(np.int64))
    #            user item  rating  time
    rows = [
        (0, 0, 5.0, t0),              # train
        (0, 1, 3.0, t0 + 10 * day),   # train
        (1, 1, 4.0, t0 + 20 * day),   # train
        (3, 0, 4.0, t0 + 5 * day),    # train
        (1, 2, 2.0, t0 + 40 * day),   # test period (2005-12-11), item 2 unseen in train: dropped
        (2, 3, 1.0, t0 - 400 * day),  # before train_start: dropped
        (2, 0, 4.0, t0 + 35 * day),   # test period, user 2 unseen in train: dropped
        (0, 3, 1.0, t0 + 70 * day),   # after test_end: dropped
        (1, 0, 5.0, t0 + 31 * day),   # test period, user 1 and item 0 seen: kept
        (3, 1, 2.0, t0 + 50 * day),   # test period: kept
    ]
    u, i, r, t = (np.array(c) for c in zip(*rows))
    return af.Interactions.from_arrays(u, i, r, timestamps=t)


def test_time_split_matches_the_rules():
    data = _dated()
    t = data.timestamps
    start, mid, end = (int(np.datetime64(d, "s").astype(np.int64)) for d in
                       ("2005-01-01", "2005-12-01", "2006-01-01"))
    split = af.time_split(data, "2005-12-01", "2006-01-01", train_start="2005-01-01",
                          validation_fraction=0.5, seed=3)
    for part in split.train, split.validation, split.test:
        assert part.shape == data.shape
        np.testing.assert_array_equal(part.user_ids, data.user_ids)
    # an independent transcription of the rules over the stored entries
    m = data.matrix
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    cols = m.indices
    train = (t >= start) & (t < mid)
    seen_u, seen_i = set(rows[train]), set(cols[train])
    test_period = [(t[e] >= mid) and (t[e] < end) and rows[e] in seen_u and cols[e] in seen_i
                   for e in range(m.nnz)]
    got_train = set(zip(*split.train.matrix.nonzero()))
    assert got_train == {(rows[e], cols[e]) for e in range(m.nnz) if train[e]}
    got_rest = set(zip(*split.validation.matrix.nonzero())) | set(zip(*split.test.matrix.nonzero()))
    assert got_rest == {(rows[e], cols[e]) for e in range(m.nnz) if test_period[e]}
    assert not set(zip(*split.validation.matrix.nonzero())) & set(zip(*split.test.matrix.nonzero()))
    assert split.train.timestamps is not None


def test_time_split_fraction_seed_and_errors():
    data = af.synthetic("ml-100k", seed=1)
    cut = int(np.median(data.timestamps))
    a = af.time_split(data, cut, seed=5)
    b = af.time_split(data, cut, seed=5)
    np.testing.assert_array_equal(a.validation.matrix.indices, b.validation.matrix.indices)
    n_val, n_test = a.validation.nnz, a.test.nnz
    assert n_val + n_test > 100 and abs(n_val / (n_val + n_test) - 0.5) < 0.1
    none = af.time_split(data, cut, validation_fraction=0.0)
    assert none.validation.nnz == 0 and none.test.nnz == n_val + n_test
    with pytest.raises(ValueError, match="timestamps"):
        af.time_split(sp.csr_matrix(np.eye(3)), 10)
    with pytest.raises(ValueError, match="train_end"):
        af.time_split(data, "not a date")
    with pytest.raises(ValueError, match="test_end"):
        af.time_split(data, cut, cut - 1)
    with pytest.raises(ValueError, match="train_start"):
        af.time_split(data, cut, train_start=cut + 1)
    with pytest.raises(ValueError, match="validation_fraction"):
        af.time_split(data, cut, validation_fraction=1.0)
    with pytest.raises(ValueError, match="no interactions before"):
        af.time_split(data, int(data.timestamps.min()))


def test_deeprec_on_a_time_split():
    """End to end on the date split: validation RMSE per epoch, the best epoch
    kept, test RMSE/MAE through evaluate (future ratings, known users and items)."""
    data = af.synthetic("ml-100k", seed=2)
    split = af.time_split(data, int(np.quantile(data.timestamps, 0.8)), seed=0)
    model = af.train("deeprec", split.train, layers=[64, 32], epochs=20, lr=0.01, batch_size=64,
                     validation=split.validation)
    val = [h["val_rmse"] for h in model.history]
    assert min(val) < val[0] and model.history[model.best_epoch - 1]["val_rmse"] == min(val)
    res = af.evaluate(model, split.test, ["rmse", "mae"])
    assert np.isfinite(res["rmse"]) and 0 < res["mae"] <= res["rmse"]
