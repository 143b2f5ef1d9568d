"""Fuzzing the data entry points: ``as_interactions`` / ``Interactions`` constructors on
malformed sparse matrices, dense arrays, id arrays and DataFrames; the split functions,
``filter_min_counts`` and ``binarize`` with bad arguments.

Every property runs in a child process (``fuzz_harness.run_in_child``); see the
suite's budget in ``test_fuzz_models.py``'s docstring.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import given, strategies as st

import fuzz_strategies as fs
from fuzz_harness import REJECTED, attempt, run_in_child


def check_interactions(inter, shape=None):
    """Structural invariants of an Interactions."""
    import autorec_fast as af

    assert isinstance(inter, af.Interactions)
    m = inter.matrix
    assert sp.issparse(m) and m.format == "csr"
    if shape is not None:
        assert m.shape == shape, (m.shape, shape)
    n_users, n_items = m.shape
    assert m.indptr.size == n_users + 1 and m.indptr[0] == 0 and (np.diff(m.indptr) >= 0).all()
    assert m.indices.size == m.data.size == m.indptr[-1] == inter.nnz
    if m.nnz:
        assert m.indices.min() >= 0 and m.indices.max() < n_items
        assert np.isfinite(m.data).all()
        rows = np.repeat(np.arange(n_users), np.diff(m.indptr))
        key = rows * max(n_items, 1) + m.indices
        assert (np.diff(key) > 0).all(), "not canonical (unsorted or duplicate entries)"
    assert len(inter.user_ids) == n_users and len(inter.item_ids) == n_items
    if inter.timestamps is not None:
        assert len(inter.timestamps) == inter.nnz
    assert len(inter.entry_order) == inter.nnz


def _expected_dense(matrix):
    """The dense matrix the raw arrays describe (duplicates summed), in float64."""
    fmt = matrix.format
    out = np.zeros(matrix.shape)
    if fmt in ("csr", "csc", "bsr"):
        indptr = np.asarray(matrix.indptr).astype(np.int64)
        nnz = int(indptr[-1])
        major = np.searchsorted(indptr, np.arange(nnz), side="right") - 1
        minor = np.asarray(matrix.indices)[:nnz].astype(np.int64)
        data = np.asarray(matrix.data).reshape(-1)[:nnz].astype(np.float64)
        r, c = (major, minor) if fmt != "csc" else (minor, major)
    elif fmt == "coo":
        r, c = (np.asarray(a).astype(np.int64) for a in (matrix.row, matrix.col))
        data = np.asarray(matrix.data).astype(np.float64)
    else:
        return matrix.toarray().astype(np.float64)
    np.add.at(out, (r, c), data)
    return out


@given(fs.raw_sparse())
def prop_sparse(case):
    import autorec_fast as af

    matrix, _ = case
    inter = attempt(af.as_interactions, matrix)
    if inter is REJECTED:
        return
    shape = tuple(int(x) for x in matrix.shape)
    check_interactions(inter, shape)
    expected = _expected_dense(matrix)
    assert np.isfinite(expected).all()
    np.testing.assert_allclose(inter.matrix.toarray(), expected.astype(np.float32), rtol=1e-5)


@given(fs.dense_arrays())
def prop_dense(arr):
    import autorec_fast as af

    inter = attempt(af.as_interactions, arr)
    if inter is REJECTED:
        return
    check_interactions(inter, arr.shape)
    np.testing.assert_allclose(inter.matrix.toarray(), arr.astype(np.float32), rtol=1e-6)


def _check_entries(inter, users, items, ratings, duplicates, timestamps=None):
    """Every input (user, item) pair is an entry holding the kept (latest, or summed) rating."""
    u_index = {v: k for k, v in enumerate(inter.user_ids.tolist())}
    i_index = {v: k for k, v in enumerate(inter.item_ids.tolist())}
    dense = inter.matrix.toarray()
    users, items = np.asarray(users).tolist(), np.asarray(items).tolist()
    expected, when = {}, {}
    for k, (u, i) in enumerate(zip(users, items)):
        assert u in u_index and i in i_index, f"input id ({u!r}, {i!r}) missing from the ids"
        key = (u_index[u], i_index[i])
        r = 1.0 if ratings is None else float(ratings[k])
        if duplicates == "sum" and ratings is not None:  # "sum" adds ratings; implicit data stays 1.0
            expected[key] = expected.get(key, 0.0) + r
        elif timestamps is None or key not in when or timestamps[k] >= when[key]:
            # "last": the latest timestamp wins, ties (and no timestamps) the last in input order
            expected[key] = r
            when[key] = None if timestamps is None else timestamps[k]
    assert inter.nnz == len(expected)
    for (r, c), v in expected.items():
        np.testing.assert_allclose(dense[r, c], np.float32(v), rtol=1e-5)


@given(st.integers(0, 6).flatmap(lambda n: st.tuples(
    fs.id_arrays(n), fs.id_arrays(n),
    st.none() | fs.value_arrays(n) | fs.value_arrays(n + 1),
    st.none() | st.lists(st.integers(-2, 5) | st.sampled_from(fs.HUGE_INTS), min_size=n, max_size=n)
    | st.just([1.5] * n) | st.just(np.arange(n).astype("datetime64[s]")),
    st.sampled_from(["last", "sum", "error", "first", None, 3]))))
def prop_arrays(case):
    import autorec_fast as af

    users, items, ratings, timestamps, duplicates = case
    inter = attempt(af.Interactions.from_arrays, users, items, ratings, timestamps, duplicates=duplicates)
    if inter is REJECTED:
        return
    check_interactions(inter)
    _check_entries(inter, users, items, ratings, duplicates, timestamps)


@given(st.integers(0, 5).flatmap(lambda n: st.tuples(
    fs.id_arrays(n), fs.id_arrays(n), st.none() | fs.value_arrays(n),
    st.sampled_from([("user", "item"), ("userId", "movieId"), ("user_id", "item_id"), ("u", "i"),
                     ("user", "movieId", "itemId")]))))
def prop_dataframe(case):
    import pandas as pd

    import autorec_fast as af

    users, items, ratings, names = case
    columns = {names[0]: list(users), names[1]: list(items)}
    if len(names) == 3:
        columns[names[2]] = list(items)
    if ratings is not None:
        columns["rating"] = list(ratings)
    df = pd.DataFrame(columns)
    inter = attempt(af.as_interactions, df)
    if inter is REJECTED:
        return
    check_interactions(inter)
    assert inter.nnz <= len(df)


FRACTIONS = st.one_of(st.floats(0, 1), st.sampled_from([0.5, 0.2, 0.9]), fs.BAD_SCALARS)
SEEDS = st.one_of(st.integers(0, 2**32), st.sampled_from([-1, 2**64, 1.5, None, "0", True, np.nan]))


@given(fs.valid_interactions(), st.sampled_from(["random_split", "per_user_split", "temporal_split"]),
       FRACTIONS, SEEDS, fs.hyper_values([1, 2, 5]), st.booleans())
def prop_holdout_splits(data, fn_name, fraction, seed, min_interactions, drop_ts):
    import autorec_fast as af

    if drop_ts:
        data = af.Interactions(data.matrix, user_ids=data.user_ids, item_ids=data.item_ids)
    kw = {} if fn_name == "temporal_split" else {"seed": seed}
    if fn_name == "per_user_split":
        kw["min_interactions"] = min_interactions
    out = attempt(getattr(af, fn_name), data, fraction, **kw)
    if out is REJECTED:
        return
    train, test = out
    for part in (train, test):
        check_interactions(part, data.shape)
        assert np.array_equal(part.user_ids, data.user_ids) and np.array_equal(part.item_ids, data.item_ids)
    assert train.nnz + test.nnz == data.nnz
    both = train.matrix.astype(bool).multiply(test.matrix.astype(bool))
    assert both.nnz == 0, "train and test overlap"
    np.testing.assert_array_equal((train.matrix + test.matrix).toarray(), data.matrix.toarray())


def _check_fold(fold, n_items):
    check_interactions(fold.fold_in)
    check_interactions(fold.fold_out)
    assert fold.fold_in.n_items == n_items
    assert fold.fold_in.matrix.astype(bool).multiply(fold.fold_out.matrix.astype(bool)).nnz == 0


@given(fs.valid_interactions(max_users=8), st.sampled_from(["strong", "temporal", "strong_ratings",
                                                            "sequential"]),
       fs.hyper_values([1, 2, 3]), fs.hyper_values([0.2, 0.5]), fs.hyper_values([1, 2, 5]), SEEDS,
       fs.hyper_values([3.5, 0, 4.0]))
def prop_heldout_splits(data, kind, n_heldout, test_prop, min_count, seed, threshold):
    import autorec_fast as af

    if kind == "strong":
        out = attempt(af.strong_generalization_split, data, n_heldout, seed=seed, test_prop=test_prop,
                      min_fold_in=min_count)
    elif kind == "temporal":
        out = attempt(af.temporal_heldout_split, data, n_heldout, seed=seed, test_prop=test_prop,
                      min_fold_in=min_count)
    elif kind == "strong_ratings":
        out = attempt(af.strong_generalization_from_ratings, data, n_heldout, threshold=threshold,
                      min_user_count=min_count, seed=seed)
    else:
        out = attempt(af.sequential_split_from_ratings, data, n_heldout, min_rating=threshold,
                      min_user_count=min_count, test_prop=test_prop, seed=seed)
    if out is REJECTED:
        return
    check_interactions(out.train)
    n_items = out.train.n_items
    assert len(out.item_ids) == n_items
    _check_fold(out.validation, n_items)
    _check_fold(out.test, n_items)
    n_rows = out.train.n_users + out.validation.fold_in.n_users + out.test.fold_in.n_users
    assert n_rows <= data.n_users


DATES = st.one_of(st.integers(-10, 10**9 + 10), st.sampled_from(["1970-01-01", "2001-09-09", "garbage", "",
                                                                  "2005-13-45", None, 1.5, np.nan, True,
                                                                  np.datetime64("2000-01-01"), 2**70]))


@given(fs.valid_interactions(), DATES, DATES, DATES, FRACTIONS, SEEDS)
def prop_time_split(data, train_end, test_end, train_start, fraction, seed):
    import autorec_fast as af

    out = attempt(af.time_split, data, train_end, test_end, train_start=train_start,
                  validation_fraction=fraction, seed=seed)
    if out is REJECTED:
        return
    for part in (out.train, out.validation, out.test):
        check_interactions(part, data.shape)
    assert out.train.nnz + out.validation.nnz + out.test.nnz <= data.nnz


@given(st.one_of(fs.valid_interactions(), fs.raw_sparse().map(lambda c: c[0])),
       fs.hyper_values([0, 1, 2]), fs.hyper_values([0, 1, 2]), fs.hyper_values([0.5, 2.0, 3.5]))
def prop_filter_binarize(data, min_user, min_item, threshold):
    import autorec_fast as af

    out = attempt(af.filter_min_counts, data, min_user, min_item)
    if out is not REJECTED:
        check_interactions(out)
        assert (np.diff(out.matrix.indptr) >= max(min_user, 1)).all()
        assert out.n_users >= 1 and out.n_items >= 1
    out = attempt(af.binarize, data, threshold)
    if out is not REJECTED:
        check_interactions(out)
        assert ((out.matrix.data == 1) | (out.matrix.data == 0)).all() or out.nnz == 0


def test_fuzz_sparse_matrices():
    run_in_child(__name__.rpartition(".")[2], "prop_sparse", 700)


def test_fuzz_dense_arrays():
    run_in_child(__name__.rpartition(".")[2], "prop_dense", 200)


def test_fuzz_id_arrays():
    run_in_child(__name__.rpartition(".")[2], "prop_arrays", 500)


def test_fuzz_dataframes():
    run_in_child(__name__.rpartition(".")[2], "prop_dataframe", 200)


def test_fuzz_holdout_splits():
    run_in_child(__name__.rpartition(".")[2], "prop_holdout_splits", 400)


def test_fuzz_heldout_user_splits():
    run_in_child(__name__.rpartition(".")[2], "prop_heldout_splits", 400)


def test_fuzz_time_split():
    run_in_child(__name__.rpartition(".")[2], "prop_time_split", 300)


def test_fuzz_filter_and_binarize():
    run_in_child(__name__.rpartition(".")[2], "prop_filter_binarize", 300)
