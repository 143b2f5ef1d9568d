"""Tests of autorec_fast.interactions."""

import numpy as np
import pytest
import scipy.sparse as sp

from autorec_fast.interactions import Interactions, as_interactions


def entries(inter):
    """{(user_id, item_id): value} of an Interactions (independent of CSR internals)."""
    dense = inter.matrix.toarray()
    present = np.zeros(inter.shape, dtype=bool)
    m = inter.matrix
    rows = np.repeat(np.arange(inter.n_users), np.diff(m.indptr))
    present[rows, m.indices] = True
    uids, iids = inter.user_ids.tolist(), inter.item_ids.tolist()
    return {(uids[r], iids[c]): float(dense[r, c]) for r, c in zip(*np.nonzero(present))}


def assert_canonical(inter):
    m = inter.matrix
    assert isinstance(m, sp.csr_matrix)
    assert m.dtype == np.float32
    copy = m.copy()
    copy.has_canonical_format = False
    copy.sum_duplicates()
    assert copy.nnz == m.nnz
    np.testing.assert_array_equal(copy.indices, m.indices)
    assert len(inter.entry_order) == m.nnz
    if inter.timestamps is not None:
        assert inter.timestamps.dtype == np.int64
        assert len(inter.timestamps) == m.nnz


# --------------------------------------------------------------------------
# from_arrays
# --------------------------------------------------------------------------
def test_from_arrays_string_ids():
    users = np.array(["bob", "alice", "carol", "bob"])
    items = np.array(["x", "y", "x", "z"])
    ratings = [4.0, 3.5, 0.0, 2.0]
    inter = Interactions.from_arrays(users, items, ratings)
    assert_canonical(inter)
    assert inter.user_ids.tolist() == ["alice", "bob", "carol"]
    assert inter.item_ids.tolist() == ["x", "y", "z"]
    assert inter.shape == (3, 3) and inter.nnz == 4
    assert inter.has_ratings
    # the zero rating is kept as an explicit entry
    assert entries(inter) == {
        ("bob", "x"): 4.0,
        ("alice", "y"): 3.5,
        ("carol", "x"): 0.0,
        ("bob", "z"): 2.0,
    }


def test_from_arrays_implicit_and_negative_ids_are_labels():
    inter = Interactions.from_arrays([-5, 3, -5], [10, -1, -1])
    assert not inter.has_ratings
    assert inter.user_ids.tolist() == [-5, 3]
    assert inter.item_ids.tolist() == [-1, 10]
    assert entries(inter) == {(-5, 10): 1.0, (3, -1): 1.0, (-5, -1): 1.0}


def test_from_arrays_entry_order_is_input_position():
    users = np.array([3, 1, 2, 1])
    items = np.array([0, 5, 1, 2])
    inter = Interactions.from_arrays(users, items, timestamps=[40, 10, 30, 20])
    u, i, _, ts = inter.to_coo_arrays()
    for r, c, t, pos in zip(u, i, ts, inter.entry_order):
        assert users[pos] == inter.user_ids[r]
        assert items[pos] == inter.item_ids[c]
        assert [40, 10, 30, 20][pos] == t


def test_from_arrays_given_index_space():
    inter = Interactions.from_arrays(
        [2, 9], ["b", "a"], user_ids=[9, 5, 2], item_ids=["a", "b", "c"]
    )
    assert inter.user_ids.tolist() == [9, 5, 2]
    assert inter.item_ids.tolist() == ["a", "b", "c"]
    dense = inter.matrix.toarray()
    np.testing.assert_array_equal(dense, [[1, 0, 0], [0, 0, 0], [0, 1, 0]])
    with pytest.raises(ValueError, match="user_ids"):
        Interactions.from_arrays([2, 7], [1, 1], user_ids=[2, 3])
    with pytest.raises(ValueError, match="item_ids"):
        Interactions.from_arrays([2, 3], [1, 4], item_ids=[1, 2])
    with pytest.raises(ValueError, match="user_ids.*duplicate"):
        Interactions.from_arrays([2, 3], [1, 1], user_ids=[2, 3, 2])


def test_duplicates_last_without_timestamps():
    inter = Interactions.from_arrays([1, 1, 2, 1], [7, 7, 7, 7], [1.0, 2.0, 3.0, 4.0])
    assert entries(inter) == {(1, 7): 4.0, (2, 7): 3.0}
    assert sorted(inter.entry_order.tolist()) == [2, 3]


def test_duplicates_last_uses_latest_timestamp_then_input_order():
    inter = Interactions.from_arrays(
        [1, 1, 1, 2, 2], [7, 7, 7, 7, 7], [1.0, 2.0, 3.0, 4.0, 5.0],
        timestamps=[50, 90, 10, 5, 5],
    )
    # user 1: latest timestamp (90) wins although it is not last in input;
    # user 2: timestamps tie, the last in input order wins
    assert entries(inter) == {(1, 7): 2.0, (2, 7): 5.0}
    got = dict(zip(inter.user_ids[np.repeat(np.arange(2), np.diff(inter.matrix.indptr))].tolist(),
                   inter.timestamps.tolist()))
    assert got == {1: 90, 2: 5}


def test_duplicates_sum_and_error_and_unknown():
    inter = Interactions.from_arrays(
        [1, 1, 2], [7, 7, 7], [1.5, 2.0, 3.0], timestamps=[3, 8, 1], duplicates="sum"
    )
    assert entries(inter) == {(1, 7): 3.5, (2, 7): 3.0}
    row1 = np.flatnonzero(inter.user_ids == 1)[0]
    k = inter.matrix.indptr[row1]
    assert inter.timestamps[k] == 8 and inter.entry_order[k] == 0
    implicit = Interactions.from_arrays([1, 1], [7, 7], duplicates="sum")
    assert implicit.matrix.data.tolist() == [1.0] and not implicit.has_ratings
    with pytest.raises(ValueError, match="duplicates"):
        Interactions.from_arrays([1, 1], [7, 7], duplicates="error")
    with pytest.raises(ValueError, match="duplicates"):
        Interactions.from_arrays([1, 2], [7, 7], duplicates="first")


def test_from_arrays_errors():
    with pytest.raises(ValueError, match="ratings.*NaN"):
        Interactions.from_arrays([1, 2], [1, 2], [1.0, np.nan])
    with pytest.raises(ValueError, match="ratings.*NaN or inf"):
        Interactions.from_arrays([1, 2], [1, 2], [1.0, np.inf])
    with pytest.raises(ValueError, match="items has length"):
        Interactions.from_arrays([1, 2], [1])
    with pytest.raises(ValueError, match="ratings has length"):
        Interactions.from_arrays([1, 2], [1, 2], [1.0])
    with pytest.raises(ValueError, match="empty"):
        Interactions.from_arrays([], [])
    with pytest.raises(ValueError, match="users must be a 1-D"):
        Interactions.from_arrays(np.zeros((2, 2)), [1, 2])
    with pytest.raises(ValueError, match="users contains NaN"):
        Interactions.from_arrays([1.0, np.nan], [1, 2])
    with pytest.raises(ValueError, match="items contains None"):
        Interactions.from_arrays([1, 2], np.array(["a", None], dtype=object))
    with pytest.raises(TypeError, match="ratings must be numeric"):
        Interactions.from_arrays([1, 2], [1, 2], ["a", "b"])
    with pytest.raises(ValueError, match="timestamps contains NaN"):
        Interactions.from_arrays([1, 2], [1, 2], timestamps=[1.0, np.nan])
    with pytest.raises(ValueError, match="timestamps must be integer-valued"):
        Interactions.from_arrays([1, 2], [1, 2], timestamps=[1.5, 2.0])
    with pytest.raises(ValueError, match="timestamps has length"):
        Interactions.from_arrays([1, 2], [1, 2], timestamps=[1])
    with pytest.raises(TypeError, match="users"):
        Interactions.from_arrays(["a", "b"], [1, 2], user_ids=[1, 2])


def test_timestamps_cast_to_int64_including_datetime64():
    inter = Interactions.from_arrays([1, 2], [1, 2], timestamps=[10.0, 20.0])
    assert inter.timestamps.dtype == np.int64
    assert sorted(inter.timestamps.tolist()) == [10, 20]
    dt = np.array(["1970-01-01T00:00:10", "2000-01-01T00:00:00"], dtype="datetime64[s]")
    inter = Interactions.from_arrays([1, 2], [1, 2], timestamps=dt.astype("datetime64[ns]"))
    assert inter.timestamps.tolist() == [10, 946684800]


# --------------------------------------------------------------------------
# from_scipy / dense / DataFrame / as_interactions
# --------------------------------------------------------------------------
def test_from_scipy_sums_duplicates_keeps_zeros_and_empty_rows():
    coo = sp.coo_matrix(
        (np.array([1.0, 2.0, 0.0, 5.0]), (np.array([0, 0, 2, 2]), np.array([3, 3, 1, 0]))),
        shape=(4, 5),
    )
    inter = Interactions.from_scipy(coo)
    assert_canonical(inter)
    assert inter.shape == (4, 5)
    assert inter.nnz == 3  # duplicate (0, 3) summed, explicit zero kept
    assert entries(inter) == {(0, 3): 3.0, (2, 1): 0.0, (2, 0): 5.0}
    assert inter.user_ids.tolist() == [0, 1, 2, 3]
    np.testing.assert_array_equal(inter.entry_order, np.arange(3))
    assert inter.has_ratings
    # the input is not modified
    assert coo.nnz == 4


def test_from_scipy_ids_timestamps_and_implicit_inference():
    m = sp.csr_array(np.array([[0, 1], [1, 1]]))
    inter = Interactions.from_scipy(
        m, timestamps=[5, 6, 7], user_ids=["u", "v"], item_ids=[10, 20]
    )
    assert not inter.has_ratings
    assert entries(inter) == {("u", 20): 1.0, ("v", 10): 1.0, ("v", 20): 1.0}
    assert inter.timestamps.tolist() == [5, 6, 7]
    assert Interactions.from_scipy(m, has_ratings=True).has_ratings
    with pytest.raises(ValueError, match="user_ids has length"):
        Interactions.from_scipy(m, user_ids=[1])
    with pytest.raises(ValueError, match="timestamps has length"):
        Interactions.from_scipy(m, timestamps=[1])
    with pytest.raises(ValueError, match="no stored entries"):
        Interactions.from_scipy(sp.csr_matrix((3, 3)))
    with pytest.raises(ValueError, match="NaN"):
        Interactions.from_scipy(sp.csr_matrix(np.array([[np.nan, 1.0]])))
    with pytest.raises(TypeError, match="matrix"):
        Interactions.from_scipy(np.eye(2))


def test_dense_input():
    dense = np.array([[0.0, 2.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 4.0]])
    inter = as_interactions(dense)
    assert inter.shape == (3, 3) and inter.nnz == 3
    np.testing.assert_array_equal(inter.matrix.toarray(), dense)
    with pytest.raises(ValueError, match="data contains NaN"):
        as_interactions(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="2-D"):
        as_interactions(np.ones(3))
    with pytest.raises(ValueError, match="no stored entries"):
        as_interactions(np.zeros((2, 2)))


def test_as_interactions_dispatch_and_type_errors():
    inter = Interactions.from_arrays([1, 2], [3, 4])
    assert as_interactions(inter) is inter
    assert entries(as_interactions(([1, 2], [3, 4], [5.0, 1.0]))) == {(1, 3): 5.0, (2, 4): 1.0}
    assert entries(as_interactions(sp.eye(2, format="coo"))) == {(0, 0): 1.0, (1, 1): 1.0}
    with pytest.raises(TypeError, match="data"):
        as_interactions([[1, 2], [3, 4]])
    with pytest.raises(TypeError, match="data"):
        as_interactions("ratings.csv")
    with pytest.raises(ValueError, match="data tuple"):
        as_interactions(([1], [2], [3.0], [4]))


def test_dataframe_input():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(
        {"user": ["a", "b", "a"], "item": [1, 2, 2], "rating": [5.0, 3.0, 1.0],
         "timestamp": [3, 2, 1]}
    )
    inter = as_interactions(df)
    assert inter.has_ratings and inter.timestamps is not None
    assert entries(inter) == {("a", 1): 5.0, ("b", 2): 3.0, ("a", 2): 1.0}
    ml = pd.DataFrame({"userId": [1, 2], "movieId": [10, 20]})
    inter = as_interactions(ml)
    assert not inter.has_ratings and entries(inter) == {(1, 10): 1.0, (2, 20): 1.0}
    inter = Interactions.from_dataframe(df, rating_col="rating", timestamp_col="timestamp")
    assert sorted(inter.timestamps.tolist()) == [1, 2, 3]
    with pytest.raises(ValueError, match="user_col='uid'"):
        Interactions.from_dataframe(df, user_col="uid")
    with pytest.raises(ValueError, match="rating_col"):
        Interactions.from_dataframe(df, rating_col="stars")
    with pytest.raises(ValueError, match="several candidate"):
        as_interactions(pd.DataFrame({"userId": [1], "user_id": [1], "item": [2]}))
    with pytest.raises(ValueError, match="'item'"):
        as_interactions(pd.DataFrame({"user": [1], "thing": [2]}))
    with pytest.raises(TypeError, match="df"):
        Interactions.from_dataframe({"user": [1]})


# --------------------------------------------------------------------------
# methods
# --------------------------------------------------------------------------
@pytest.fixture
def small():
    rng = np.random.default_rng(1)
    n = 60
    users = rng.integers(0, 8, n) * 10
    items = rng.integers(0, 12, n)
    return Interactions.from_arrays(
        users, items, rng.integers(1, 6, n).astype(float), rng.integers(0, 1000, n)
    )


def test_to_coo_arrays_round_trip(small):
    u, i, v, t = small.to_coo_arrays()
    back = sp.csr_matrix((v, (u, i)), shape=small.shape)
    np.testing.assert_array_equal(back.toarray(), small.matrix.toarray())
    assert np.all(np.diff(u) >= 0)  # CSR order
    np.testing.assert_array_equal(t, small.timestamps)


def test_subset_users(small):
    rows = np.array([4, 0, 2])
    sub = small.subset_users(rows)
    assert_canonical(sub)
    np.testing.assert_array_equal(sub.user_ids, small.user_ids[rows])
    np.testing.assert_array_equal(sub.item_ids, small.item_ids)
    np.testing.assert_array_equal(sub.matrix.toarray(), small.matrix.toarray()[rows])
    full = {(k, v) for k, v in zip(small.entry_order.tolist(), small.timestamps.tolist())}
    assert {(k, v) for k, v in zip(sub.entry_order.tolist(), sub.timestamps.tolist())} <= full
    mask = np.zeros(small.n_users, bool)
    mask[[1, 3]] = True
    np.testing.assert_array_equal(small.subset_users(mask).user_ids, small.user_ids[[1, 3]])
    with pytest.raises(ValueError, match="rows must be indices"):
        small.subset_users([0, small.n_users])
    with pytest.raises(ValueError, match="rows must be indices"):
        small.subset_users([-1])
    with pytest.raises(ValueError, match="rows contains repeated"):
        small.subset_users([1, 1])
    with pytest.raises(ValueError, match="rows mask"):
        small.subset_users(np.ones(2, bool))


def test_with_values_and_binarize(small):
    new = small.with_values(np.arange(small.nnz, dtype=float))
    np.testing.assert_array_equal(new.matrix.indices, small.matrix.indices)
    np.testing.assert_array_equal(new.matrix.data, np.arange(small.nnz))
    with pytest.raises(ValueError, match="data has length"):
        small.with_values([1.0])
    with pytest.raises(ValueError, match="data contains NaN"):
        small.with_values(np.full(small.nnz, np.nan))
    b = small.binarize(3.0)
    assert not b.has_ratings and b.shape == small.shape
    dense = small.matrix.toarray()
    present = np.zeros(small.shape, bool)
    rows = np.repeat(np.arange(small.n_users), np.diff(small.matrix.indptr))
    present[rows, small.matrix.indices] = True
    np.testing.assert_array_equal(b.matrix.toarray(), (present & (dense > 3.0)).astype(float))
    assert small.binarize().nnz == small.nnz
    with pytest.raises(TypeError, match="threshold"):
        small.binarize("3")


def test_init_requires_canonical_csr():
    m = sp.csr_matrix((np.ones(2), np.array([1, 0]), np.array([0, 2])), shape=(1, 2))
    with pytest.raises(ValueError, match="canonical"):
        Interactions(m)
    with pytest.raises(TypeError, match="CSR"):
        Interactions(m.tocoo())
    ok = Interactions(sp.csr_matrix(np.eye(3)), user_ids=["a", "b", "c"])
    assert ok.user_ids.tolist() == ["a", "b", "c"] and ok.nnz == 3


def test_ids_are_read_only_and_repr(small):
    with pytest.raises(ValueError):
        small.user_ids[0] = 99
    text = repr(small)
    assert f"n_users={small.n_users}" in text and "explicit" in text
