"""Tests of autorec_fast.splits."""

import numpy as np
import pytest
import scipy.sparse as sp

import autorec_fast as af

from autorec_fast.datasets import load_movielens
from autorec_fast.interactions import Interactions
from autorec_fast.splits import (
    FoldInOut,
    StrongGeneralizationSplit,
    per_user_split,
    random_split,
    sequential_split_from_ratings,
    strong_generalization_from_ratings,
    strong_generalization_split,
    temporal_heldout_split,
    temporal_split,
)


@pytest.fixture
def data():
    rng = np.random.default_rng(5)
    n = 3000
    users = rng.integers(0, 120, n) * 3 + 1
    items = rng.integers(0, 200, n)
    ts = rng.integers(0, 50, n)  # many timestamp ties on purpose
    return Interactions.from_arrays(users, items, rng.integers(1, 6, n).astype(float), ts)


@pytest.fixture
def legacy_rng_guard():
    """Save and restore the global legacy numpy RNG around a test."""
    state = np.random.get_state()
    yield
    np.random.set_state(state)


def keyed(inter):
    """{entry_order: (user_id, item_id, value, timestamp)} of an Interactions."""
    u, i, v, t = inter.to_coo_arrays()
    t = t if t is not None else np.zeros_like(u)
    return {
        int(o): (inter.user_ids[a].item(), inter.item_ids[b].item(), float(c), int(d))
        for o, a, b, c, d in zip(inter.entry_order, u, i, v, t)
    }


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


def row_counts(inter):
    return np.diff(inter.matrix.indptr)


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


# --------------------------------------------------------------------------
# strong generalization
# --------------------------------------------------------------------------
def reference_vae_cf(uid, sid, n_heldout_users, seed=98765):
    """Literal pure-numpy transcription of dawenl/vae_cf's preprocessing.

    ``uid``/``sid`` are the (already binarised and filtered) rows in file
    order. Uses the legacy global RNG exactly like the notebook. Returns
    (unique_sid, train rows, (vd_tr, vd_te), (te_tr, te_te)) with rows as
    lists of (uid, sid) pairs in the notebook's order.
    """
    uid, sid = np.asarray(uid), np.asarray(sid)
    unique_uid = np.unique(uid)  # user_activity.index (groupby -> sorted)
    np.random.seed(seed)
    idx_perm = np.random.permutation(unique_uid.size)
    unique_uid = unique_uid[idx_perm]
    n_users = unique_uid.size
    tr_users = unique_uid[: (n_users - n_heldout_users * 2)]
    vd_users = unique_uid[(n_users - n_heldout_users * 2) : (n_users - n_heldout_users)]
    te_users = unique_uid[(n_users - n_heldout_users) :]

    train_plays = [(u, s) for u, s in zip(uid.tolist(), sid.tolist()) if u in set(tr_users.tolist())]
    unique_sid = []
    for _, s in train_plays:  # pd.unique: order of first appearance
        if s not in unique_sid:
            unique_sid.append(s)

    def split_train_test_proportion(rows, test_prop=0.2):
        tr_list, te_list = [], []
        np.random.seed(seed)
        for u in sorted({r[0] for r in rows}):  # groupby('userId') order
            group = [r for r in rows if r[0] == u]  # rows keep file order
            n_items_u = len(group)
            if n_items_u >= 5:
                idx = np.zeros(n_items_u, dtype="bool")
                idx[np.random.choice(n_items_u, size=int(test_prop * n_items_u),
                                     replace=False).astype("int64")] = True
                tr_list += [g for g, x in zip(group, idx) if not x]
                te_list += [g for g, x in zip(group, idx) if x]
            else:
                tr_list += group
        return tr_list, te_list

    def plays(users):
        users = set(users.tolist())
        return [(u, s) for u, s in zip(uid.tolist(), sid.tolist())
                if u in users and s in unique_sid]

    vad = split_train_test_proportion(plays(vd_users))
    test = split_train_test_proportion(plays(te_users))
    return unique_sid, train_plays, vad, test, (tr_users, vd_users, te_users)


def pairs(inter):
    u, i, _, _ = inter.to_coo_arrays()
    return sorted(zip(inter.user_ids[u].tolist(), inter.item_ids[i].tolist()))


def hand_made_frame():
    """12 users (non-contiguous ids, unsorted in the file) with crafted rows."""
    user_list = [103, 7, 55, 20, 88, 4, 61, 39, 12, 150, 77, 31]
    counts = {103: 9, 7: 3, 55: 12, 20: 9, 88: 6, 4: 10, 61: 5, 39: 7,
              12: 2, 150: 8, 77: 11, 31: 6}
    counts[39] = 16
    rng = np.random.default_rng(11)
    rows = []
    for u in user_list:
        items = rng.choice(np.arange(100, 130), size=counts[u], replace=False)
        rows += [(u, int(s)) for s in items]
    # held-out users (as the recipe will pick them) get extra rows on items
    # nobody else has: 901 is held-out-only and must be dropped
    perm = np.random.RandomState(98765).permutation(len(user_list))
    heldout = np.array(sorted(user_list))[perm][-4:]
    rows += [(int(heldout[0]), 901), (int(heldout[2]), 901)]
    # one held-out user whose only rows are out of vocabulary: must vanish
    # without consuming random numbers
    rows = [r for r in rows if r[0] != heldout[1]] + [(int(heldout[1]), 902)]
    # the lower-id test user gets exactly 4 in-vocabulary rows (just below
    # 5), so a wrong threshold would shift the random stream of the next one
    small = min(heldout[2:])
    training = np.array(sorted(user_list))[perm][:-4]
    donor = max(training.tolist(), key=lambda u: counts[u])
    donor_items = [s for u, s in rows if u == donor][:4]
    rows = [r for r in rows if r[0] != small] + [(int(small), s) for s in donor_items]
    order = np.random.default_rng(3).permutation(len(rows))  # file order
    rows = [rows[k] for k in order]
    uid = np.array([r[0] for r in rows])
    sid = np.array([r[1] for r in rows])
    return uid, sid, heldout


def test_strong_generalization_matches_vae_cf_recipe(legacy_rng_guard):
    uid, sid, heldout = hand_made_frame()
    data = Interactions.from_arrays(uid, sid)

    state_before = np.random.get_state()
    split = strong_generalization_split(data, 2)
    state_after = np.random.get_state()
    assert state_before[0] == state_after[0]
    np.testing.assert_array_equal(state_before[1], state_after[1])
    assert state_before[2:] == state_after[2:]

    unique_sid, train_plays, (vd_tr, vd_te), (te_tr, te_te), users = reference_vae_cf(uid, sid, 2)
    tr_users, vd_users, te_users = users

    # the frame exercises the corner cases it was built for
    assert 901 not in unique_sid and 902 not in unique_sid
    assert any(u in heldout for u in uid[sid == 901])
    held_counts = [sum(1 for r in vd_tr + vd_te + te_tr + te_te if r[0] == u) for u in heldout]
    assert min(c for c in held_counts if c) < 5 <= max(held_counts)
    assert 4 in held_counts and 0 in held_counts
    assert len(vd_te) > 0 and len(te_te) > 0

    assert isinstance(split, StrongGeneralizationSplit)
    assert split.item_ids.tolist() == unique_sid
    assert split.train.user_ids.tolist() == sorted(tr_users.tolist())
    assert pairs(split.train) == sorted(train_plays)
    for fold, (ref_tr, ref_te), users_ in ((split.validation, (vd_tr, vd_te), vd_users),
                                           (split.test, (te_tr, te_te), te_users)):
        assert isinstance(fold, FoldInOut)
        present = sorted({r[0] for r in ref_tr + ref_te})
        assert set(present) <= set(users_.tolist())
        assert fold.fold_in.user_ids.tolist() == present
        assert fold.fold_out.user_ids.tolist() == present
        assert fold.fold_in.item_ids.tolist() == unique_sid
        assert pairs(fold.fold_in) == sorted(ref_tr)
        assert pairs(fold.fold_out) == sorted(ref_te)
        expected_targets = [any(r[0] == u for r in ref_te) for u in present]
        assert fold.users_with_targets.tolist() == expected_targets
    # the user with only out-of-vocabulary rows does not appear anywhere
    gone = int(heldout[1])
    assert gone not in split.validation.fold_in.user_ids.tolist()
    assert gone not in split.test.fold_in.user_ids.tolist()


def test_strong_generalization_ml100k_matches_pandas_recipe(ml100k_path, legacy_rng_guard):
    pd = pytest.importorskip("pandas")
    # --- the vae_cf notebook, with pandas (modern groupby spelling) ---
    raw_data = pd.read_csv(ml100k_path, sep="\t", header=None,
                           names=["userId", "movieId", "rating", "timestamp"])
    raw_data = raw_data[raw_data["rating"] > 3.5]

    def get_count(tp, id):
        return tp.groupby(id).size()

    def filter_triplets(tp, min_uc=5, min_sc=0):
        if min_sc > 0:
            itemcount = get_count(tp, "movieId")
            tp = tp[tp["movieId"].isin(itemcount.index[itemcount >= min_sc])]
        if min_uc > 0:
            usercount = get_count(tp, "userId")
            tp = tp[tp["userId"].isin(usercount.index[usercount >= min_uc])]
        return tp, get_count(tp, "userId"), get_count(tp, "movieId")

    raw_data, user_activity, _ = filter_triplets(raw_data)
    unique_uid = user_activity.index
    np.random.seed(98765)
    idx_perm = np.random.permutation(unique_uid.size)
    unique_uid = unique_uid[idx_perm]
    n_users, n_heldout = unique_uid.size, 100
    tr_users = unique_uid[: (n_users - n_heldout * 2)]
    vd_users = unique_uid[(n_users - n_heldout * 2) : (n_users - n_heldout)]
    te_users = unique_uid[(n_users - n_heldout) :]
    train_plays = raw_data.loc[raw_data["userId"].isin(tr_users)]
    unique_sid = pd.unique(train_plays["movieId"])

    def split_train_test_proportion(data, test_prop=0.2):
        tr_list, te_list = [], []
        np.random.seed(98765)
        for _, group in data.groupby("userId"):
            n_items_u = len(group)
            if n_items_u >= 5:
                idx = np.zeros(n_items_u, dtype="bool")
                idx[np.random.choice(n_items_u, size=int(test_prop * n_items_u),
                                     replace=False).astype("int64")] = True
                tr_list.append(group[np.logical_not(idx)])
                te_list.append(group[idx])
            else:
                tr_list.append(group)
        return pd.concat(tr_list), pd.concat(te_list)

    vad_plays = raw_data.loc[raw_data["userId"].isin(vd_users)]
    vad_plays = vad_plays.loc[vad_plays["movieId"].isin(unique_sid)]
    vad_tr, vad_te = split_train_test_proportion(vad_plays)
    test_plays = raw_data.loc[raw_data["userId"].isin(te_users)]
    test_plays = test_plays.loc[test_plays["movieId"].isin(unique_sid)]
    test_tr, test_te = split_train_test_proportion(test_plays)

    def frame_pairs(df):
        return sorted(zip(df["userId"].tolist(), df["movieId"].tolist()))

    # --- ours ---
    split = strong_generalization_from_ratings(load_movielens(ml100k_path), n_heldout)
    assert split.item_ids.tolist() == unique_sid.tolist()
    assert split.train.user_ids.tolist() == sorted(tr_users.tolist())
    assert pairs(split.train) == frame_pairs(train_plays)
    assert pairs(split.validation.fold_in) == frame_pairs(vad_tr)
    assert pairs(split.validation.fold_out) == frame_pairs(vad_te)
    assert pairs(split.test.fold_in) == frame_pairs(test_tr)
    assert pairs(split.test.fold_out) == frame_pairs(test_te)


def test_strong_generalization_errors_and_layout(data):
    with pytest.raises(ValueError, match="n_heldout_users"):
        strong_generalization_split(data, 0)
    with pytest.raises(ValueError, match="n_heldout_users"):
        strong_generalization_split(data, data.n_users // 2)
    with pytest.raises(TypeError, match="n_heldout_users"):
        strong_generalization_split(data, 2.0)
    with pytest.raises(ValueError, match="test_prop"):
        strong_generalization_split(data, 5, test_prop=1.5)
    split = strong_generalization_split(data.binarize(), 10)
    ids = np.concatenate([split.train.user_ids, split.validation.fold_in.user_ids,
                          split.test.fold_in.user_ids])
    assert sorted(ids.tolist()) == sorted(data.user_ids.tolist())
    for part in (split.train, split.validation.fold_in, split.test.fold_out):
        assert np.all(np.diff(part.user_ids) > 0)  # ascending original ids
        np.testing.assert_array_equal(part.item_ids, split.item_ids)
    with pytest.raises(ValueError, match="share rows"):
        FoldInOut(split.validation.fold_in, split.test.fold_out)


# --------------------------------------------------------------------------
# sequential held-out users (SVAE protocol)
# --------------------------------------------------------------------------
def reference_svae(rows, n_heldout_users, test_prop=0.2, seed=98765, min_fold_in=5,
                   tie_key=lambda row: row[0]):
    """Straightforward pure-Python transcription of the SVAE held-out protocol.

    ``rows`` are ``(position, user, item, value, timestamp)`` tuples in input
    order (position = entry order). Returns the training users, the
    validation and test users, the vocabulary and the parts as
    ``{position: (user, item, value, timestamp)}`` dicts: train,
    (vd_in, vd_out), (te_in, te_out). ``tie_key`` orders rows with equal
    timestamps (the protocol: input position).
    """
    users = sorted({r[1] for r in rows})
    perm = np.random.RandomState(seed).permutation(len(users))
    permuted = [users[k] for k in perm.tolist()]
    n = len(users)
    tr_users = permuted[: n - 2 * n_heldout_users]
    vd_users = permuted[n - 2 * n_heldout_users : n - n_heldout_users]
    te_users = permuted[n - n_heldout_users :]
    tr_set = set(tr_users)

    vocab, seen = [], set()
    for _, u, s, _, _ in rows:
        if u in tr_set and s not in seen:
            seen.add(s)
            vocab.append(s)
    train = {r[0]: r[1:] for r in rows if r[1] in tr_set}

    by_user = {}
    for r in rows:
        by_user.setdefault(r[1], []).append(r)

    def fold(users_):
        fold_in, fold_out = {}, {}
        for u in sorted(users_):
            mine = [r for r in by_user[u] if r[2] in seen]
            mine.sort(key=lambda r: (r[4], tie_key(r)))
            k = int(test_prop * len(mine)) if len(mine) >= min_fold_in else 0
            for r in mine[: len(mine) - k]:
                fold_in[r[0]] = r[1:]
            for r in mine[len(mine) - k :]:
                fold_out[r[0]] = r[1:]
        return fold_in, fold_out

    return (tr_users, vd_users, te_users), vocab, train, fold(vd_users), fold(te_users)


def keyed_ts(inter):
    """keyed() that requires the timestamps to be there."""
    assert inter.timestamps is not None
    assert inter.timestamps.shape == inter.entry_order.shape == (inter.nnz,)
    return keyed(inter)


def svae_frame():
    """10 users (non-contiguous ids, unsorted file order) with crafted held-out users.

    With seed 98765 and 2 held-out users per group:
    * validation user A: 9 in-vocabulary rows whose 3 latest share a
      timestamp (so the 1 fold-out row is decided by input order) plus one
      row on item 901, outside the vocabulary, with the latest timestamp;
    * validation user B: 4 rows (< min_fold_in): all fold-in;
    * test user C: 5 rows (= min_fold_in), the 3 latest tied;
    * test user D: 13 rows with many ties.
    Returns ``rows`` as accepted by :func:`reference_svae` and the held-out
    user ids ``(A, B, C, D)``.
    """
    user_list = [41, 7, 230, 19, 88, 3, 150, 66, 12, 97]
    users = sorted(user_list)
    perm = np.random.RandomState(98765).permutation(len(users))
    permuted = [users[k] for k in perm.tolist()]
    training, (a, b, c, d) = permuted[:6], permuted[6:]
    rng = np.random.default_rng(21)
    raw = []  # (user, item, timestamp)
    raw += [(training[0], s, int(rng.integers(0, 30))) for s in range(100, 120)]
    for u in training[1:]:
        for s in rng.choice(np.arange(100, 120), size=int(rng.integers(5, 10)), replace=False):
            raw.append((u, int(s), int(rng.integers(0, 30))))
    items = rng.choice(np.arange(100, 120), size=9, replace=False).tolist()
    raw += [(a, s, t) for s, t in zip(items, [10, 11, 12, 13, 14, 15, 20, 20, 20])]
    raw.append((a, 901, 100))
    raw += [(b, s, 5) for s in rng.choice(np.arange(100, 120), size=4, replace=False).tolist()]
    items = rng.choice(np.arange(100, 120), size=5, replace=False).tolist()
    raw += [(c, s, t) for s, t in zip(items, [3, 8, 8, 8, 1])]
    items = rng.choice(np.arange(100, 120), size=13, replace=False).tolist()
    raw += [(d, s, int(rng.integers(0, 4))) for s in items]
    order = np.random.default_rng(4).permutation(len(raw)).tolist()  # file order
    raw = [raw[k] for k in order]
    # within the boundary ties of A (t=20) and C (t=8), give the last row in
    # input order the middle item id, so that ordering ties by item id
    # (either way) or by reversed input order picks another row
    for user, t in ((a, 20), (c, 8)):
        pos = [k for k, (u, _, tt) in enumerate(raw) if u == user and tt == t]
        lo, mid, hi = sorted(raw[k][1] for k in pos)
        for k, s in zip(pos, (lo, hi, mid)):
            raw[k] = (user, s, t)
    values = rng.integers(1, 6, len(raw)).astype(float).tolist()
    rows = [(p, u, s, v, t) for p, ((u, s, t), v) in enumerate(zip(raw, values))]
    return rows, (a, b, c, d)


def frame_interactions(rows):
    _, u, s, v, t = (list(x) for x in zip(*rows))
    return Interactions.from_arrays(u, s, v, t, duplicates="error")


@pytest.mark.parametrize(
    "n_heldout, test_prop, seed, min_fold_in",
    [(2, 0.2, 98765, 5), (2, 0.5, 98765, 2), (2, 0.5, 98765, 10), (3, 0.3, 1, 5),
     (3, 0.4, 11, 6), (1, 0.25, 7, 0), (4, 0.2, 3, 4)],
)
def test_temporal_heldout_split_matches_reference(n_heldout, test_prop, seed, min_fold_in,
                                                  legacy_rng_guard):
    rows, _ = svae_frame()
    data = frame_interactions(rows)
    state_before = np.random.get_state()
    split = temporal_heldout_split(data, n_heldout, test_prop=test_prop, seed=seed,
                                   min_fold_in=min_fold_in)
    state_after = np.random.get_state()
    np.testing.assert_array_equal(state_before[1], state_after[1])
    assert state_before[2:] == state_after[2:]

    (tr_users, vd_users, te_users), vocab, train, vd, te = reference_svae(
        rows, n_heldout, test_prop, seed, min_fold_in)
    assert isinstance(split, StrongGeneralizationSplit)
    assert split.item_ids.tolist() == vocab
    assert split.train.user_ids.tolist() == sorted(tr_users)
    np.testing.assert_array_equal(split.train.item_ids, split.item_ids)
    assert keyed_ts(split.train) == train
    for fold, (ref_in, ref_out), users_ in ((split.validation, vd, vd_users),
                                            (split.test, te, te_users)):
        assert isinstance(fold, FoldInOut)
        present = sorted({r[0] for r in list(ref_in.values()) + list(ref_out.values())})
        assert set(present) <= set(users_)
        for part in (fold.fold_in, fold.fold_out):
            assert part.user_ids.tolist() == present
            np.testing.assert_array_equal(part.item_ids, split.item_ids)
        assert keyed_ts(fold.fold_in) == ref_in
        assert keyed_ts(fold.fold_out) == ref_out
        assert fold.users_with_targets.tolist() == [
            any(r[0] == u for r in ref_out.values()) for u in present]
    # deterministic
    again = temporal_heldout_split(data, n_heldout, test_prop=test_prop, seed=seed,
                                   min_fold_in=min_fold_in)
    assert keyed(again.test.fold_out) == keyed(split.test.fold_out)


def test_temporal_heldout_split_corner_cases():
    rows, (a, b, c, d) = svae_frame()
    data = frame_interactions(rows)
    split = temporal_heldout_split(data, 2)
    users, vocab, _, (vd_in, vd_out), (te_in, te_out) = reference_svae(rows, 2)
    assert users[1] == [a, b] and users[2] == [c, d]  # the frame's assumptions
    assert 901 not in vocab

    def of(part, user):
        return sorted((s, t, p) for p, (u, s, _, t) in keyed(part).items() if u == user)

    # A: 9 in-vocabulary rows -> int(1.8) = 1 fold-out row: among the three
    # rows at t=20 the last one in input order; item 901 (t=100) is dropped
    # and not counted (10 rows would give 2 fold-out rows)
    a_rows = sorted((p, s, t) for p, u, s, _, t in rows if u == a and s != 901)
    tied = [r for r in a_rows if r[2] == 20]
    assert len(tied) == 3
    assert [(s, t, p) for p, s, t in [tied[-1]]] == of(split.validation.fold_out, a)
    assert len(of(split.validation.fold_in, a)) == 8
    assert 901 not in split.validation.fold_in.item_ids.tolist() + split.item_ids.tolist()
    # B: 4 rows < min_fold_in: all in fold-in, no target
    assert len(of(split.validation.fold_in, b)) == 4 and of(split.validation.fold_out, b) == []
    assert split.validation.users_with_targets.tolist() == [a < b, a > b]
    # C: 5 rows -> 1 fold-out row, the last of the three at t=8 in input order
    c_rows = sorted((p, s, t) for p, u, s, _, t in rows if u == c)
    p, s, t = [r for r in c_rows if r[2] == 8][-1]
    assert of(split.test.fold_out, c) == [(s, t, p)]
    # D: 13 rows -> int(2.6) = 2 fold-out rows, the latest by (t, input order)
    assert len(of(split.test.fold_out, d)) == 2
    assert max(t for _, t, _ in of(split.test.fold_in, d)) <= min(
        t for _, t, _ in of(split.test.fold_out, d))
    # tie-breaking matters on this frame: ordering ties by descending input
    # position, or by item id, gives different fold-outs
    for wrong in (lambda r: -r[0], lambda r: r[2], lambda r: -r[2]):
        _, _, _, (_, w_vd), (_, w_te) = reference_svae(rows, 2, tie_key=wrong)
        assert (w_vd, w_te) != (vd_out, te_out)

    # the three user groups are disjoint and cover every user
    tr_ids = set(split.train.user_ids.tolist())
    vd_ids = set(split.validation.fold_in.user_ids.tolist())
    te_ids = set(split.test.fold_in.user_ids.tolist())
    assert not (tr_ids & vd_ids or tr_ids & te_ids or vd_ids & te_ids)
    assert tr_ids | vd_ids | te_ids == set(data.user_ids.tolist())
    assert len(vd_ids) == len(te_ids) == 2
    # train + folds hold exactly the input rows minus the out-of-vocabulary one
    parts = [split.train, split.validation.fold_in, split.validation.fold_out,
             split.test.fold_in, split.test.fold_out]
    merged = {}
    for part in parts:
        k = keyed_ts(part)
        assert not set(k) & set(merged)
        merged.update(k)
    assert merged == {p: (u, s, v, t) for p, u, s, v, t in rows if s != 901}
    assert {**vd_in, **vd_out, **te_in, **te_out}.keys() <= merged.keys()


def test_temporal_heldout_split_errors():
    rows, _ = svae_frame()
    data = frame_interactions(rows)
    no_ts = Interactions.from_arrays([r[1] for r in rows], [r[2] for r in rows])
    with pytest.raises(ValueError, match="data has no timestamps"):
        temporal_heldout_split(no_ts, 2)
    for bad in (0.0, 1.0, 1.5, -0.2):
        with pytest.raises(ValueError, match="test_prop"):
            temporal_heldout_split(data, 2, test_prop=bad)
    with pytest.raises(TypeError, match="test_prop"):
        temporal_heldout_split(data, 2, test_prop="0.2")
    # 10 users: 2 * 5 leaves no training user
    for bad in (5, 6, 0, -1):
        with pytest.raises(ValueError, match="n_heldout_users"):
            temporal_heldout_split(data, bad)
    assert temporal_heldout_split(data, 4).train.n_users == 2
    for bad in (2.0, True, "2"):
        with pytest.raises(TypeError, match="n_heldout_users"):
            temporal_heldout_split(data, bad)
    with pytest.raises(ValueError, match="min_fold_in"):
        temporal_heldout_split(data, 2, min_fold_in=-1)
    with pytest.raises(TypeError, match="min_fold_in"):
        temporal_heldout_split(data, 2, min_fold_in=2.5)


def ratings_frame():
    """Explicit ratings with timestamps for sequential_split_from_ratings.

    Users 1-7 have 6..12 ratings >= 4 (some exactly 4.0) plus a few lower
    ratings (3.5, 3.9, 2); user 50 has 4 ratings >= 4 (dropped by the minimum),
    user 60 exactly 5 (kept), user 70 13 (dropped by max_user_count=12),
    user 80 exactly 12 (kept).
    """
    rng = np.random.default_rng(8)
    raw = []  # (user, item, rating, timestamp)
    spec = {u: 5 + u for u in range(1, 8)}
    spec.update({50: 4, 60: 5, 70: 13, 80: 12})
    for u, n_good in spec.items():
        items = rng.choice(np.arange(200, 240), size=n_good + 3, replace=False).tolist()
        good = rng.choice([4.0, 4.5, 5.0], size=n_good).tolist()
        for s, r in zip(items, good + [3.5, 3.9, 2.0]):
            raw.append((u, s, r, int(rng.integers(0, 6))))
    order = np.random.default_rng(9).permutation(len(raw)).tolist()
    raw = [raw[k] for k in order]
    return [(p, u, s, r, t) for p, (u, s, r, t) in enumerate(raw)]


def test_sequential_split_from_ratings_matches_reference():
    rows = ratings_frame()
    data = frame_interactions(rows)
    split = sequential_split_from_ratings(data, 2, max_user_count=12)
    counts = {}
    for _, u, _, r, _ in rows:
        counts[u] = counts.get(u, 0) + (r >= 4.0)
    assert counts[50] == 4 and counts[60] == 5 and counts[70] == 13 and counts[80] == 12
    kept = [(p, u, s, 1.0, t) for p, u, s, r, t in rows
            if r >= 4.0 and 5 <= counts[u] <= 12]
    assert any(r == 4.0 for _, _, _, r, _ in rows)  # 4.0 itself is kept
    users, vocab, train, (vd_in, vd_out), (te_in, te_out) = reference_svae(kept, 2)
    assert set(users[0] + users[1] + users[2]) == set(range(1, 8)) | {60, 80}
    assert split.item_ids.tolist() == vocab
    assert keyed_ts(split.train) == train
    assert keyed_ts(split.validation.fold_in) == vd_in
    assert keyed_ts(split.validation.fold_out) == vd_out
    assert keyed_ts(split.test.fold_in) == te_in
    assert keyed_ts(split.test.fold_out) == te_out
    assert not split.train.has_ratings and not split.test.fold_out.has_ratings
    # defaults: no user has more than 1000 ratings, so user 70 stays
    default = sequential_split_from_ratings(data, 2)
    all_users = np.concatenate([default.train.user_ids, default.validation.fold_in.user_ids,
                                default.test.fold_in.user_ids])
    assert 70 in all_users.tolist() and 50 not in all_users.tolist()
    no_max = sequential_split_from_ratings(data, 2, max_user_count=None)
    assert keyed(no_max.train) == keyed(default.train)


def test_sequential_split_from_ratings_errors():
    rows = ratings_frame()
    data = frame_interactions(rows)
    no_ts = Interactions.from_arrays([r[1] for r in rows], [r[2] for r in rows],
                                     [r[3] for r in rows])
    with pytest.raises(ValueError, match="data has no timestamps"):
        sequential_split_from_ratings(no_ts, 2)
    with pytest.raises(TypeError, match="min_rating"):
        sequential_split_from_ratings(data, 2, min_rating="4")
    with pytest.raises(ValueError, match="min_rating"):
        sequential_split_from_ratings(data, 2, min_rating=float("nan"))
    with pytest.raises(ValueError, match="min_rating"):
        sequential_split_from_ratings(data, 2, min_rating=6.0)
    with pytest.raises(ValueError, match="max_user_count"):
        sequential_split_from_ratings(data, 2, max_user_count=4)
    with pytest.raises(TypeError, match="max_user_count"):
        sequential_split_from_ratings(data, 2, max_user_count=12.5)
    with pytest.raises(ValueError, match="n_heldout_users"):
        sequential_split_from_ratings(data, 5)  # 10 users left after filtering
    with pytest.raises(ValueError, match="n_heldout_users"):
        sequential_split_from_ratings(data, 5, max_user_count=12)  # 9 users left
    assert sequential_split_from_ratings(data, 4).train.n_users == 2
    with pytest.raises(ValueError, match="test_prop"):
        sequential_split_from_ratings(data, 2, test_prop=1.0)


def test_sequential_split_ml100k(ml100k_path):
    # independent parse of u.data: user \t item \t rating \t timestamp
    rows = []
    with open(ml100k_path) as f:
        for p, line in enumerate(f):
            u, s, r, t = line.split("\t")
            rows.append((p, int(u), int(s), float(r), int(t)))
    counts = {}
    for _, u, _, r, _ in rows:
        if r >= 4:
            counts[u] = counts.get(u, 0) + 1
    kept = [(p, u, s, 1.0, t) for p, u, s, r, t in rows if r >= 4 and 5 <= counts[u] <= 1000]
    kept_users = {r[1] for r in kept}
    assert len(kept_users) < len(counts)  # the minimum filter drops some users

    split = sequential_split_from_ratings(load_movielens(ml100k_path), n_heldout_users=100)
    parts = {"train": split.train}
    for name, fold in (("validation", split.validation), ("test", split.test)):
        parts[name + "_in"], parts[name + "_out"] = fold.fold_in, fold.fold_out
    ids = {k: set(v.user_ids.tolist()) for k, v in parts.items()}
    assert ids["train"] | ids["validation_in"] | ids["test_in"] == kept_users
    assert len(ids["validation_in"]) == len(ids["test_in"]) == 100
    assert not (ids["train"] & ids["validation_in"] or ids["train"] & ids["test_in"]
                or ids["validation_in"] & ids["test_in"])
    # user counts within [5, 1000] before the split
    for u in kept_users:
        assert 5 <= counts[u] <= 1000
    np.testing.assert_array_equal(
        row_counts(split.train), [counts[u] for u in split.train.user_ids.tolist()])

    users, vocab, train, (vd_in, vd_out), (te_in, te_out) = reference_svae(kept, 100)
    assert ids["train"] == set(users[0])
    assert ids["validation_in"] == set(users[1]) and ids["test_in"] == set(users[2])
    assert split.item_ids.tolist() == vocab
    assert keyed_ts(split.train) == train
    assert keyed_ts(split.validation.fold_in) == vd_in
    assert keyed_ts(split.validation.fold_out) == vd_out
    assert keyed_ts(split.test.fold_in) == te_in
    assert keyed_ts(split.test.fold_out) == te_out
    # fold-out = the last 20% by time of each held-out user's sequence
    for fold in (split.validation, split.test):
        n_in, n_out = row_counts(fold.fold_in), row_counts(fold.fold_out)
        n = n_in + n_out
        np.testing.assert_array_equal(n_out, np.where(n >= 5, (0.2 * n).astype(int), 0))
        for r in range(n.size):
            fi = slice(fold.fold_in.matrix.indptr[r], fold.fold_in.matrix.indptr[r + 1])
            fo = slice(fold.fold_out.matrix.indptr[r], fold.fold_out.matrix.indptr[r + 1])
            if n_out[r]:
                key_in = max(zip(fold.fold_in.timestamps[fi], fold.fold_in.entry_order[fi]))
                key_out = min(zip(fold.fold_out.timestamps[fo], fold.fold_out.entry_order[fo]))
                assert key_in < key_out
    assert row_counts(split.test.fold_out).sum() > 0


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
