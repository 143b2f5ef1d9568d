"""What every model shares: scoring in batches, top-K recommendation, save/load plumbing."""

from __future__ import annotations

import copy
import functools
import inspect
import math

import numpy as np

from .. import backends
from .._validation import as_history, check_k, check_positive
from ._shared import choice

_MISSING = object()


def _same(a, b) -> bool:
    """Equality that never raises and treats arrays, dtypes and NaN sensibly."""
    if a is b:
        return True
    try:
        return bool(np.array_equal(a, b)) if isinstance(a, np.ndarray) or isinstance(b, np.ndarray) else bool(a == b)
    except Exception:
        return False


def _plain(value):
    """An attribute's value as the constructor accepts it back (np.dtype -> its name,
    NumPy scalars -> Python numbers, tuples -> lists)."""
    if isinstance(value, np.dtype):
        return value.name
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _records_arguments(cls, init):
    """Wrap a subclass's ``__init__`` so that the outermost constructor call records
    its arguments (for ``get_params``) and the attributes it set from them."""
    signature = inspect.signature(init)

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        if type(self).__init__ is __init__:  # not a super().__init__ call of a subclass
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            raw = {k: v for k, v in bound.arguments.items() if k in self._param_names()}
            self.__dict__["_init_arguments"] = raw
            self.__dict__["_init_attributes"] = {k: copy.deepcopy(getattr(self, k, _MISSING)) for k in raw}

    __init__._records_arguments = True
    return __init__


def _keeps_history(fit):
    """Wrap a subclass's ``fit`` with the ``keep_history`` option every model takes: the
    data become an ``Interactions`` once (so the model and the kept history read the
    same rows), and after the fit the training rows are kept for ``recommend(users=...)``."""
    signature = inspect.signature(fit)
    keep = inspect.Parameter("keep_history", inspect.Parameter.KEYWORD_ONLY, default=False)
    params = list(signature.parameters.values())
    at = next((i for i, p in enumerate(params) if p.kind == p.VAR_KEYWORD), len(params))

    @functools.wraps(fit)
    def wrapper(self, data, *args, keep_history: bool = False, **kwargs):
        if not isinstance(keep_history, (bool, np.bool_)):
            raise TypeError(f"keep_history must be True or False, got {keep_history!r}")
        self._kept_history = None
        if not self.predicts_ratings:  # rating models always know their users; the others only so
            self.user_ids = None
        if keep_history:
            from ..interactions import as_interactions

            data = as_interactions(data)
        result = fit(self, data, *args, **kwargs)
        if keep_history:
            self._keep_history(data)
        return result

    wrapper.__signature__ = signature.replace(parameters=params[:at] + [keep] + params[at:])
    wrapper._keeps_history = True
    return wrapper


class Recommender:
    """Base class of the fitted models.

    Subclasses set ``name`` (the registry key), implement ``_score_csr`` (dense
    scores for a canonical CSR batch of histories) and ``_state`` / ``_from_state``
    (plain arrays plus JSON-able metadata) for saving.
    """

    name: str = ""
    #: models that predict ratings (AutoRec, DeepRec) set this
    predicts_ratings: bool = False
    #: the devices the model runs on; host-only models (the NumPy/SciPy baselines)
    #: narrow it, and any other device is a ValueError naming the supported ones
    devices: tuple[str, ...] = backends.DEVICES

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, "_records_arguments", False):
            cls.__init__ = _records_arguments(cls, init)
        fit = cls.__dict__.get("fit")
        if fit is not None and not getattr(fit, "_keeps_history", False):
            cls.fit = _keeps_history(fit)

    def __init__(self, device: str = "cpu"):
        if isinstance(device, str) and device in backends.DEVICES and device not in self.devices:
            raise ValueError(f"device: {type(self).__name__} runs on {' or '.join(self.devices)} only "
                             f"(NumPy/SciPy code), got {device!r}")
        self.device = backends.check_device(device)
        self.item_ids: np.ndarray | None = None
        #: the training users' original ids: rating models always, the others after
        #: ``fit(..., keep_history=True)``
        self.user_ids: np.ndarray | None = None
        self._kept_history = None  # the training rows, as _as_history makes them (keep_history)
        self.n_items: int = 0
        self.dtype = np.dtype(np.float32)
        #: per epoch (or iteration) of the last fit; empty for closed-form models
        self.history: list[dict] = []
        #: what the last fit measured (seconds, and per model e.g. epochs run, why it stopped)
        self.fit_info: dict = {}

    # ---------------------------------------------------- estimator conventions
    @classmethod
    def _param_names(cls) -> list[str]:
        """The constructor's parameters (scikit-learn's convention: each one is also an
        attribute of the same name)."""
        return [p.name for p in inspect.signature(cls.__init__).parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    def get_params(self, deep: bool = True) -> dict:
        """The constructor's parameters and their values: ``type(m)(**m.get_params())``
        builds an unfitted copy (``sklearn.base.clone`` works too).

        A value is the argument the constructor was given while the attribute still
        holds what the constructor made of it (so ``clone``'s identity check holds),
        else the attribute's current value in a form the constructor accepts (a
        dtype as its name, a tuple as a list). ``deep`` is accepted for
        scikit-learn; no model holds nested estimators."""
        raw = self.__dict__.get("_init_arguments", {})
        made = self.__dict__.get("_init_attributes", {})
        params = {}
        for name in self._param_names():
            value = getattr(self, name, _MISSING)
            if value is _MISSING:
                raise AttributeError(f"{type(self).__name__} does not keep its constructor argument {name!r} "
                                     "as an attribute of that name")
            params[name] = raw[name] if name in raw and _same(value, made.get(name, _MISSING)) else _plain(value)
        return params

    def set_params(self, **params) -> "Recommender":
        """Set constructor parameters (scikit-learn's convention); returns the model.

        The values go through the constructor's checks (a fresh model is built with
        them, and its checked values are copied), so a bad value raises as the
        constructor would and leaves the model unchanged; an unknown name is a
        ValueError naming it. The new values apply to the next ``fit``: a fitted
        model's parameters are not converted (e.g. to a new ``dtype`` or ``device``)."""
        names = self._param_names()
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise ValueError(f"set_params: unknown parameter(s) {unknown} for {type(self).__name__}; "
                             f"it takes {names}")
        if not params:
            return self
        fresh = type(self)(**{**self.get_params(), **params})
        for name in names:
            setattr(self, name, getattr(fresh, name))
        self.__dict__["_init_arguments"] = fresh.__dict__.get("_init_arguments", {})
        self.__dict__["_init_attributes"] = fresh.__dict__.get("_init_attributes", {})
        return self

    def __repr__(self) -> str:
        """The class and its parameters that differ from the defaults, e.g. ``AutoRec(hidden=100)``."""
        try:
            default = type(self)()
        except Exception:  # a class without defaults for every parameter: compare with the signature
            default = None
        signature = inspect.signature(type(self).__init__).parameters
        shown = []
        for name, value in self.get_params().items():
            if default is not None:
                same = _same(_plain(getattr(self, name)), _plain(getattr(default, name)))
            else:
                same = _same(value, signature[name].default)
            if not same:
                shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def plot_history(self, metrics=None, ax=None):
        """Plot the training history per epoch with matplotlib; returns the Axes.

        ``metrics``: history keys to draw (default: ``loss`` and the validation
        metric); the loss is drawn on ``ax`` and the other keys on a second y axis,
        with the best epoch marked. Needs the ``plot`` extra
        (``pip install 'autorec_fast[plot]'``, i.e. matplotlib)."""
        from .._plotting import plot_history

        return plot_history(self, metrics, ax)

    @property
    def _backend(self):
        """The device's kernels for this model's dtype (see ``autorec_fast.backends``)."""
        backend = self.__dict__.get("_backend_cache")
        if backend is None or backend.device != self.device or backend.dtype != self.dtype:
            backend = self._backend_cache = backends.get_backend(self.device, self.dtype)
        return backend

    # ------------------------------------------------------------------ scoring
    def _check_fitted(self):
        if self.item_ids is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit() or autorec_fast.train()")

    def score(self, history, *, batch_size: int = 4096):
        """Dense scores (rows x items) for rows of user histories.

        ``history`` holds one row per user and one column per training item (an
        ``Interactions``, a SciPy sparse matrix or a dense array); users never
        seen in training are scored by folding in their history. On
        ``device='cuda'`` the result is a CuPy array.
        """
        self._check_fitted()
        batch_size = check_positive(batch_size, "batch_size", integer=True)
        X = self._as_history(history)
        rows = X.shape[0]  # the dense result, and one batch's scores while they are computed
        self._backend.require_memory((rows + min(batch_size, rows)) * self.n_items * self.dtype.itemsize,
                                     f"scoring {rows:,} rows x {self.n_items:,} items")
        if X.shape[0] <= batch_size:
            return self._finite_scores(X)
        return self._backend.xp.concatenate(
            [self._finite_scores(X[s : s + batch_size]) for s in range(0, X.shape[0], batch_size)]
        )

    def _finite_scores(self, X):
        """``_score_csr(X)``, refused when a score is not finite: NaN or inf scores would rank
        and evaluate as garbage without a word (one reduction over the batch, ~1-3 % of its
        scoring time at the ML-20M shape)."""
        S = self._score_csr(X)
        if not math.isfinite(self._backend.squared_norm(S)):  # Σ s² in float64: inf/NaN iff some s is
            raise FloatingPointError(
                f"{type(self).__name__}: scores are not finite (or beyond 1e154) for these histories: the "
                "weights are too large (did training diverge? see model.history; retrain with a smaller lr) "
                "or the history holds extreme values")
        return S

    def _as_history(self, history, name: str = "history"):
        """``history`` as the CSR batch ``_score_csr`` reads (sequential models override)."""
        return as_history(history, self.n_items, self.dtype, name, self.item_ids)

    def _score_csr(self, X):  # pragma: no cover - abstract
        raise NotImplementedError

    def recommend(self, history=None, k: int = 10, *, users=None, unknown: str = "error",
                  exclude_seen: bool = True, batch_size: int = 4096, return_ids: bool = False):
        """Top-``k`` items for each row of ``history``, or for training users by id.

        ``history`` as a matrix (an ``Interactions``, a SciPy sparse matrix or a dense
        array: one row per user, one column per model item, an ``Interactions``
        labelled with the model's ``item_ids`` or unlabelled; SVAE: an ``Interactions``
        with timestamps or a list of item-index sequences) returns ``(items,
        scores)``, two (rows x k) arrays, best first. ``items`` are column indices
        into the model's items (``model.item_ids[items]`` gives the original ids;
        ``return_ids=True`` does that for you). With ``exclude_seen`` the items in a
        row's history are never recommended; a row with fewer than ``k`` unseen
        items is padded with index -1 and score -inf.

        By original id (a pandas DataFrame comes back, with columns ``user``,
        ``item``, ``score`` and ``rank`` (1 to k, best first) in original ids; users
        in order of first appearance; a user with fewer than ``k`` unseen items
        gets fewer rows):

        * ``history`` a DataFrame of ``user``, ``item`` (and, when present,
          ``rating``, ``timestamp``) columns in original ids, as ``train`` takes
          them: each user is scored from the given rows (folded in, whether or not
          the model saw the user). Rows naming an item the model never saw are
          dropped, with one ``UnknownIdsWarning`` giving their count. SVAE orders
          a history by its ``timestamp`` column and refuses one without it.
        * ``users=[...]``: users of the training data, scored from their training
          rows; needs a model fitted with ``keep_history=True``. An id the model
          does not know is a ValueError naming it, or with ``unknown="skip"`` is
          left out with an ``UnknownIdsWarning`` giving the count.

        ``return_ids`` applies to the matrix form only (the DataFrame holds ids).
        """
        from .._data.original_ids import is_frame, recommendations_frame

        self._check_fitted()
        k = check_k(k, self.n_items)
        batch_size = check_positive(batch_size, "batch_size", integer=True)
        if users is not None:
            if history is not None:
                raise TypeError("recommend: pass either history or users=, not both")
            user_ids, X = self._kept_rows(users, choice(unknown, ("error", "skip"), "unknown"))
            items, scores = self._recommend_csr(X, k, exclude_seen, batch_size)
            return recommendations_frame(user_ids, self.item_ids, items, scores)
        if history is None:
            raise TypeError("recommend: pass a history (rows of user histories, or a DataFrame in "
                            "original ids) or users=[...] (training users, with keep_history=True)")
        if is_frame(history):
            from .._data.original_ids import history_from_frame

            inter, user_ids = history_from_frame(history, self.item_ids, "history")
            items, scores = self._recommend_csr(self._as_history(inter), k, exclude_seen, batch_size)
            return recommendations_frame(user_ids, self.item_ids, items, scores)
        items, scores = self._recommend_csr(self._as_history(history), k, exclude_seen, batch_size)
        if return_ids:
            if (items < 0).any():
                raise ValueError("some rows have fewer than k unseen items: use return_ids=False")
            return self.item_ids[items], scores
        return items, scores

    def _recommend_csr(self, X, k, exclude_seen, batch_size):
        """(items, scores) top-k arrays for the rows of the model-ready batch ``X``."""
        from ..evaluation import _topk_batches

        items, scores = [], []
        for top, val, _ in _topk_batches(self, X, k, exclude_seen, batch_size):
            items.append(top)
            scores.append(val)
        if not items:  # no rows: still ask the model, so a model that cannot rank refuses as score() does
            self._score_csr(X)
        items = np.concatenate(items) if items else np.zeros((0, k), np.int64)
        scores = np.concatenate(scores) if scores else np.zeros((0, k), self.dtype)
        return items, scores

    # ---------------------------------------------------- kept training history
    def _keep_history(self, inter):
        """Keep the training rows (``fit(..., keep_history=True)``) as ``_as_history`` makes
        them, with the users' original ids."""
        if self.user_ids is None:
            self.user_ids = np.asarray(inter.user_ids)
        X = self._as_history(inter, "data")
        if X.shape[0] != len(self.user_ids):
            raise ValueError(f"keep_history: {X.shape[0]} history rows but {len(self.user_ids)} users")
        self._kept_history = X

    def _kept_history_state(self) -> dict:
        """The kept history as plain arrays for the model file (empty without one)."""
        X = self._kept_history
        if X is None:
            return {}
        return {"kept_history_indptr": np.asarray(X.indptr, np.int64),
                "kept_history_indices": np.asarray(X.indices, np.int32),
                "kept_history_data": np.asarray(X.data), "kept_history_user_ids": np.asarray(self.user_ids)}

    def _restore_kept_history(self, arrays: dict) -> None:
        """The kept history back from ``_kept_history_state``'s arrays (validated)."""
        import scipy.sparse as sp

        from .._validation import canonical_csr

        user_ids = arrays["kept_history_user_ids"]
        indptr = arrays["kept_history_indptr"]
        if user_ids.ndim != 1 or indptr.ndim != 1 or indptr.size != user_ids.size + 1:
            raise ValueError("model file: the kept history does not match its user ids")
        if self.user_ids is not None and not np.array_equal(self.user_ids, user_ids):
            raise ValueError("model file: the kept history's user ids differ from the model's")
        X = sp.csr_matrix((arrays["kept_history_data"], arrays["kept_history_indices"], indptr),
                          shape=(user_ids.size, self.n_items))
        self._kept_history = canonical_csr(X, self.dtype, "model file: kept history")
        self.user_ids = user_ids

    def _kept_rows(self, users, unknown):
        """(user ids, rows of the kept history) for training users given by original id."""
        import warnings

        from .._data.original_ids import UnknownIdsWarning, describe, index_of_ids

        if self._kept_history is None:
            raise ValueError(f"recommend(users=...): {type(self).__name__} kept no training history; "
                             "fit it with keep_history=True (or pass the users' history as a DataFrame)")
        ids = np.asarray(users)
        if ids.ndim == 0:
            ids = ids.reshape(1)
        if ids.ndim != 1:
            raise ValueError(f"users must be a 1-D list of user ids, got shape {ids.shape}")
        rows = index_of_ids(ids, self.user_ids)
        missing = rows < 0
        if missing.any():
            what = f"{int(missing.sum())} of the {ids.size} users are not training users ({describe(ids[missing])})"
            if unknown == "error":
                raise ValueError(f"users: {what}; pass unknown='skip' to leave them out")
            warnings.warn(f"users: {what}; they were left out", UnknownIdsWarning, stacklevel=3)
            ids, rows = ids[~missing], rows[~missing]
        return self.user_ids[rows], self._kept_history[rows]

    # --------------------------------------------------------------- save/load
    def _state(self) -> tuple[dict, dict]:  # pragma: no cover - abstract
        """(arrays, metadata) that fully describe the fitted model."""
        raise NotImplementedError

    @classmethod
    def _from_state(cls, arrays: dict, meta: dict, device: str):  # pragma: no cover - abstract
        raise NotImplementedError

    def save(self, path) -> None:
        """Save to ``path`` (.npz): plain arrays plus JSON metadata, no pickle."""
        from ..io import save_model

        self._check_fitted()
        save_model(self, path)
