"""What every model shares: scoring in batches, top-K recommendation, save/load plumbing."""

from __future__ import annotations

import copy
import functools
import inspect

import numpy as np

from .. import backends
from .._validation import as_history, check_k, check_positive

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

    def __init__(self, device: str = "cpu"):
        if isinstance(device, str) and device in backends.DEVICES and device not in self.devices:
            raise ValueError(f"device: {type(self).__name__} runs on {' or '.join(self.devices)} only "
                             f"(NumPy/SciPy code), got {device!r}")
        self.device = backends.check_device(device)
        self.item_ids: np.ndarray | None = None
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
            return self._score_csr(X)
        return self._backend.xp.concatenate(
            [self._score_csr(X[s : s + batch_size]) for s in range(0, X.shape[0], batch_size)]
        )

    def _as_history(self, history, name: str = "history"):
        """``history`` as the CSR batch ``_score_csr`` reads (sequential models override)."""
        return as_history(history, self.n_items, self.dtype, name)

    def _score_csr(self, X):  # pragma: no cover - abstract
        raise NotImplementedError

    def recommend(self, history, k: int = 10, *, exclude_seen: bool = True, batch_size: int = 4096,
                  return_ids: bool = False):
        """Top-``k`` items for each row of ``history``.

        Returns ``(items, scores)``, two (rows x k) arrays, best first. ``items``
        are column indices into the model's items (``model.item_ids[items]``
        gives the original ids; ``return_ids=True`` does that for you). With
        ``exclude_seen`` the items in a row's history are never recommended; a
        row with fewer than ``k`` unseen items is padded with index -1 and score
        -inf.
        """
        from ..evaluation import _topk_batches

        self._check_fitted()
        k = check_k(k, self.n_items)
        X = self._as_history(history)
        batch_size = check_positive(batch_size, "batch_size", integer=True)
        items, scores = [], []
        for top, val, _ in _topk_batches(self, X, k, exclude_seen, batch_size):
            items.append(top)
            scores.append(val)
        items = np.concatenate(items) if items else np.zeros((0, k), np.int64)
        scores = np.concatenate(scores) if scores else np.zeros((0, k), self.dtype)
        if return_ids:
            if (items < 0).any():
                raise ValueError("some rows have fewer than k unseen items: use return_ids=False")
            return self.item_ids[items], scores
        return items, scores

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
