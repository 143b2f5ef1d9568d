"""What every model shares: scoring in batches, top-K recommendation, save/load plumbing."""

from __future__ import annotations

import numpy as np

from .. import _backend
from .._validation import as_history, check_dtype, check_k, check_positive


class Recommender:
    """Base class of the fitted models.

    Subclasses set ``name`` (the registry key), implement ``_score_csr`` (dense
    scores for a canonical CSR batch of histories) and ``_state`` / ``_from_state``
    (plain arrays plus JSON-able metadata) for saving.
    """

    name: str = ""
    #: models that predict ratings (AutoRec, DeepRec) set this
    predicts_ratings: bool = False

    def __init__(self, device: str = "cpu"):
        self.device = _backend.check_device(device)
        self.item_ids: np.ndarray | None = None
        self.n_items: int = 0
        self.dtype = np.dtype(np.float32)

    # ------------------------------------------------------- neural models' options
    def _set_training_options(self, *, epochs, batch_size, lr, l2, patience, seed, dtype, verbose):
        """Check and set the options every gradient-trained model shares."""
        self.epochs = check_positive(epochs, "epochs", integer=True)
        self.batch_size = check_positive(batch_size, "batch_size", integer=True)
        self.lr = check_positive(lr, "lr")
        self.l2 = check_positive(l2, "l2", allow_zero=True)
        self.patience = None if patience is None else check_positive(patience, "patience", integer=True)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed must be an integer, got {seed!r}")
        self.seed = int(seed)
        self.dtype = check_dtype(dtype)
        self.verbose = bool(verbose)
        self.history: list[dict] = []
        self.best_epoch = 0

    def _end_epoch(self, entry: dict, tracker: "BestEpochTracker", score, state_copy) -> bool:
        """Record a finished epoch: ``score`` (the validation metric, higher is
        better; None without validation) goes to the best-epoch tracker, the
        entry to ``history`` and the log. Returns True when patience says stop."""
        stop = score is not None and tracker.update(entry["epoch"], score, state_copy)
        self.history.append(entry)
        self._log_epoch(entry)
        return stop

    def _log_epoch(self, entry: dict) -> None:
        """One line of progress per epoch when verbose."""
        if self.verbose:
            print(f"[autorec_fast] {type(self).__name__} " + "  ".join(
                f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in entry.items()),
                flush=True)

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
        if X.shape[0] <= batch_size:
            return self._score_csr(X)
        xp = self._array_module()
        return xp.concatenate(
            [self._score_csr(X[s : s + batch_size]) for s in range(0, X.shape[0], batch_size)]
        )

    def _array_module(self):
        if self.device == "cuda":
            import cupy

            return cupy
        return np

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


class BestEpochTracker:
    """Validation bookkeeping: the best metric (higher is better: pass -RMSE), its
    epoch and a copy of the parameters, and when patience says stop."""

    def __init__(self, patience):
        self.patience = patience
        self.best = -np.inf
        self.best_epoch = 0
        self.best_state = None
        self.since_best = 0

    def update(self, epoch, value, state_copy_fn) -> bool:
        """Record an epoch's metric; returns True when training should stop."""
        if value > self.best:
            self.best, self.best_epoch, self.since_best = value, epoch, 0
            self.best_state = state_copy_fn()
        else:
            self.since_best += 1
        return self.patience is not None and self.since_best >= self.patience


def squared_norm(x) -> float:
    """Σ x² in float64 (NumPy or CuPy array). On the host one pass in C++:
    ``np.square(x).sum()`` allocates a parameter-sized temporary every epoch
    (page faults: ~10 ms per AutoRec epoch on ML-1M), a NumPy loop over pieces
    took 3 ms per W, and ``x @ x`` would wake NumPy's OpenBLAS threads, which
    then spin on the cores the next batches' OpenMP kernels need (measured:
    +40 % on the following AutoRec epoch)."""
    if not isinstance(x, np.ndarray):  # CuPy: one device reduction
        return float((x.reshape(-1).astype(np.float64) ** 2).sum())
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    return float(_backend._cpu.squared_norm(np.ascontiguousarray(x)))
