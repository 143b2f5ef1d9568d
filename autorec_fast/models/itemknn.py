"""Item-kNN: cosine similarity between the items' user columns, each item's
``neighbors`` most similar items kept.

    c_ij = |U_i ∩ U_j| (co-occurrences in the binarised training matrix X),
    cos(i, j) = c_ij / sqrt(n_i · n_j),  n_i = |U_i|,
    S[i, j] = cos(i, j) when j is one of the ``neighbors`` items most similar
              to i (j ≠ i, cos > 0), else 0,
    scores = history · S.

Row i of S holds item i's neighbours, so a history item votes for its own
nearest neighbours (RecPack's ``ItemKNN``, default K = 200; Deshpande &
Karypis 2004). S is computed a block of rows at a time: the block's
co-occurrences Xᵀ[block]·X (a SciPy sparse product), normalised and cut to
each row's top ``neighbors`` by sorting the entries of the rows that have more
(by row, similarity descending, column), or, where most pairs co-occur, by a
partition of the block made dense; memory follows the co-occurring pairs, never
n_items²; blocks are sized from a bound on each item's co-occurring items
(Σ of its users' item counts) and the memory of a block and of the result is
checked first. Ties at the cut go to the lower item index. S is kept as a SciPy
CSR and scoring is a sparse product (SciPy) per batch, made dense. No kernels:
it runs on the CPU only.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from .._progress import check_verbose, report
from .._validation import canonical_csr, check_dtype, check_positive
from ._shared import ImplicitModel
from .base import Recommender

#: co-occurrence entries one block of rows may hold (its rows follow from their bounds)
BLOCK_ENTRIES = 1 << 20
#: peak bytes per co-occurrence entry of a block. Sparse: the product (value, index),
#: each entry's row, the similarities, the sorts' keys and orders, the ranks, the mask
#: (~75). Dense, used when at least half the block's entries are stored: per dense
#: entry the matrix, n_i·n_j and its root, the partition's two copies, masks and tie
#: ranks (~48), i.e. up to 96 per stored entry, plus the sparse product
_BYTES_PER_ENTRY = 112


def _top_k_sparse(G, first_row, counts, k):
    """(row in block, column, cosine) of each row's ``k`` largest positive cosines among
    the co-occurrences ``G`` of items ``first_row``, ...: the diagonal left out, ties to
    the lower column. Only rows with more than ``k`` entries are sorted: by cosine
    (descending, stable over the (row, column) storage order), then by row (stable)."""
    G.sort_indices()  # storage order (row, column): the stable sorts break ties by column
    per_row = np.diff(G.indptr)
    row = np.repeat(np.arange(G.shape[0], dtype=np.int64), per_row)
    item = row + first_row
    cos = G.data / np.sqrt(counts[item] * counts[G.indices])  # co-occurring items have counts >= 1
    cos[G.indices == item] = 0.0  # no self-similarity
    keep = cos > 0
    crowded = per_row > k
    entries = np.flatnonzero(crowded[row])
    if entries.size:
        order = entries[np.argsort(-cos[entries], kind="stable")]
        by_row = row[order].astype(np.uint16 if G.shape[0] <= 1 << 16 else np.int64)  # 16 bits: radix sort
        order = order[np.argsort(by_row, kind="stable")]  # grouped by row again, in row order
        start = np.zeros(G.shape[0] + 1, np.int64)
        np.cumsum(np.where(crowded, per_row, 0), out=start[1:])
        keep[order[np.arange(order.size) - start[row[order]] >= k]] = False  # rank in its row >= k
    return row[keep], G.indices[keep], cos[keep]


def _top_k_dense(G, first_row, counts, k):
    """``_top_k_sparse`` on the block made dense (the same cosines, bit for bit): a
    partition per row instead of a sort, faster once most pairs co-occur."""
    rows = G.shape[0]
    cos = G.toarray()
    denom = np.sqrt(counts[first_row : first_row + rows, None] * counts[None, :])
    np.divide(cos, denom, out=cos, where=denom > 0)
    del denom
    cos[np.arange(rows), np.arange(first_row, first_row + rows)] = 0.0  # no self-similarity
    kth = -np.partition(-cos, k - 1, axis=1)[:, k - 1 : k]  # each row's k-th largest
    tied = cos == kth
    room = k - (cos > kth).sum(axis=1, keepdims=True)  # places left for values equal to the k-th
    keep = (cos > kth) | (tied & (np.cumsum(tied, axis=1, dtype=np.int32) <= room))
    keep &= cos > 0
    r, c = np.nonzero(keep)
    return r, c, cos[r, c]


class ItemKNN(ImplicitModel, Recommender):
    """Item-based nearest neighbours with cosine similarity (top-N baseline).

    The training data are binarised as for the other implicit-feedback models
    (positive values count once; negative values are an error); users without
    interactions are allowed (they add nothing). ``score(history)`` multiplies
    the history, values as given, by the sparse similarity matrix: an item's
    score is the summed similarity to it from the history items that have it
    among their neighbours. An item without training interactions has no
    neighbours and is nobody's neighbour (its scores are 0).

    Parameters
    ----------
    neighbors : int
        Neighbours kept per item, >= 1 (RecPack's default K = 200). Fewer are
        kept where fewer items co-occur with it.
    dtype : {"float32", "float64"}
        dtype of the stored similarities and the scores (they are computed in float64).
    device : {"cpu"}
        NumPy/SciPy only: ``device="cuda"`` is a ValueError.
    verbose : {0, 1, 2} or bool
        Write the fitting time to stderr (it is also an INFO record on the
        ``"autorec_fast"`` logger).

    Attributes
    ----------
    similarity : scipy.sparse.csr_matrix (n_items, n_items)
        S; row i holds item i's neighbours with their cosine similarities
        (zero diagonal, at most ``neighbors`` entries per row).
    counts : ndarray of int64 (n_items,)
        Training users per item (n_i).
    item_ids : ndarray
        Original id of each item column.

    Examples
    --------
    >>> knn = autorec_fast.train("itemknn", split.train, neighbors=100)
    >>> autorec_fast.evaluate(knn, split.test, ["ndcg@100"])
    """

    name = "itemknn"
    devices = ("cpu",)

    def __init__(self, neighbors: int = 200, *, dtype="float32", device: str = "cpu", verbose: bool = False):
        super().__init__(device)
        self.neighbors = check_positive(neighbors, "neighbors", integer=True)
        self.dtype = check_dtype(dtype)
        self.verbose = check_verbose(verbose)
        self.similarity = None
        self.counts = None

    def fit(self, data) -> "ItemKNN":
        """Fit on interactions (anything ``autorec_fast.as_interactions`` accepts)."""
        t0 = time.perf_counter()
        self.similarity = None
        X = self._binary_matrix(data, allow_empty_users=True)
        n = X.shape[1]
        k = min(self.neighbors, n - 1)
        counts = np.bincount(X.indices, minlength=n).astype(np.int64)
        # bound on each item's co-occurring items: Σ over its users of their item counts, <= n
        bound = np.minimum(np.asarray(X.T @ np.diff(X.indptr).astype(np.float64)).astype(np.int64), n)
        index_bytes = 4 if n * k < 2**31 else 8
        self._backend.require_memory(
            _BYTES_PER_ENTRY * max(BLOCK_ENTRIES, int(bound.max())) * (k > 0)  # one block's workspace
            + 2 * n * k * (self.dtype.itemsize + index_bytes)  # S's entries, gathered then joined
            + 2 * X.nnz * 12,  # the float64 copy of X and its transpose
            f"item-kNN on {n:,} items ({k:,} neighbours each)")
        X = sp.csr_matrix(X, dtype=np.float64)
        Xt = X.T.tocsr()
        ends = np.cumsum(bound)
        rows, cols, vals = [], [], []
        start = 0
        while k > 0 and start < n:  # blocks of rows whose bounds sum to BLOCK_ENTRIES (one row at least)
            taken = int(ends[start - 1]) if start else 0
            stop = max(start + 1, int(np.searchsorted(ends, taken + BLOCK_ENTRIES, side="right")))
            G = Xt[start:stop] @ X  # the block's co-occurrences, sparse
            top_k = _top_k_dense if 2 * G.nnz >= (stop - start) * n else _top_k_sparse
            r, c, v = top_k(G, start, counts, k)
            rows.append(r + start)
            cols.append(c)
            vals.append(v.astype(self.dtype))
            del G, r, c, v
            start = stop
        r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        indptr = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(r, minlength=n), out=indptr[1:])
        S = sp.csr_matrix((np.concatenate(vals) if vals else np.zeros(0, self.dtype),
                           np.concatenate(cols).astype(np.int32) if cols else np.zeros(0, np.int32),
                           indptr), shape=(n, n))
        self.similarity = canonical_csr(S, self.dtype, "similarity")  # sorts each row's columns
        self.counts = counts
        seconds = time.perf_counter() - t0
        self.fit_info = {"seconds": seconds}
        report(self, f"{n:,} items, {self.similarity.nnz:,} similarities kept in {seconds:.2f} s", self.verbose)
        return self

    # ------------------------------------------------------------------ scoring
    def _check_fitted(self):  # the parameters, not item_ids: a fit that failed part-way sets those
        if self.similarity is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit() or autorec_fast.train()")

    def _score_csr(self, X):
        # the sparse product before it is made dense: at most rows x items entries
        self._backend.require_memory(X.shape[0] * self.n_items * (self.dtype.itemsize + 8),
                                     f"item-kNN scores of {X.shape[0]:,} rows x {self.n_items:,} items")
        out = (X @ self.similarity).toarray()
        return self._backend.asarray(np.ascontiguousarray(out, dtype=self.dtype))

    # ---------------------------------------------------------------- save/load
    def _state(self):
        S = self.similarity
        return ({"similarity_indptr": S.indptr, "similarity_indices": S.indices, "similarity_data": S.data,
                 "counts": self.counts, "item_ids": self.item_ids},
                {"neighbors": self.neighbors, "dtype": self.dtype.name})

    @classmethod
    def _from_state(cls, arrays, meta, device):
        model = cls(neighbors=meta["neighbors"], dtype=meta["dtype"], device=device)
        counts, item_ids = arrays["counts"], arrays["item_ids"]
        if counts.ndim != 1 or counts.size == 0 or counts.dtype.kind not in "iu" or (counts < 0).any():
            raise ValueError("model file: 'counts' must be a non-empty 1-D array of non-negative integers")
        n = counts.size
        if item_ids.shape != (n,):
            raise ValueError("model file: 'item_ids' does not match the counts")
        data = arrays["similarity_data"]
        if data.dtype != model.dtype:
            raise ValueError("model file: 'similarity_data' is not of the stated dtype")
        S = canonical_csr(sp.csr_matrix((data, arrays["similarity_indices"], arrays["similarity_indptr"]),
                                        shape=(n, n)), model.dtype, "model file similarity")
        if np.diff(S.indptr).max(initial=0) > model.neighbors or (S.diagonal() != 0).any():
            raise ValueError("model file: 'similarity' has more neighbours per item than stated, "
                             "or self-similarities")
        model.similarity, model.counts = S, counts.astype(np.int64)
        model.item_ids, model.n_items = item_ids, n
        return model
