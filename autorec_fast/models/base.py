"""What every model shares: scoring in batches, top-K recommendation, save/load plumbing."""

from __future__ import annotations

import numpy as np

from .. import backends
from .._validation import as_history, check_k, check_positive


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

    def __init__(self, device: str = "cpu"):
        if isinstance(device, str) and device in backends.DEVICES and device not in self.devices:
            raise ValueError(f"device: {type(self).__name__} runs on {' or '.join(self.devices)} only "
                             f"(NumPy/SciPy code), got {device!r}")
        self.device = backends.check_device(device)
        self.item_ids: np.ndarray | None = None
        self.n_items: int = 0
        self.dtype = np.dtype(np.float32)

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
