"""Tests of autorec_fast.splits: sequential held-out users (SVAE's protocol:
each held-out user's latest entries are the fold-out), temporal_heldout_split
and sequential_split_from_ratings, against a pure-Python transcription."""

import numpy as np
import pytest
from helpers import keyed, row_counts

from autorec_fast.datasets import load_movielens
from autorec_fast.interactions import Interactions
from autorec_fast.splits import (
    FoldInOut,
    StrongGeneralizationSplit,
    sequential_split_from_ratings,
    temporal_heldout_split,
)


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
