"""Tests of autorec_fast.datasets (loaders, preprocessing, synthetic data)."""

import time

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import svds

from autorec_fast.datasets import (
    SYNTHETIC_PRESETS,
    binarize,
    filter_min_counts,
    load_movielens,
    synthetic,
)
from autorec_fast.interactions import Interactions

# (user, item, rating, timestamp) rows in file order; ids unsorted, half stars
ROWS = [
    (7, 30, 4.0, 881250949),
    (2, 10, 3.5, 891717742),
    (7, 10, 0.5, 878887116),
    (15, 20, 5.0, 880606923),
    (2, 30, 1.0, 886397596),
]


def triples(inter):
    """Set of (user_id, item_id, value, timestamp) of an Interactions."""
    u, i, v, t = inter.to_coo_arrays()
    return {
        (int(inter.user_ids[a]), int(inter.item_ids[b]), float(c), int(d))
        for a, b, c, d in zip(u, i, v, t)
    }


def check_rows(inter, rows=ROWS):
    assert triples(inter) == set(rows)
    assert inter.user_ids.tolist() == sorted({r[0] for r in rows})
    assert inter.item_ids.tolist() == sorted({r[1] for r in rows})
    # entry_order is the row number in the file (which holds ROWS)
    u, i, _, _ = inter.to_coo_arrays()
    for a, b, pos in zip(u, i, inter.entry_order):
        assert ROWS[pos][:2] == (inter.user_ids[a], inter.item_ids[b])


def write_tab(path, rows=ROWS):
    path.write_text("".join(f"{u}\t{i}\t{int(r) if r.is_integer() else r}\t{t}\n" for u, i, r, t in rows))
    return path


def write_dat(path, rows=ROWS):
    path.write_text("".join(f"{u}::{i}::{r}::{t}\n" for u, i, r, t in rows))
    return path


def write_csv(path, rows=ROWS):
    body = "".join(f"{u},{i},{r},{t}\n" for u, i, r, t in rows)
    path.write_text("userId,movieId,rating,timestamp\n" + body)
    return path


# --------------------------------------------------------------------------
# loaders
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, writer",
    [("u.data", write_tab), ("ratings.dat", write_dat), ("ratings.csv", write_csv)],
)
def test_load_formats(tmp_path, name, writer):
    path = writer(tmp_path / name)
    inter = load_movielens(path)
    assert inter.has_ratings
    check_rows(inter)
    # a directory holding the file works too
    assert triples(load_movielens(tmp_path)) == set(ROWS)


def test_load_detects_format_from_content(tmp_path):
    check_rows(load_movielens(write_dat(tmp_path / "ml1m_ratings")))
    check_rows(load_movielens(write_csv(tmp_path / "latest_ratings")))
    check_rows(load_movielens(write_tab(tmp_path / "ratings_100k")))


def test_load_crlf_and_no_trailing_newline(tmp_path):
    path = tmp_path / "ratings.dat"
    path.write_bytes(b"1::5::3::100\r\n2::5::4.5::200")
    assert triples(load_movielens(path)) == {(1, 5, 3.0, 100), (2, 5, 4.5, 200)}


def test_load_min_rating_and_binarize(tmp_path):
    path = write_csv(tmp_path / "ratings.csv")
    kept = load_movielens(path, min_rating=3.5)  # inclusive
    expected = [r for r in ROWS if r[2] >= 3.5]
    check_rows(kept, expected)
    b = load_movielens(path, min_rating=4.0, binarize=True)
    assert not b.has_ratings
    assert triples(b) == {(u, i, 1.0, t) for u, i, r, t in ROWS if r >= 4.0}
    # entry_order still refers to rows of the file
    u, i, _, _ = b.to_coo_arrays()
    for a, c, pos in zip(u, i, b.entry_order):
        assert ROWS[pos][:2] == (b.user_ids[a], b.item_ids[c])
    with pytest.raises(ValueError, match="min_rating"):
        load_movielens(path, min_rating=6)


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="path"):
        load_movielens(tmp_path / "nope" / "u.data")
    with pytest.raises(FileNotFoundError, match="path"):
        load_movielens(tmp_path)  # directory without a ratings file
    odd = tmp_path / "ratings.txt"
    odd.write_text("a;b;c\n")
    with pytest.raises(ValueError, match="path .*unknown"):
        load_movielens(odd)
    bad = tmp_path / "ratings.dat"
    bad.write_text("1::2::3::4\n1::x::3::4\n")
    with pytest.raises(ValueError, match="path .*could not parse"):
        load_movielens(bad)
    short = tmp_path / "u.data"
    short.write_text("1\t2\t3\t4\n5\t6\t7\n")
    with pytest.raises(ValueError, match="path"):
        load_movielens(short)
    noheader = tmp_path / "ratings.csv"
    noheader.write_text("1,2,3.0,4\n")
    with pytest.raises(ValueError, match="path .*header"):
        load_movielens(noheader)
    empty = tmp_path / "x" / "u.data"
    empty.parent.mkdir()
    empty.write_text("\n")
    with pytest.raises(ValueError, match="no ratings"):
        load_movielens(empty)
    with pytest.raises(TypeError, match="path"):
        load_movielens(42)


def test_load_real_ml100k(ml100k_path):
    inter = load_movielens(ml100k_path)
    # published statistics of MovieLens 100K (README): 943 users, 1682 items
    assert inter.shape == (943, 1682)
    assert inter.nnz == 100_000
    assert inter.user_ids.tolist() == list(range(1, 944))
    assert inter.item_ids.tolist() == list(range(1, 1683))
    assert set(np.unique(inter.matrix.data).tolist()) == {1.0, 2.0, 3.0, 4.0, 5.0}
    # "Each user has rated at least 20 movies" (ML-100K README)
    assert np.diff(inter.matrix.indptr).min() >= 20
    # first line of u.data is "196 242 3 881250949"
    first = np.flatnonzero(inter.entry_order == 0)[0]
    row = np.searchsorted(inter.matrix.indptr, first, side="right") - 1
    assert inter.user_ids[row] == 196
    assert inter.item_ids[inter.matrix.indices[first]] == 242
    assert inter.matrix.data[first] == 3.0 and inter.timestamps[first] == 881250949


# --------------------------------------------------------------------------
# preprocessing
# --------------------------------------------------------------------------
def test_binarize_is_strict():
    inter = Interactions.from_arrays([1, 1, 2, 3], [1, 2, 1, 2], [3.5, 4.0, 5.0, 3.0])
    b = binarize(inter, 3.5)
    assert not b.has_ratings and b.shape == inter.shape
    assert triples_no_ts(b) == {(1, 2, 1.0), (2, 1, 1.0)}
    with pytest.raises(TypeError, match="threshold"):
        binarize(inter, None)


def triples_no_ts(inter):
    u, i, v, _ = inter.to_coo_arrays()
    return {(inter.user_ids[a].item(), inter.item_ids[b].item(), float(c)) for a, b, c in zip(u, i, v)}


def test_filter_min_counts_items_first_then_users():
    # user 3 has 3 interactions, one of them on item 8 that nobody else has
    pairs = [(1, 9), (1, 5), (1, 6), (2, 9), (2, 5), (2, 6), (3, 5), (3, 6), (3, 8)]
    inter = Interactions.from_arrays(*map(np.array, zip(*pairs)))
    out = filter_min_counts(inter, min_user_count=3, min_item_count=2)
    # item 8 (1 user) goes first, so user 3 is left with 2 < 3 interactions
    assert triples_no_ts(out) == {(u, i, 1.0) for u, i in pairs if u in (1, 2)}
    assert out.user_ids.tolist() == [1, 2]
    assert out.item_ids.tolist() == [5, 6, 9]
    # without the item filter user 3 survives, item 8 included
    out = filter_min_counts(inter, min_user_count=3)
    assert triples_no_ts(out) == {(u, i, 1.0) for u, i in pairs}


def test_filter_min_counts_is_one_pass_not_k_core():
    # items 5 and 6 both have 3 users; users 3 and 4 have a single item
    pairs = [(1, 5), (1, 6), (2, 5), (2, 6), (3, 5), (4, 6)]
    inter = Interactions.from_arrays(*map(np.array, zip(*pairs)))
    out = filter_min_counts(inter, min_user_count=2, min_item_count=3)
    # the item pass keeps both items, the user pass drops users 3 and 4;
    # items 5 and 6 are then left with 2 users (< 3) but survive: a single
    # pass. An iterative 3/2-core would remove them and then every user.
    assert triples_no_ts(out) == {(1, 5, 1.0), (1, 6, 1.0), (2, 5, 1.0), (2, 6, 1.0)}
    assert np.bincount(out.matrix.indices).max() == 2


def test_filter_min_counts_keeps_ids_order_and_metadata():
    inter = Interactions.from_arrays(
        [5, 5, 3, 3, 3, 8], [2, 4, 2, 4, 6, 6], [1.0, 2.0, 3.0, 4.0, 5.0, 1.0],
        timestamps=[10, 20, 30, 40, 50, 60], user_ids=[8, 5, 7, 3],
    )
    out = filter_min_counts(inter, min_user_count=2)
    assert out.user_ids.tolist() == [5, 3]  # given order kept, 8 and empty 7 dropped
    assert out.item_ids.tolist() == [2, 4, 6]
    assert out.has_ratings
    u, i, v, t = out.to_coo_arrays()
    got = {(out.user_ids[a], out.item_ids[b], c, d, e)
           for a, b, c, d, e in zip(u, i, v, t, out.entry_order)}
    assert got == {(5, 2, 1.0, 10, 0), (5, 4, 2.0, 20, 1), (3, 2, 3.0, 30, 2),
                   (3, 4, 4.0, 40, 3), (3, 6, 5.0, 50, 4)}
    assert filter_min_counts(inter).shape == (3, 3)  # empty user 7 dropped
    with pytest.raises(ValueError, match="min_user_count"):
        filter_min_counts(inter, min_user_count=-1)
    with pytest.raises(TypeError, match="min_item_count"):
        filter_min_counts(inter, min_item_count=1.5)
    with pytest.raises(ValueError, match="no interactions left"):
        filter_min_counts(inter, min_user_count=10)


# --------------------------------------------------------------------------
# synthetic
# --------------------------------------------------------------------------
def check_synthetic(inter):
    m = inter.matrix
    dedup = m.copy()
    dedup.has_canonical_format = False
    dedup.sum_duplicates()
    assert dedup.nnz == m.nnz  # no duplicates
    rows = np.repeat(np.arange(inter.n_users), np.diff(m.indptr))
    assert np.all(np.diff(m.indices)[np.diff(rows) == 0] > 0)  # sorted, unique per row
    counts = np.diff(m.indptr)
    assert counts.min() >= min(5, inter.n_items) and counts.max() <= inter.n_items
    if inter.timestamps is not None:
        # strictly increasing per user in entry (time) order
        order = np.lexsort((inter.entry_order, rows))
        ts, r = inter.timestamps[order], rows[order]
        assert np.all(np.diff(ts)[np.diff(r) == 0] > 0)
        assert ts.min() >= 946684800  # 2000-01-01


@pytest.mark.parametrize("shape", ["ml-100k", "ml-1m"])
def test_synthetic_presets_match_shape(shape):
    n_users, n_items, nnz, implicit = SYNTHETIC_PRESETS[shape]
    inter = synthetic(shape, seed=3)
    check_synthetic(inter)
    assert inter.shape == (n_users, n_items)
    assert abs(inter.nnz - nnz) < 0.02 * nnz
    assert inter.has_ratings is (not implicit)
    values = inter.matrix.data
    assert set(np.unique(values).tolist()) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert 3.0 < values.mean() < 4.2  # MovieLens-like mean rating
    # power-law popularity: top 10% of items hold far more than 10%
    pop = np.sort(np.bincount(inter.matrix.indices, minlength=n_items))[::-1]
    assert pop[: n_items // 10].sum() > 0.25 * inter.nnz


def test_synthetic_ml20m_shape_is_fast_and_implicit():
    start = time.perf_counter()
    inter = synthetic("ml-20m", n_users=5000)
    elapsed = time.perf_counter() - start
    n_users, n_items, nnz, _ = SYNTHETIC_PRESETS["ml-20m"]
    assert inter.shape == (5000, n_items)
    expected = nnz / n_users * 5000  # preset density kept
    assert abs(inter.nnz - expected) < 0.03 * expected
    assert not inter.has_ratings and np.all(inter.matrix.data == 1.0)
    check_synthetic(inter)
    assert elapsed < 10.0


def test_synthetic_deterministic_and_seed_dependent():
    a = synthetic("ml-100k", seed=7)
    b = synthetic("ml-100k", seed=7)
    c = synthetic("ml-100k", seed=8)
    assert (a.matrix != b.matrix).nnz == 0
    np.testing.assert_array_equal(a.timestamps, b.timestamps)
    np.testing.assert_array_equal(a.entry_order, b.entry_order)
    assert a.matrix.shape == c.matrix.shape
    assert (a.matrix != c.matrix).nnz > 0


def test_synthetic_overrides_and_options():
    inter = synthetic("ml-1m", n_users=300, n_items=50, density=0.5, implicit=True,
                      timestamps=False, rank=4)
    check_synthetic(inter)
    assert inter.shape == (300, 50) and inter.timestamps is None
    assert abs(inter.nnz - 0.5 * 300 * 50) < 0.03 * 300 * 50
    # users asking for almost every item go through the dense Gumbel-top-k path
    full = synthetic("ml-100k", n_users=20, n_items=30, density=0.95)
    check_synthetic(full)
    assert np.diff(full.matrix.indptr).max() == 30
    with pytest.raises(ValueError, match="shape"):
        synthetic("ml-10m")
    with pytest.raises(ValueError, match="density"):
        synthetic("ml-100k", density=1.5)
    with pytest.raises(ValueError, match="n_users"):
        synthetic("ml-100k", n_users=0)
    with pytest.raises(ValueError, match="rank"):
        synthetic("ml-100k", rank=0)


def test_synthetic_has_learnable_low_rank_structure():
    """A rank-16 SVD of the training part beats popularity on held-out items."""
    inter = synthetic("ml-100k", implicit=True, seed=1)
    rng = np.random.default_rng(0)
    m = inter.matrix.tocoo()
    test = rng.random(m.nnz) < 0.2
    train = sp.csr_matrix((m.data[~test], (m.row[~test], m.col[~test])), shape=m.shape)
    heldout = sp.csr_matrix((m.data[test], (m.row[test], m.col[test])), shape=m.shape)
    u, s, vt = svds(train.astype(np.float64), k=16, random_state=0)
    scores_svd = (u * s) @ vt
    scores_pop = np.tile(np.asarray(train.sum(axis=0)).ravel(), (m.shape[0], 1))

    def recall_at_20(scores):
        scores = np.where(train.toarray() > 0, -np.inf, scores)
        top = np.argpartition(-scores, 20, axis=1)[:, :20]
        hits = np.take_along_axis(heldout.toarray(), top, axis=1).sum(axis=1)
        n = np.minimum(np.asarray(heldout.sum(axis=1)).ravel(), 20)
        ok = n > 0
        return float(np.mean(hits[ok] / n[ok]))

    assert recall_at_20(scores_svd) > 1.5 * recall_at_20(scores_pop)


def test_synthetic_explicit_ratings_carry_user_item_signal():
    inter = synthetic("ml-100k", seed=2)
    m = inter.matrix
    rows = np.repeat(np.arange(inter.n_users), np.diff(m.indptr))
    r = m.data.astype(np.float64)
    user_mean = np.bincount(rows, weights=r) / np.bincount(rows)
    item_mean = np.bincount(m.indices, weights=r, minlength=inter.n_items) / np.maximum(
        np.bincount(m.indices, minlength=inter.n_items), 1
    )
    baseline = user_mean[rows] + item_mean[m.indices] - r.mean()
    assert np.sqrt(np.mean((r - baseline) ** 2)) < 0.95 * r.std()


@pytest.mark.parametrize("row,what", [
    (f"{2**53},1,4.0,100", "user id"), (f"1,{2**53 + 1},4.0,100", "item id"), ("1e20,1,4.0,100", "user id"),
    ("2,1,3.0,inf", "timestamp"), ("2,1,nan,100", "rating"), ("2.5,1,3.0,100", "user id"),
])
def test_movielens_ids_that_float64_cannot_hold_are_refused(tmp_path, row, what):
    """Fields are parsed through float64: ids at or beyond 2**53 would merge, 1e20 or
    inf would become INT64_MIN; each is a ValueError naming the line instead."""
    path = tmp_path / "ratings.csv"
    path.write_text(f"userId,movieId,rating,timestamp\n1,1,5.0,99\n{row}\n")
    with pytest.raises(ValueError, match=f"line 3: .*{what}"):
        load_movielens(path)
