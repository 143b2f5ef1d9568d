"""Tests of autorec_fast.splits: strong generalization (held-out users, the
dawenl/vae_cf recipe of Mult-VAE) against a transcription of the recipe and, on
MovieLens 100K, the pandas notebook itself."""

import numpy as np
import pytest

from autorec_fast.datasets import load_movielens
from autorec_fast.interactions import Interactions
from autorec_fast.splits import (
    FoldInOut,
    StrongGeneralizationSplit,
    strong_generalization_from_ratings,
    strong_generalization_split,
)


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
