"""Tests of the one entry check of sparse inputs (autorec_fast._validation.check_csr).

Valid inputs of every format pass unchanged (equal to SciPy's own
conversion); each kind of malformed structure raises an error naming the
argument before any SciPy routine reads it, on every path user data takes.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp

import autorec_fast as af
from autorec_fast._validation import canonical_csr, check_csr
from autorec_fast.interactions import Interactions, as_interactions
from autorec_fast.splits import per_user_split, random_split


def random_csr(seed, shape=(40, 30), density=0.15, index_dtype=np.int32, duplicates=False):
    """A valid CSR matrix; with ``duplicates``: unsorted indices and repeated entries."""
    rng = np.random.default_rng(seed)
    n = int(density * shape[0] * shape[1])
    rows = rng.integers(0, shape[0], n)
    cols = rng.integers(0, shape[1], n)
    vals = rng.normal(size=n)
    if not duplicates:
        key = np.unique(rows * shape[1] + cols)
        rows, cols, vals = key // shape[1], key % shape[1], vals[: key.size]
    order = np.argsort(rows, kind="stable")  # grouped by row, columns in random order
    indptr = np.zeros(shape[0] + 1, dtype=index_dtype)
    np.cumsum(np.bincount(rows, minlength=shape[0]), out=indptr[1:])
    m = sp.csr_matrix(shape)
    m.indptr = indptr
    m.indices = cols[order].astype(index_dtype)
    m.data = vals[order]
    return m


def crafted(indptr, indices=(0, 1, 2, 3, 4, 0, 1, 2, 3), data=None, shape=(6, 5), dtype=np.int32):
    """A CSR matrix whose raw arrays are set by hand (SciPy checks nothing)."""
    m = sp.csr_matrix(sp.random(shape[0], shape[1], density=0.3, random_state=0, format="csr"))
    m.indptr = np.asarray(indptr, dtype=dtype)
    m.indices = np.asarray(indices, dtype=dtype)
    m.data = np.ones(len(indices)) if data is None else np.asarray(data)
    return m


# ---------------------------------------------------------------------------
# valid inputs pass unchanged
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_valid_csr_passes_unchanged(seed, index_dtype):
    m = random_csr(seed, shape=(30 + seed, 20 + 3 * seed), index_dtype=index_dtype,
                   duplicates=seed % 2 == 1)
    out = check_csr(m, "X")
    assert type(out) is sp.csr_matrix and out.shape == m.shape
    for name in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(out, name), getattr(m, name))
        assert np.shares_memory(getattr(out, name), getattr(m, name)), name  # no copy
    # flags are recomputed, never taken from the input
    assert out.has_canonical_format == (seed % 2 == 0)
    canon = canonical_csr(m, np.float64, "X")
    ref = m.copy()
    ref.sum_duplicates()
    np.testing.assert_array_equal(canon.indptr, ref.indptr)
    np.testing.assert_array_equal(canon.indices, ref.indices)
    np.testing.assert_array_equal(canon.data, ref.data)


@pytest.mark.parametrize("fmt", ["csc", "coo", "bsr", "lil", "dok", "dia"])
def test_other_formats_equal_scipys_conversion(fmt):
    for seed in range(3):
        m = random_csr(seed, shape=(24, 18), duplicates=fmt in ("coo", "csc"))
        if fmt == "coo":  # duplicates in COO too
            c = m.tocoo()
            rows, cols = np.r_[c.row, c.row[:7]], np.r_[c.col, c.col[:7]]
            src = sp.coo_matrix((np.r_[c.data, c.data[:7]], (rows, cols)), shape=m.shape)
        elif fmt == "bsr":
            src = m.tobsr(blocksize=(3, 2))
        else:
            src = m.asformat(fmt)
        out = check_csr(src, "X")
        ref = src.tocsr()
        assert type(out) is sp.csr_matrix and out.shape == ref.shape
        np.testing.assert_array_equal(out.toarray(), ref.toarray())
        for name in ("indptr", "indices", "data"):
            np.testing.assert_array_equal(getattr(out, name), getattr(ref, name))


def test_sparse_arrays_and_unusual_index_dtypes():
    m = random_csr(1)
    out = check_csr(sp.csr_array(m), "X")
    assert type(out) is sp.csr_matrix
    np.testing.assert_array_equal(out.toarray(), m.toarray())
    for dt in (np.uint16, np.int16, np.uint64):
        odd = m.copy()
        odd.indptr, odd.indices = m.indptr.astype(dt), m.indices.astype(dt)
        out = check_csr(odd, "X")
        assert out.indices.dtype in (np.int32, np.int64) and out.indptr.dtype == out.indices.dtype
        np.testing.assert_array_equal(out.toarray(), m.toarray())
    as_list = m.copy()
    as_list.data = m.data.tolist()  # plain lists set by hand: converted, not shared
    as_list.indices = m.indices.tolist()
    np.testing.assert_array_equal(check_csr(as_list, "X").toarray(), m.toarray())
    coo = m.tocoo()
    coo.row, coo.col = coo.row.astype(np.uint32), coo.col.astype(np.int16)
    np.testing.assert_array_equal(check_csr(coo, "X").toarray(), m.toarray())
    # mixed int64 indptr / int32 indices (set by hand): one common dtype
    mixed = m.copy()
    mixed.indptr = m.indptr.astype(np.int64)
    out = check_csr(mixed, "X")
    assert out.indptr.dtype == out.indices.dtype
    np.testing.assert_array_equal(out.toarray(), m.toarray())


def test_unused_tail_is_trimmed_and_lying_flags_are_ignored():
    m = crafted(OK_PTR, indices=[0, 1, 2, 3, 4, 0, 1, 2, 3, 99, -5])
    out = check_csr(m, "X")  # SciPy's rule: entries past indptr[-1] are not part of the matrix
    assert out.nnz == 9 and out.indices.size == 9 and out.data.size == 9
    unsorted = crafted([0, 2, 2, 2, 2, 2, 4], indices=[3, 1, 2, 2])
    unsorted.has_canonical_format = True  # a lie SciPy would trust
    assert not check_csr(unsorted, "X").has_canonical_format
    canon = canonical_csr(unsorted, np.float32, "X")
    assert canon.indices.tolist() == [1, 3, 2] and canon.data.tolist() == [1.0, 1.0, 2.0]
    inter = as_interactions(unsorted)
    assert inter.matrix.indices.tolist() == [1, 3, 2] and inter.nnz == 3


def test_int64_indices_beyond_int32_are_compared_not_wrapped(monkeypatch):
    from autorec_fast import _memory

    monkeypatch.setattr(_memory, "available_bytes", lambda: 2**50)  # the shape check passes
    big = 2**33
    indices, indptr = np.array([3, big - 1], dtype=np.int64), np.array([0, 1, 2], dtype=np.int64)
    m = sp.csr_matrix((np.ones(2), indices, indptr), shape=(2, big))
    out = check_csr(m, "X")  # in range: valid
    assert out.indices.dtype == np.int64 and out.indices.tolist() == [3, big - 1]
    with pytest.raises(ValueError, match=r"X has 8589934592 columns; at most 2\*\*31 - 1"):
        canonical_csr(m, np.float32, "X")  # int32 column indices would wrap
    indices, indptr = np.array([5], dtype=np.int64), np.array([0, 1], dtype=np.int64)
    wide = sp.csr_matrix((np.ones(1), indices, indptr), shape=(1, 2**31))
    with pytest.raises(ValueError, match="X has 2147483648 columns"):
        canonical_csr(wide, np.float32, "X")


@pytest.mark.parametrize("shape", [(5, 2**40), (2**40, 5), (2**31, 2**31)])
def test_huge_declared_shapes_are_refused_before_allocating(shape):
    """A few entries in a huge declared shape: per-row / per-column arrays would not fit."""
    m = sp.coo_matrix((np.ones(2), ([0, 1], [1, 0])), shape=shape)
    with pytest.raises(MemoryError, match=r"X of shape .* needs .* GiB but only"):
        check_csr(m, "X")
    with pytest.raises(MemoryError, match=r"data of shape"):
        as_interactions(m)


def test_integer_values_are_summed_in_float64_not_wrapped():
    """Duplicates of int64 values near 2**62 summed by SciPy in int64 would wrap around."""
    m = sp.coo_matrix((np.full(5, 2**62, np.int64), ([0] * 5, [0] * 5)), shape=(1, 1))
    out = check_csr(m, "X")
    assert out.dtype == np.float64
    assert as_interactions(m).matrix.toarray()[0, 0] == np.float32(5 * 2.0**62)
    b = sp.coo_matrix((np.ones(3, bool), ([0] * 3, [1] * 3)), shape=(1, 2))
    assert as_interactions(b).matrix.toarray().tolist() == [[0.0, 3.0]]  # counted, not or-ed


# ---------------------------------------------------------------------------
# malformed inputs raise, naming the argument
# ---------------------------------------------------------------------------
OK_PTR = [0, 3, 3, 4, 5, 7, 9]  # with the default indices: a valid 6 x 5 matrix
MALFORMED = {
    # name: (matrix factory, error type, message pattern)
    "indptr out of order": (lambda: crafted([0, 12, 1, 1, 4, 6, 9]), ValueError,
                            r"row pointers \(indptr\) must be non-decreasing"),
    "indptr past the end": (lambda: crafted([0, 3, 3, 4, 5, 7, 12]), ValueError,
                            r"indptr\) end at 12 but only 9 entries are stored"),
    "indptr[0] != 0": (lambda: crafted([1, 3, 3, 4, 5, 7, 9]), ValueError, r"indptr\) must start at 0"),
    "short indptr": (lambda: crafted([0, 3, 4, 5, 7, 9]), ValueError, r"indptr\) must have 7 entries, got 6"),
    "long indptr": (lambda: crafted([0, 3, 3, 4, 5, 7, 9, 9]), ValueError, "must have 7 entries, got 8"),
    "negative index": (lambda: crafted(OK_PTR, indices=[0, 1, 2, 3, -1, 0, 1, 2, 3]),
                       ValueError, r"column indices \(indices\) must be in \[0, 5\), got values in \[-1, 3\]"),
    "index >= n_cols": (lambda: crafted(OK_PTR, indices=[0, 1, 2, 3, 5, 0, 1, 2, 3]),
                        ValueError, r"must be in \[0, 5\), got values in \[0, 5\]"),
    "int64 index >= 2**32": (lambda: crafted(OK_PTR, indices=[0, 1, 2, 3, 2**32 + 1, 0, 1, 2, 3],
                                             dtype=np.int64), ValueError, r"got values in \[0, 4294967297\]"),
    "data too short": (lambda: crafted(OK_PTR, data=np.ones(8)), ValueError,
                       r"indices\) must have one entry per stored value \(8\), got 9"),
    "data too long": (lambda: crafted(OK_PTR, data=np.ones(10)), ValueError,
                      "one entry per stored value"),
    "float indices": (lambda: crafted(OK_PTR, dtype=np.float64), ValueError,
                      r"row pointers \(indptr\) must be a 1-D integer array, got dtype float64"),
    "2-D data": (lambda: crafted(OK_PTR, data=np.ones((9, 1))), ValueError,
                 r"the stored values \(data\) must be a 1-D array"),
    "object data": (lambda: crafted(OK_PTR, data=np.array([1.0] * 9, dtype=object)),
                    TypeError, "must be numeric .* got dtype object"),
    "complex data": (lambda: crafted(OK_PTR, data=np.ones(9, dtype=complex)),
                     TypeError, "got dtype complex128"),
}


def _bad_csc():
    m = sp.random(5, 6, density=0.4, random_state=1, format="csc")
    m.indices = m.indices.copy()
    m.indices[2] = 5  # 5 rows
    return m


def _bad_coo():
    m = sp.random(5, 6, density=0.4, random_state=1, format="coo")
    return sp.coo_matrix((m.data, (m.row, m.col)), shape=m.shape), m


def _coo_row_out_of_range():
    m, src = _bad_coo()
    m.row = src.row.copy()
    m.row[0] = 7
    return m


def _coo_negative_col():
    m, src = _bad_coo()
    m.col = src.col.copy()
    m.col[-1] = -2
    return m


def _coo_unequal():
    m, src = _bad_coo()
    m.data = src.data[:-1]
    return m


def _bad_bsr():
    m = sp.random(6, 4, density=0.5, random_state=2, format="csr").tobsr(blocksize=(2, 2))
    m.indices = m.indices.copy()
    m.indices[0] = 2  # 2 block columns
    return m


def _negative_shape():
    m = sp.csr_matrix(np.eye(3))
    m._shape = (3, -1)
    return m


MALFORMED.update({
    "csc row index out of range": (_bad_csc, ValueError, r"row indices \(indices\) must be in \[0, 5\)"),
    "coo row out of range": (_coo_row_out_of_range, ValueError, r"row indices \(row\) must be in \[0, 5\)"),
    "coo negative col": (_coo_negative_col, ValueError, r"column indices \(col\) must be in \[0, 6\)"),
    "coo unequal lengths": (_coo_unequal, ValueError, "one entry per stored value"),
    "bsr block index out of range": (_bad_bsr, ValueError, r"block-column indices \(indices\) must be in \[0, 2\)"),
    "negative shape": (_negative_shape, ValueError, "shape of two non-negative integers"),
    "1-D sparse array": (lambda: sp.coo_array(np.ones(4)), ValueError, "must be 2-D"),
})


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_raises_naming_the_argument(case):
    make, error, pattern = MALFORMED[case]
    with pytest.raises(error, match=f"^my_arg.*{pattern}"):
        check_csr(make(), "my_arg")
    with pytest.raises(error, match=f"^X.*{pattern}"):
        canonical_csr(make(), np.float32, "X")
    with pytest.raises(error, match=f"^data.*{pattern}"):
        as_interactions(make())
    with pytest.raises(error, match=f"^matrix.*{pattern}"):
        Interactions.from_scipy(make())


@pytest.mark.parametrize("case", ["indptr out of order", "negative index", "index >= n_cols",
                                  "int64 index >= 2**32"])
def test_every_entry_path_rejects_malformed_csr(case):
    make, error, pattern = MALFORMED[case]
    with pytest.raises(error, match=f"^matrix: .*{pattern}"):
        Interactions(make())
    for split in (random_split, per_user_split):
        with pytest.raises(error, match=f"^data: .*{pattern}"):
            split(make())
    with pytest.raises(error, match=f"^data: .*{pattern}"):
        af.train("ease", make())
    model = af.train("ease", sp.random(6, 5, density=0.5, random_state=0, format="csr"), l2=1.0)
    with pytest.raises(error, match=f"^history: .*{pattern}"):
        model.recommend(make(), k=2)


def test_not_sparse_and_nan_values():
    with pytest.raises(TypeError, match="X must be a scipy.sparse matrix, got ndarray"):
        check_csr(np.eye(2), "X")
    nan = sp.csr_matrix(np.array([[np.nan, 1.0], [0.0, 2.0]]))
    with pytest.raises(ValueError, match="X contains NaN"):
        canonical_csr(nan, np.float32, "X")
    with pytest.raises(ValueError, match="data values contains NaN"):
        as_interactions(nan)


def test_crash_example_raises_in_a_fresh_process(tmp_path):
    """The matrix that used to abort the interpreter inside SciPy now raises."""
    code = textwrap.dedent(
        """
        import numpy as np, scipy.sparse as sp, autorec_fast
        X = sp.csr_matrix((6, 5))
        X.indptr = np.array([0, 12, 1, 1, 4, 6, 9], dtype=np.int32)
        X.indices = np.array([0, 1, 2, 3, 4, 0, 1, 2, 3], dtype=np.int32)
        X.data = np.ones(9)
        try:
            autorec_fast.train("ease", X)
        except ValueError as exc:
            print("ValueError:", exc)
        """
    )
    # run outside the checkout, so that the installed package (with its extension) is imported
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "ValueError: data: row pointers (indptr) must be non-decreasing" in res.stdout
