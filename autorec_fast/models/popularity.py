"""Most-popular baseline: every user gets the items ranked by how many training
users interacted with them.

    score(u, i) = |{training users v : X[v, i] > 0}|   (the same row for every user)

No kernels: the counts are one ``np.bincount`` over the binarised training
matrix, and a batch of scores is that row repeated. It runs on the CPU only.
"""

from __future__ import annotations

import time

import numpy as np

from .._progress import check_verbose, report
from .._validation import check_dtype
from ._shared import ImplicitModel
from .base import Recommender


class Popularity(ImplicitModel, Recommender):
    """Item popularity: the ranking baseline every top-N model should beat.

    The training data are binarised as for the other implicit-feedback models
    (positive values count once, negative values are an error), so an item's
    score is the number of distinct training users who interacted with it.
    ``score(history)`` returns that row for every row of ``history`` (the
    history's contents only matter to ``recommend``, which leaves out seen
    items). Ties are broken by the lower item index, as everywhere in the
    library. Users without interactions are allowed in the training data (they
    count for no item).

    Parameters
    ----------
    dtype : {"float32", "float64"}
        dtype of the scores (float32 holds counts exactly up to 2**24 users).
    device : {"cpu"}
        NumPy only: ``device="cuda"`` is a ValueError.
    verbose : {0, 1, 2} or bool
        Write the fitting time to stderr (it is also an INFO record on the
        ``"autorec_fast"`` logger).

    Attributes
    ----------
    counts : ndarray of int64 (n_items,)
        Training users per item (the scores).
    n_users, n_items : int
        Shape of the training data.
    item_ids : ndarray
        Original id of each item column.

    Examples
    --------
    >>> pop = autorec_fast.train("popularity", split.train)
    >>> autorec_fast.evaluate(pop, split.test, ["ndcg@100"])
    """

    name = "popularity"
    devices = ("cpu",)

    def __init__(self, *, dtype="float32", device: str = "cpu", verbose: bool = False):
        super().__init__(device)
        self.dtype = check_dtype(dtype)
        self.verbose = check_verbose(verbose)
        self.counts = None
        self.n_users = 0

    def fit(self, data) -> "Popularity":
        """Count each item's users in ``data`` (anything ``autorec_fast.as_interactions`` accepts)."""
        t0 = time.perf_counter()
        self.counts = None
        X = self._binary_matrix(data, allow_empty_users=True)
        self.counts = np.bincount(X.indices, minlength=self.n_items).astype(np.int64)
        self.n_users = X.shape[0]
        seconds = time.perf_counter() - t0
        self.fit_info = {"seconds": seconds}
        report(self, f"{self.n_users:,} users x {self.n_items:,} items counted in {seconds:.2f} s", self.verbose)
        return self

    # ------------------------------------------------------------------ scoring
    def _check_fitted(self):  # the parameters, not item_ids: a fit that failed part-way sets those
        if self.counts is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit() or autorec_fast.train()")

    def _score_csr(self, X):
        row = self._backend.asarray(self.counts.astype(self.dtype))
        return self._backend.xp.repeat(row[None, :], X.shape[0], axis=0)

    # ---------------------------------------------------------------- save/load
    def _state(self):
        return ({"counts": self.counts, "item_ids": self.item_ids},
                {"dtype": self.dtype.name, "n_users": self.n_users})

    @classmethod
    def _from_state(cls, arrays, meta, device):
        model = cls(dtype=meta["dtype"], device=device)
        counts, item_ids = arrays["counts"], arrays["item_ids"]
        n_users = meta["n_users"]
        if isinstance(n_users, bool) or not isinstance(n_users, int) or n_users < 0:
            raise ValueError("model file: 'n_users' must be a non-negative integer")
        if (counts.ndim != 1 or counts.size == 0 or counts.dtype.kind not in "iu"
                or (counts < 0).any() or (counts > n_users).any()):
            raise ValueError("model file: 'counts' must be a non-empty 1-D array of integers in [0, n_users]")
        if item_ids.shape != counts.shape:
            raise ValueError("model file: 'item_ids' does not match the counts")
        model.counts = counts.astype(np.int64)
        model.item_ids, model.n_items, model.n_users = item_ids, counts.size, n_users
        return model
