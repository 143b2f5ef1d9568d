"""EASE (Steck, WWW 2019): a closed-form item-item linear autoencoder.

    G = XᵀX + λI,  P = G⁻¹,  B = −P / diag(P) (column j divided by P_jj),  B_jj = 0,
    scores = X·B.

Kernels: ``csrc/cpu/ease.cpp`` (Gram straight from CSR, LAPACK potrf + potri in
place, tiled post-processing) and ``csrc/cuda/ease.cu`` (Gram and
post-processing; cuSOLVER's potrf through CuPy and potri in place through
``backends/cuda.py``'s ctypes binding, since CuPy does not wrap it). On either
device the n x n weight buffer is the only large allocation (unless no potri is
found on the GPU: then potrs against an identity needs a second).
"""

from __future__ import annotations

import logging
import time

import numpy as np

from .._progress import check_verbose, report
from .._validation import canonical_csr, check_dtype, check_positive
from ..interactions import as_interactions
from ._shared import warn_if_explicit
from .base import Recommender


class EASE(Recommender):
    """Embarrassingly Shallow Autoencoder.

    Parameters
    ----------
    l2 : float
        The ridge penalty λ > 0 (Steck: 500 on ML-20M, 1000 on Netflix, 200 on MSD).
    dtype : {"float32", "float64"}
        Precision of the Gram matrix, its inverse and the weights.
    device : {"cpu", "cuda"}
    verbose : {0, 1, 2} or bool
        0/False (default): silent; 1/True or 2: the time of each stage on stderr.
        The stages are also DEBUG records, and the fit's total an INFO record, on the
        ``"autorec_fast"`` logger. (One LAPACK/cuSOLVER call does the work, so there is
        no bar to draw.)

    Attributes
    ----------
    weights : ndarray (n_items, n_items)
        B, with a zero diagonal (a CuPy array on ``device='cuda'``).
    item_ids : ndarray
        Original id of each item column.
    fit_info : dict
        Seconds per stage and the method used for the inverse.
    """

    name = "ease"

    def __init__(self, l2: float = 500.0, *, dtype="float32", device: str = "cpu", verbose: bool = False):
        super().__init__(device)
        self.l2 = check_positive(l2, "l2")
        self.dtype = check_dtype(dtype)
        self.verbose = check_verbose(verbose)
        self.weights = None
        self.fit_info: dict = {}

    def fit(self, data) -> "EASE":
        """Fit on interactions (anything ``autorec_fast.as_interactions`` accepts)."""
        inter = as_interactions(data)
        warn_if_explicit(inter, "EASE", "the Gram matrix is built from the rating values as given "
                                        "(EASE is defined on 0/1 data)")
        X = canonical_csr(inter.matrix, self.dtype, "data")
        n = X.shape[1]
        if X.nnz == 0:
            raise ValueError("data has no interactions")
        if n > np.iinfo(np.int32).max:
            raise ValueError(f"data has {n} items; LAPACK's 32-bit indices allow at most 2^31 - 1")
        t0 = time.perf_counter()
        weights, method = self._backend.ease_fit(X, self.l2, self._log)
        return self._set_weights(weights, method, t0, inter.item_ids,
                                 f"the largest interaction value is {float(np.abs(X.data).max()):.3g}")

    def fit_gram(self, gram, item_ids=None, *, copy: bool = True) -> "EASE":
        """Fit from a precomputed Gram matrix G = XᵀX (n_items x n_items).

        For Grams summed outside this process, e.g. over the shards of a data set
        (``autorec_fast.distributed.fit_ease``). Only the upper triangle (``j >= i``,
        diagonal included) is read. ``item_ids`` (default ``arange``) names the
        columns. With ``copy=False`` a C-contiguous ``gram`` of the model's dtype
        on the CPU is overwritten by the weights instead of copied (saves one
        n x n buffer).
        """
        if not hasattr(gram, "shape") or not hasattr(gram, "dtype"):
            gram = np.asarray(gram)
        if len(gram.shape) != 2 or gram.shape[0] != gram.shape[1] or gram.shape[0] == 0:
            raise ValueError(f"gram must be a non-empty square matrix, got shape {tuple(gram.shape)}")
        if np.dtype(gram.dtype).kind not in "biuf":
            raise TypeError(f"gram must be numeric, got dtype {gram.dtype}")
        n = gram.shape[0]
        if n > np.iinfo(np.int32).max:
            raise ValueError(f"gram has {n} items; LAPACK's 32-bit indices allow at most 2^31 - 1")
        item_ids = np.arange(n) if item_ids is None else np.asarray(item_ids)
        if item_ids.shape != (n,):
            raise ValueError(f"item_ids has shape {item_ids.shape} but gram has {n} items")
        in_place = (not copy and self.device == "cpu" and isinstance(gram, np.ndarray)
                    and gram.dtype == self.dtype and gram.flags.c_contiguous and gram.flags.writeable)
        self._backend.require_memory(0 if in_place else n * n * self.dtype.itemsize,
                                     f"EASE on {n:,} items in {self.dtype.name} (one {n:,} x {n:,} matrix)")
        G = gram if in_place else self._backend.xp.array(gram, dtype=self.dtype, order="C", copy=True)  # one copy
        if not np.isfinite(self._backend.squared_norm(G)):
            raise ValueError(f"gram holds NaN or inf values (or values beyond {self.dtype.name})")
        self._kept_history, self.user_ids = None, None  # nothing of a previous fit's users stays
        t0 = time.perf_counter()
        weights, method = self._backend.ease_from_gram(G, self.l2, self._log)
        return self._set_weights(weights, method, t0, item_ids, "the Gram matrix's entries are too large")

    def _set_weights(self, weights, method, t0, item_ids, scale) -> "EASE":
        """Keep the fitted weights after one pass over B (Σ B² in float64 is finite exactly
        when every weight is, for float32 weights): an overflow in XᵀX must not hand back
        NaN scores silently."""
        if not np.isfinite(self._backend.squared_norm(weights)):
            del weights
            raise FloatingPointError(
                f"EASE: the weights are not finite in {self.dtype.name}: XᵀX overflowed ({scale}); "
                f"scale the values down, binarise them, or use dtype='float64'")
        self.weights = weights
        secs = time.perf_counter() - t0
        report(self, f"fitted in {secs:.2f} s ({method})", self.verbose)
        self.fit_info = {"seconds": secs, "inverse": method}
        self.item_ids = np.asarray(item_ids)
        self.n_items = weights.shape[0]
        return self

    def _log(self, msg: str) -> None:
        """A stage of the fit (the backend reports them)."""
        report(self, msg, self.verbose, log=logging.DEBUG)

    # ------------------------------------------------------------------ scoring
    def _score_csr(self, X):
        return self._backend.sparse_matmul(X, self.weights)

    # ---------------------------------------------------------------- save/load
    def _state(self):
        w = self._backend.to_host(self.weights)
        return {"weights": w, "item_ids": self.item_ids}, {"l2": self.l2, "dtype": self.dtype.name}

    @classmethod
    def _from_state(cls, arrays, meta, device):
        model = cls(l2=meta["l2"], dtype=meta["dtype"], device=device)
        w = arrays["weights"]
        if w.ndim != 2 or w.shape[0] != w.shape[1] or w.dtype != model.dtype:
            raise ValueError("model file: 'weights' must be a square matrix of the stated dtype")
        model.item_ids = arrays["item_ids"]
        if model.item_ids.shape != (w.shape[0],):
            raise ValueError("model file: 'item_ids' does not match the weights")
        model.n_items = w.shape[0]
        model.weights = model._backend.asarray(w)
        return model
