"""Hypothesis strategies of the fuzz suite: malformed sparse matrices, odd ids,
bad option values, small valid data sets."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import strategies as st

HUGE_INTS = [2**31 - 1, 2**31, 2**32, 2**62, 2**63 - 1, -(2**31), -(2**63)]
ODD_FLOATS = [np.nan, np.inf, -np.inf, 1e300, -1e300, 1e-320, -0.0, 3.4e38, 1e39]

# any value an option could be given: the valid-looking ones come from the callers
BAD_SCALARS = st.one_of(
    st.sampled_from([0, -1, -0.5, 0.0, np.nan, np.inf, -np.inf, True, False, None, "1", "", 1e300,
                     2**63, -(2**63), [1], (), {}, b"x", 1 + 1j, np.float32(np.nan), np.int64(-3)]),
    st.integers(-5, 5),
    st.floats(allow_nan=True, allow_infinity=True),
)


def index_values(bound):
    """Indices around ``[0, bound)``: in range mostly, sometimes negative or huge."""
    return st.one_of(st.integers(0, max(bound - 1, 0)), st.integers(-3, bound + 3), st.sampled_from(HUGE_INTS))


def value_arrays(n):
    """Stored values of length ``n`` in many dtypes, with odd values."""
    floats = st.one_of(st.floats(-5, 5), st.sampled_from(ODD_FLOATS), st.integers(1, 5).map(float))
    return st.one_of(
        st.lists(floats, min_size=n, max_size=n).map(lambda v: np.asarray(v, np.float64)),
        st.lists(st.floats(-5, 5, width=32), min_size=n, max_size=n).map(lambda v: np.asarray(v, np.float32)),
        st.lists(st.integers(-3, 5), min_size=n, max_size=n).map(lambda v: np.asarray(v, np.int64)),
        st.lists(st.booleans(), min_size=n, max_size=n).map(lambda v: np.asarray(v, bool)),
        st.lists(st.integers(1, 5), min_size=n, max_size=n).map(lambda v: np.asarray(v, np.complex128)),
        st.lists(st.integers(1, 5), min_size=n, max_size=n).map(lambda v: np.asarray(v, object)),
        st.lists(st.text("ab1", max_size=2), min_size=n, max_size=n).map(lambda v: np.asarray(v, dtype="U2")),
        st.lists(st.sampled_from([2**62, -(2**62), 2**63 - 1]), min_size=n, max_size=n).map(
            lambda v: np.asarray(v, np.int64)),
    )


INDEX_DTYPES = st.sampled_from([np.int32, np.int64, np.int64, np.int32, np.uint16, np.uint64, np.int8,
                                np.float64])


def _as_index(values, dtype):
    arr = np.asarray(values, dtype=object)
    try:
        with np.errstate(all="ignore"):
            return arr.astype(dtype) if arr.size else np.zeros(0, dtype)
    except (OverflowError, ValueError, TypeError):
        return np.asarray(values, dtype=np.int64) if all(-(2**63) <= v < 2**63 for v in values) \
            else np.asarray(values, dtype=object)


@st.composite
def raw_sparse(draw):
    """``(matrix, raw)``: a SciPy sparse matrix whose raw arrays and shape were set by
    hand (bypassing SciPy's checks), and the raw arrays themselves."""
    fmt = draw(st.sampled_from(["csr", "csc", "coo", "csr", "coo", "bsr", "lil", "dok"]))
    n_rows, n_cols = draw(st.integers(0, 4)), draw(st.integers(0, 4))
    nnz = draw(st.integers(0, 8))
    rows = draw(st.lists(st.integers(0, max(n_rows - 1, 0)), min_size=nnz, max_size=nnz))
    cols = draw(st.lists(st.integers(0, max(n_cols - 1, 0)), min_size=nnz, max_size=nnz))
    if n_rows == 0 or n_cols == 0:
        rows, cols = [], []
    base = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_rows, n_cols))
    m = base.asformat(fmt) if fmt != "bsr" else base.tobsr(blocksize=(1, 1))
    mutate = draw(st.lists(st.sampled_from(["shape", "ptr", "idx", "data", "row", "col", "ptr_dtype",
                                            "idx_dtype"]), max_size=3, unique=True))
    if fmt in ("lil", "dok"):
        mutate = [x for x in mutate if x == "data"]
        if mutate and fmt == "lil":
            m.data[:] = [[draw(st.sampled_from(ODD_FLOATS + [1.0, 2, "x", None]))] * len(r) for r in m.rows]
        elif mutate:
            for key in list(m.keys()):
                m[key] = draw(st.sampled_from([np.nan, np.inf, 1.0, -2.0, 1e300]))
        return m, {"format": fmt}
    if "shape" in mutate:
        m._shape = (draw(st.sampled_from([n_rows, 0, 1, 5, 2**31, 2**40, -1])),
                    draw(st.sampled_from([n_cols, 0, 1, 5, 2**31, 2**40, -1])))
    if fmt in ("csr", "csc", "bsr"):
        n_major = m.shape[0] if fmt != "csc" else m.shape[1]
        if "ptr" in mutate:
            k = draw(st.integers(0, 6))
            m.indptr = _as_index(draw(st.lists(st.integers(-2, 10) | st.sampled_from(HUGE_INTS), min_size=k,
                                               max_size=k)), np.int64)
        if "ptr_dtype" in mutate:
            m.indptr = _as_index(m.indptr.tolist(), draw(INDEX_DTYPES))
        if "idx" in mutate:
            k = draw(st.integers(0, 9))
            bound = m.shape[1] if fmt != "csc" else m.shape[0]
            m.indices = _as_index(draw(st.lists(index_values(min(int(bound), 6)), min_size=k, max_size=k)),
                                  np.int64)
        if "idx_dtype" in mutate:
            m.indices = _as_index(m.indices.tolist(), draw(INDEX_DTYPES))
        if "data" in mutate:
            k = m.indices.size + draw(st.sampled_from([0, 0, 0, -1, 1]))
            data = draw(value_arrays(max(k, 0)))
            m.data = data.reshape(-1, 1, 1) if fmt == "bsr" and draw(st.booleans()) else data
        del n_major
    else:  # coo
        coords = list(m.coords)  # set as a tuple: the row / col setters would cast and check
        for axis, which in enumerate(("row", "col")):
            if which in mutate:
                k = m.data.size + draw(st.sampled_from([0, 0, -1, 1]))
                vals = draw(st.lists(index_values(4), min_size=max(k, 0), max_size=max(k, 0)))
                coords[axis] = _as_index(vals, draw(INDEX_DTYPES))
        m.coords = tuple(coords)
        if "data" in mutate:
            m.data = draw(value_arrays(max(m.data.size + draw(st.sampled_from([0, 0, -1, 1])), 0)))
    return m, {"format": fmt}


@st.composite
def dense_arrays(draw):
    shape = draw(st.sampled_from([(0,), (3,), (0, 0), (0, 3), (3, 0), (1, 1), (2, 3), (3, 2), (1, 2, 2)]))
    n = int(np.prod(shape))
    return draw(value_arrays(n)).reshape(shape)


ID_VALUES = st.one_of(
    st.integers(-3, 5), st.sampled_from(HUGE_INTS), st.floats(-3, 5), st.sampled_from([np.nan, np.inf, 1.5]),
    st.text("abc", max_size=2), st.sampled_from([None, b"x", True, 2**64, -(2**64)]),
)


@st.composite
def id_arrays(draw, n):
    kind = draw(st.sampled_from(["int", "int", "float", "str", "mixed", "huge", "uint", "datetime"]))
    if kind == "int":
        return np.asarray(draw(st.lists(st.integers(-2, 4), min_size=n, max_size=n)), np.int64)
    if kind == "float":
        return np.asarray(draw(st.lists(st.sampled_from([0.0, 1.0, 2.5, -1.0, np.nan, 3.0]), min_size=n,
                                        max_size=n)), np.float64)
    if kind == "str":
        return np.asarray(draw(st.lists(st.text("ab", min_size=0, max_size=2), min_size=n, max_size=n)), dtype=str)
    if kind == "huge":
        return np.asarray(draw(st.lists(st.sampled_from(HUGE_INTS), min_size=n, max_size=n)), np.int64)
    if kind == "uint":
        return np.asarray(draw(st.lists(st.sampled_from([0, 1, 2**64 - 1]), min_size=n, max_size=n)), np.uint64)
    if kind == "datetime":
        return np.asarray(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), "datetime64[D]")
    vals = draw(st.lists(ID_VALUES, min_size=n, max_size=n))
    return draw(st.sampled_from([list, lambda v: np.asarray(v, dtype=object)]))(vals)


@st.composite
def valid_interactions(draw, *, min_users=1, min_items=1, max_users=6, max_items=6, timestamps=True,
                       ratings=True, dense_rows=False):
    """A small valid ``Interactions`` (users / items with string or int ids)."""
    import autorec_fast as af

    n_users = draw(st.integers(min_users, max_users))
    n_items = draw(st.integers(min_items, max_items))
    cells = [(u, i) for u in range(n_users) for i in range(n_items)]
    chosen = draw(st.lists(st.sampled_from(cells), min_size=1, max_size=len(cells) + 2))
    if dense_rows:  # every user and item has at least one interaction
        chosen += [(u, u % n_items) for u in range(n_users)] + [(i % n_users, i) for i in range(n_items)]
    users = np.asarray([c[0] for c in chosen]) * draw(st.sampled_from([1, 7, -1]))
    items = np.asarray([c[1] for c in chosen]) + draw(st.sampled_from([0, 100, 2**40]))
    vals = np.asarray(draw(st.lists(st.sampled_from([1.0, 2.0, 3.0, 4.0, 5.0, 0.5]), min_size=len(chosen),
                                    max_size=len(chosen)))) if ratings else None
    ts = np.asarray(draw(st.lists(st.integers(0, 10**9), min_size=len(chosen), max_size=len(chosen)))) \
        if timestamps else None
    return af.Interactions.from_arrays(users, items, vals, ts)


def hyper_values(valid):
    """A valid option value mostly, else a bad one."""
    return st.one_of(st.sampled_from(valid), st.sampled_from(valid), st.sampled_from(valid), BAD_SCALARS)
