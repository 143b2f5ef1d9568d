"""Rating baseline: the global mean plus a regularised bias per user and per item.

    r̂(u, i) = μ + b_u + b_i,
    min Σ_(u,i) (r_ui − μ − b_u − b_i)² + reg_users Σ_u b_u² + reg_items Σ_i b_i²,

fitted as surprise's ``BaselineOnly`` with ``method="als"`` does it: μ is the
mean training rating, the biases start at zero and each iteration solves for
every item bias with the user biases fixed, then for every user bias with the
item biases fixed (closed forms; n_i, n_u: the item's and the user's ratings):

    b_i = Σ_u (r_ui − μ − b_u) / (reg_items + n_i),
    b_u = Σ_i (r_ui − μ − b_i) / (reg_users + n_u).

No kernels: each half-step is one ``np.bincount`` with weights over the
ratings. It runs on the CPU only.
"""

from __future__ import annotations

import time

import numpy as np

from .._progress import check_verbose, report
from .._validation import check_dtype, check_positive
from ..interactions import as_interactions
from ._shared import RatingModel
from .base import Recommender

#: more iterations than this is a mistake (surprise uses 10; 100 reach the
#: fixed point to float64 precision on MovieLens)
MAX_ITERATIONS = 10_000


def _ratio(num, den):
    """num / den in float64, 0 where den is 0 (a user or item without ratings and no
    penalty). ``num`` comes from np.bincount, which returns integers for no entries."""
    num = np.asarray(num, dtype=np.float64)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


class BiasBaseline(RatingModel, Recommender):
    """Global mean + user bias + item bias (Koren 2010's baseline predictor).

    A rating-prediction model like AutoRec and DeepRec: ``predict(users,
    items)`` for index pairs, ``autorec_fast.evaluate(model, test, ["rmse",
    "mae"])``, predictions clipped to the training ratings' range. A user or
    item index outside the training range (``unknown="default"``, or an id the
    model never saw in ``evaluate``) gets μ plus the bias of whichever of the
    two is known; one without training ratings has a zero bias.

    ``score(history)`` (for ``recommend`` and ranking metrics) gives each
    history row the predicted ratings of a new user: μ + b_u + b_i, with b_u
    folded in from the row's values by the user update above (with the fitted
    item biases). b_u is one constant per row, so the ranking of a row is that
    of μ + b_i whatever its history (items the row holds are left out by
    ``recommend``); scores are not clipped.

    Parameters
    ----------
    reg_items, reg_users : float
        The penalties λ_i, λ_u >= 0 (surprise's defaults: 10 and 15).
    iterations : int
        Alternating passes, 1 to 10,000 (surprise's ``n_epochs`` default: 10).
    clip : bool
        Clip ``predict``'s output to the training ratings' range.
    dtype : {"float32", "float64"}
        dtype of ``score``; the biases are fitted and kept in float64.
    device : {"cpu"}
        NumPy only: ``device="cuda"`` is a ValueError.
    verbose : {0, 1, 2} or bool
        Write the training RMSE after every iteration to stderr (each iteration is
        also an INFO record on the ``"autorec_fast"`` logger).

    Attributes
    ----------
    mean_ : float
        μ, the mean training rating.
    user_bias : ndarray of float64
        b_u, shape (n_users,).
    item_bias : ndarray of float64
        b_i, shape (n_items,).
    rating_range_ : (float, float)
        Smallest and largest training rating.
    history : list of dict
        Per iteration: ``epoch``, ``loss`` (the penalised objective above),
        ``train_rmse`` and, with ``validation=`` in fit, ``val_rmse``.
    best_epoch : int
        The iteration whose biases are kept: the last one, or with validation
        the one with the lowest validation RMSE.
    user_ids : ndarray
        Original id of each row (user).
    item_ids : ndarray
        Original id of each column (item).

    Examples
    --------
    >>> train, test = autorec_fast.random_split(ratings, 0.1)
    >>> model = autorec_fast.train("bias", train)
    >>> autorec_fast.evaluate(model, test, ["rmse", "mae"])

    References
    ----------
    Y. Koren, "Factor in the neighbors", TKDD 2010, section 2.1; N. Hug,
    "Surprise", JOSS 2020 (``BaselineOnly``, ``bsl_options={"method": "als",
    "reg_i": 10, "reg_u": 15, "n_epochs": 10}`` are its defaults).
    """

    name = "bias"
    devices = ("cpu",)
    _HYPER = ("reg_items", "reg_users", "iterations", "clip")

    def __init__(self, reg_items: float = 10.0, reg_users: float = 15.0, iterations: int = 10, *,
                 clip: bool = True, dtype="float32", device: str = "cpu", verbose: bool = False):
        super().__init__(device)
        self.reg_items = check_positive(reg_items, "reg_items", allow_zero=True)
        self.reg_users = check_positive(reg_users, "reg_users", allow_zero=True)
        self.iterations = check_positive(iterations, "iterations", integer=True)
        if self.iterations > MAX_ITERATIONS:
            raise ValueError(f"iterations must be at most {MAX_ITERATIONS:,}, got {iterations}")
        self.clip = bool(clip)
        self.dtype = check_dtype(dtype)
        self.verbose = check_verbose(verbose)
        self.user_bias = self.item_bias = None
        self.history: list[dict] = []
        self.best_epoch = 0

    # ------------------------------------------------------------------ fitting
    def fit(self, data, validation=None) -> "BiasBaseline":
        """Fit on explicit ratings; ``validation``: ratings in the same index space
        (their RMSE is recorded every iteration and the best iteration's biases kept).

        Implicit feedback (``Interactions.has_ratings`` False) is a ValueError."""
        inter = as_interactions(data)
        if not inter.has_ratings:
            raise ValueError("data: the bias baseline needs explicit ratings, but these are implicit "
                             "feedback (has_ratings=False); use train('popularity', ...) to rank items")
        t0 = time.perf_counter()
        self.user_bias = self.item_bias = None
        R = self._ratings_matrix(inter)
        val = self._validation_data(validation)
        # the per-rating user index, ratings, residuals and bincount weights in float64
        self._backend.require_memory(R.nnz * 40 + (self.n_users + self.n_items) * 48,
                                     f"bias baseline on {R.nnz:,} ratings")
        users = np.repeat(np.arange(self.n_users, dtype=np.int64), np.diff(R.indptr))
        items = R.indices
        r = R.data.astype(np.float64)
        mu = self.mean_ = float(r.mean())
        r -= mu
        n_u = np.diff(R.indptr).astype(np.float64)
        n_i = np.bincount(items, minlength=self.n_items).astype(np.float64)
        b_u = np.zeros(self.n_users)
        b_i = np.zeros(self.n_items)
        self.history, best = [], None
        for it in range(1, self.iterations + 1):
            b_i = _ratio(np.bincount(items, weights=r - b_u[users], minlength=self.n_items),
                         self.reg_items + n_i)
            b_u = _ratio(np.bincount(users, weights=r - b_i[items], minlength=self.n_users),
                         self.reg_users + n_u)
            sse = float(np.sum((r - b_u[users] - b_i[items]) ** 2))
            entry = {"epoch": it, "loss": sse + self.reg_users * float(b_u @ b_u) + self.reg_items * float(b_i @ b_i),
                     "train_rmse": float(np.sqrt(sse / r.size))}
            self.user_bias, self.item_bias = b_u, b_i
            score = self._validate(val, entry)
            self.history.append(entry)
            if best is None or (score is not None and score > best[0]):
                best = (score, it, b_u, b_i)
            extra = f", val_rmse {entry['val_rmse']:.4f}" if "val_rmse" in entry else ""
            report(self, f"iteration {it}: train_rmse {entry['train_rmse']:.4f}{extra}", self.verbose)
        if val is None:
            best = (None, self.iterations, b_u, b_i)
        _, self.best_epoch, self.user_bias, self.item_bias = best
        seconds = time.perf_counter() - t0
        self.fit_info = {"seconds": seconds, "iterations": len(self.history), "best_epoch": self.best_epoch}
        report(self, f"fitted in {seconds:.2f} s", self.verbose)
        return self

    # --------------------------------------------------------------- prediction
    def _check_fitted(self):  # the parameters, not item_ids: a fit that failed part-way sets those
        if self.user_bias is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit() or autorec_fast.train()")

    def _known(self):
        # every in-range user and item has a bias (zero without training ratings)
        return np.ones(self.n_users, bool), np.ones(self.n_items, bool)

    def _predict_known(self, users, items):
        return self.mean_ + self.user_bias[users] + self.item_bias[items]

    def _predict_unknown(self, users, items):
        """μ plus the bias of the user or the item where that one is in range."""
        u_ok = (users >= 0) & (users < self.n_users)
        i_ok = (items >= 0) & (items < self.n_items)
        return (self.mean_ + np.where(u_ok, self.user_bias[np.where(u_ok, users, 0)], 0.0)
                + np.where(i_ok, self.item_bias[np.where(i_ok, items, 0)], 0.0))

    def _score_csr(self, X):
        """μ + b_u + b_i for each history row, b_u folded in from the row's values."""
        rows = np.repeat(np.arange(X.shape[0], dtype=np.int64), np.diff(X.indptr))
        dev = X.data.astype(np.float64) - self.mean_ - self.item_bias[X.indices]
        b_u = _ratio(np.bincount(rows, weights=dev, minlength=X.shape[0]),
                     self.reg_users + np.diff(X.indptr).astype(np.float64))
        scores = (self.mean_ + b_u)[:, None] + self.item_bias[None, :]
        return self._backend.asarray(scores.astype(self.dtype))

    # ---------------------------------------------------------------- save/load
    def _state(self):
        arrays, meta = self._rating_state()
        arrays.update(user_bias=self.user_bias, item_bias=self.item_bias)
        return arrays, meta

    @classmethod
    def _from_state(cls, arrays, meta, device):
        model = cls._rating_model_from_state(arrays, meta, device)
        if model.n_users <= 0 or model.n_items <= 0:
            raise ValueError("model file: 'n_users' and 'n_items' must be positive")
        b_u, b_i = arrays["user_bias"], arrays["item_bias"]
        if b_u.shape != (model.n_users,) or b_i.shape != (model.n_items,) or b_u.dtype.kind != "f" \
                or b_i.dtype.kind != "f":
            raise ValueError("model file: 'user_bias' and 'item_bias' must be float arrays of "
                             "n_users and n_items values")
        if model.user_ids.shape != (model.n_users,) or model.item_ids.shape != (model.n_items,):
            raise ValueError("model file: 'user_ids' or 'item_ids' does not match the biases")
        lo, hi = model.rating_range_
        if not (np.isfinite(model.mean_) and np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
            raise ValueError("model file: 'mean' and 'rating_range' must be finite, lowest first")
        model.user_bias, model.item_bias = b_u.astype(np.float64), b_i.astype(np.float64)
        return model
