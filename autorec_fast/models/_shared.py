"""What several models share, defined once: option checks, the rating-model and
implicit-feedback mixins. Models import from here, never from each other."""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp

from .._validation import canonical_csr
from ..backends import ACTIVATIONS, LOSSES, OPTIMIZERS
from ..interactions import as_interactions

__all__ = ["ACTIVATIONS", "LOSSES", "OPTIMIZERS", "ImplicitModel", "RatingModel", "check_layers",
           "choice", "features_csr", "item_offsets", "user_offsets"]

#: shrinkage of the rating offsets (as surprise's BaselineOnly ALS: reg_i 10, reg_u 15)
ITEM_SHRINKAGE, USER_SHRINKAGE = 10.0, 15.0


def choice(value, options, name):
    """``value`` when it is one of ``options``, else a ValueError naming ``name``."""
    if value not in options:
        raise ValueError(f"{name} must be one of {sorted(o for o in options if o is not None)}, got {value!r}")
    return value


def check_layers(layers, name="layers") -> list[int]:
    """A non-empty list of positive layer sizes (an int is one layer)."""
    if isinstance(layers, (int, np.integer)):
        layers = [layers]
    try:
        layers = [int(x) for x in layers]
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a list of positive integers, got {layers!r}") from None
    if not layers or any(x <= 0 for x in layers):
        raise ValueError(f"{name} must be a non-empty list of positive integers, got {layers!r}")
    return layers


def features_csr(features, n_rows, dtype, name):
    """Side features -> canonical CSR with n_rows rows (dense or sparse input)."""
    if features is None:
        return None
    if sp.issparse(features):
        m = features
    else:
        arr = np.asarray(features)
        if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.number):
            raise ValueError(f"{name} must be a 2-D numeric array or sparse matrix, got shape {arr.shape}")
        m = sp.csr_matrix(arr)
    if m.shape[0] != n_rows:
        raise ValueError(f"{name} has {m.shape[0]} rows but the data has {n_rows}")
    return canonical_csr(m, dtype, name)


def user_offsets(X: sp.csr_matrix, item_offset: np.ndarray) -> np.ndarray:
    """Per row of the ratings X, the regularised mean of its ratings minus ``item_offset``:
    Σ (r − item_offset[i]) / (USER_SHRINKAGE + count) (0 for an empty row), float64."""
    resid = X.data.astype(np.float64) - item_offset[X.indices]
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    return np.bincount(rows, resid, X.shape[0]) / (USER_SHRINKAGE + np.diff(X.indptr))


def item_offsets(R: sp.csr_matrix, with_users: bool, iterations: int = 10) -> np.ndarray:
    """Per item, the global mean plus its regularised bias, float64: Σ (r − mean) /
    (ITEM_SHRINKAGE + count) alone, or (``with_users``) alternated ``iterations``
    times with the users' biases (:func:`user_offsets`), the baseline predictor
    mean + b_u + b_i of Koren's SVD++ paper / surprise's BaselineOnly."""
    R = R.tocsr()
    mu = float(R.data.astype(np.float64).mean())
    cols, n_items = R.indices, R.shape[1]
    counts = np.bincount(cols, minlength=n_items)
    rows = np.repeat(np.arange(R.shape[0]), np.diff(R.indptr))
    r = R.data.astype(np.float64)
    b_user = np.zeros(R.shape[0])
    for _ in range(iterations if with_users else 1):
        b_item = np.bincount(cols, r - mu - b_user[rows], n_items) / (ITEM_SHRINKAGE + counts)
        if with_users:
            b_user = user_offsets(R, mu + b_item)
    return mu + b_item


class RatingModel:
    """Rating prediction (AutoRec, DeepRec): the training ratings' mean and range,
    validation by RMSE on (user, item, rating) triples, ``predict`` for index pairs
    with the training mean for users or items without training ratings.

    A model sets ``_known()`` -> (user has ratings, item has ratings) boolean
    arrays and ``_predict_known(users, items, **options)`` -> raw outputs."""

    predicts_ratings = True

    def _ratings_matrix(self, data):
        """Training ratings -> canonical CSR; sets ids, sizes, mean and range."""
        inter = as_interactions(data)
        R = canonical_csr(inter.matrix, self.dtype, "data")
        if R.nnz == 0:
            raise ValueError("data has no ratings")
        self.user_ids, self.item_ids = np.asarray(inter.user_ids), np.asarray(inter.item_ids)
        self.n_users, self.n_items = R.shape
        self.mean_ = float(R.data.mean())
        self.rating_range_ = (float(R.data.min()), float(R.data.max()))
        return R

    def _rating_state(self):
        """The arrays and metadata every rating model saves, besides its own."""
        meta = {k: getattr(self, k) for k in self._HYPER}
        meta.update(dtype=self.dtype.name, n_users=self.n_users, n_items=self.n_items, mean=self.mean_,
                    rating_range=list(self.rating_range_), best_epoch=self.best_epoch, history=self.history)
        return {"user_ids": self.user_ids, "item_ids": self.item_ids}, meta

    @classmethod
    def _rating_model_from_state(cls, arrays, meta, device):
        """A model of this class with the common state of ``_rating_state`` restored."""
        model = cls(**{k: meta[k] for k in cls._HYPER}, dtype=meta["dtype"], device=device)
        model.n_users, model.n_items = meta_count(meta, "n_users"), meta_count(meta, "n_items")
        model.user_ids, model.item_ids = arrays["user_ids"], arrays["item_ids"]
        model.mean_, model.rating_range_ = _finite(meta["mean"], "mean"), _rating_range(meta["rating_range"])
        model.best_epoch, model.history = meta_count(meta, "best_epoch"), list(meta["history"])
        return model

    def _predict_unknown(self, users, items):
        """Predictions for pairs whose user or item is unknown (out of range, or without
        training ratings): the training mean; a model may use what it knows of either."""
        return np.full(users.shape, self.mean_, dtype=np.float64)

    def _validation_data(self, validation):
        """(users, items, ratings) of validation ratings in the training index space, or None."""
        if validation is None:
            return None
        inter = as_interactions(validation)
        if inter.shape != (self.n_users, self.n_items):
            raise ValueError(f"validation must be in the training data's index space "
                             f"({self.n_users} x {self.n_items}), got {inter.shape}")
        users, items, ratings, _ = inter.to_coo_arrays()
        if len(ratings) == 0:
            raise ValueError("validation has no ratings")
        return users.astype(np.int64), items.astype(np.int64), np.asarray(ratings, np.float64)

    def _validate(self, validation, entry):
        """The epoch's validation RMSE (in ``entry``); the score is −RMSE (higher is better)."""
        if validation is None:
            return None
        users, items, ratings = validation
        entry["val_rmse"] = float(np.sqrt(np.mean((self.predict(users, items, unknown="default") - ratings) ** 2)))
        return -entry["val_rmse"]

    def predict(self, users, items=None, *, clip: bool | None = None, unknown: str = "error", **options):
        """Predicted ratings for (user, item) index pairs, or for a DataFrame of pairs
        in original ids.

        ``predict(df)``: ``df`` has ``user`` and ``item`` columns in original ids
        (``userId``/``user_id``, ``movieId``/``item_id``/``itemId`` are accepted too);
        returns a NumPy array with one prediction per row of ``df``, in its order.
        An id the model never saw is a ValueError naming it; with
        ``unknown="default"`` its pairs get the model's fallback as below.

        ``users`` and ``items`` are row / column indices of the training matrix
        (``model.user_ids`` / ``model.item_ids`` hold the original ids). Pairs
        whose user or item had no training ratings get the training mean
        (``model.mean_``), or what the model knows of the other side (AutoRec:
        its output for an empty input when the output unit was trained; the bias
        baseline: μ plus the known bias). Indices outside the training range raise a
        ValueError, or get the training mean with ``unknown="default"``.
        """
        self._check_fitted()
        if items is None:
            from .._data.original_ids import is_frame

            if not is_frame(users):
                raise TypeError("predict takes (users, items) index arrays or one DataFrame of (user, item) "
                                f"original ids, got {type(users).__name__} alone")
            users, items = self._pairs_of_frame(users, choice(unknown, ("error", "default"), "unknown"))
            unknown = "default"  # unknown ids are -1 now, and were refused above unless asked for
        users = np.asarray(users)
        items = np.asarray(items)
        if users.shape != items.shape or users.ndim != 1:
            raise ValueError(f"users and items must be 1-D arrays of equal length, got {users.shape} and {items.shape}")
        for arr, name in ((users, "users"), (items, "items")):
            if arr.size and not np.issubdtype(arr.dtype, np.integer):
                raise TypeError(f"{name} must be integer indices, got dtype {arr.dtype}")
        choice(unknown, ("error", "default"), "unknown")
        users = users.astype(np.int64)
        items = items.astype(np.int64)
        in_range = (users >= 0) & (users < self.n_users) & (items >= 0) & (items < self.n_items)
        if unknown == "error" and not in_range.all():
            bad_u = (users < 0) | (users >= self.n_users)
            name, n = ("users", self.n_users) if bad_u.any() else ("items", self.n_items)
            raise ValueError(f"{name} has indices outside the training range [0, {n}); pass "
                             f"unknown='default' to predict the training mean for them")
        out = np.full(users.shape, self.mean_, dtype=np.float64)
        idx = np.flatnonzero(in_range)
        user_known, item_known = self._known()
        idx = idx[user_known[users[idx]] & item_known[items[idx]]]
        if idx.size:
            out[idx] = self._predict_known(users[idx], items[idx], **options)
        if idx.size < out.size:
            rest = np.ones(out.size, bool)
            rest[idx] = False
            out[rest] = self._predict_unknown(users[rest], items[rest])
        if not np.isfinite(out).all():  # clipping would hide inf, and NaN would pass through it
            raise FloatingPointError(
                f"{type(self).__name__}: predictions are not finite for {int((~np.isfinite(out)).sum()):,} of "
                f"{out.size:,} pairs: the weights are too large (did training diverge? see model.history; "
                "retrain with a smaller lr)")
        if self.clip if clip is None else bool(clip):
            np.clip(out, *self.rating_range_, out=out)
        return out

    def _pairs_of_frame(self, df, unknown):
        """(user indices, item indices) of a DataFrame's (user, item) original ids; -1 for
        an id the model never saw, which is a ValueError naming them unless ``unknown``
        is ``"default"``."""
        from .._data.original_ids import describe, frame_columns, index_of_ids

        user_ids, item_ids, _, _ = frame_columns(df, "df", values=False)
        users, items = index_of_ids(user_ids, self.user_ids), index_of_ids(item_ids, self.item_ids)
        if unknown == "error" and ((users < 0).any() or (items < 0).any()):
            what = [f"{int((idx < 0).sum())} rows with {name} the model never saw ({describe(ids[idx < 0])})"
                    for name, idx, ids in (("users", users, user_ids), ("items", items, item_ids))
                    if (idx < 0).any()]
            raise ValueError(f"df has {' and '.join(what)}; pass unknown='default' to predict the "
                             "model's fallback for them")
        return users, items


def _finite(value, name: str) -> float:
    """A finite number from a model file's metadata (bool and strings refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise ValueError(f"model file: {name} must be a finite number, got {value!r}")
    return float(value)


def meta_count(meta, key: str) -> int:
    """A non-negative integer from a model file's metadata (``int(inf)`` would be an
    OverflowError, ``int("x")`` a ValueError without the file's name)."""
    value = meta[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) \
            or value != int(value) or value < 0:
        raise ValueError(f"model file: {key} must be a non-negative integer, got {value!r}")
    return int(value)


def _rating_range(value) -> tuple:
    """(lowest, highest) training rating from a model file: two finite numbers in order."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ValueError(f"model file: rating_range must be [lowest, highest], got {value!r}")
    lo, hi = (_finite(v, "rating_range") for v in value)
    if lo > hi:
        raise ValueError(f"model file: rating_range must be [lowest, highest], got {value!r}")
    return lo, hi


class ExplicitRatingsWarning(UserWarning):
    """Explicit ratings given to a model of implicit feedback (filter it to silence)."""


def warn_if_explicit(inter, model: str, effect: str) -> None:
    """Warn (once per message, Python's default filter) when ``inter`` holds explicit
    ratings: which values ``effect`` describes, and how to choose what counts as a positive."""
    if not inter.has_ratings or inter.nnz == 0:
        return
    values = inter.matrix.data
    warn_explicit(model, values.min(), values.max(), effect, stacklevel=5)


def warn_explicit(model: str, lowest, highest, effect: str, stacklevel: int = 4) -> None:
    """The ``ExplicitRatingsWarning`` for ratings from ``lowest`` to ``highest``."""
    warnings.warn(
        f"{model}: data holds explicit ratings ({lowest:g} to {highest:g}); {effect}. "
        f"To count only liked items as positives, binarize first, e.g. "
        f"autorec_fast.binarize(data, threshold=3.5) (Liang et al.'s recipe keeps ratings > 3.5); "
        f"pass the binarized data to silence this warning",
        ExplicitRatingsWarning, stacklevel=stacklevel)


class ImplicitModel:
    """Top-N models on implicit feedback (CDAE, Mult-VAE/DAE, SVAE): binary input,
    validation by a ranking metric on held-out users every epoch."""

    @staticmethod
    def _check_metric(metric: str) -> str:
        from ..evaluation import RATING_METRICS, parse_metric

        base, _ = parse_metric(metric)
        if base in RATING_METRICS:
            raise ValueError(f"metric must be a ranking metric such as 'ndcg@100', got {metric!r}")
        return metric

    def _as_history(self, history, name: str = "history"):
        """Histories binarised as the training data is (every stored entry becomes 1,
        negative values are an error): a value of 2**62 in a history must not reach the
        kernels when training only ever saw 1s."""
        X = super()._as_history(history, name)
        if X.nnz and (X.data < 0).any():
            raise ValueError(f"{name} has negative values; implicit-feedback models need counts or 0/1")
        if X.nnz and not (X.data == 1).all():
            X = X.copy()
            X.data[:] = 1
        return X

    def _binary_matrix(self, data, name="data", *, allow_empty_users: bool = False) -> sp.csr_matrix:
        """Interactions -> canonical binary CSR (positive values become 1; negative values
        are an error); sets ``item_ids`` and ``n_items``. Users without interactions are
        an error unless ``allow_empty_users`` (models that do not iterate over users)."""
        inter = as_interactions(data)
        X = canonical_csr(inter.matrix, self.dtype, name)
        if X.nnz == 0:
            raise ValueError(f"{name} has no interactions")
        if (X.data < 0).any():
            raise ValueError(f"{name} has negative values; implicit-feedback models need counts or 0/1")
        warn_if_explicit(inter, type(self).__name__,
                         f"every one of its {X.nnz:,} ratings, the lowest included, became a positive (1)")
        X = X.copy()
        X.data[:] = 1  # binarised: any positive value is one interaction
        X.eliminate_zeros()
        empty = 0 if allow_empty_users else int(np.sum(np.diff(X.indptr) == 0))
        if empty:
            raise ValueError(f"{name} has {empty} users without interactions; remove them first "
                             "(e.g. autorec_fast.filter_min_counts(data, min_user_count=1))")
        self.item_ids = np.asarray(inter.item_ids)
        self.n_items = X.shape[1]
        return X

    def _validation_data(self, validation):
        return validation

    def _validate(self, validation, entry):
        """The epoch's validation metric (also stored in ``entry``), or None without validation."""
        if validation is None:
            return None
        from ..evaluation import evaluate

        entry[self.metric] = evaluate(self, validation, [self.metric])[self.metric]
        return entry[self.metric]
