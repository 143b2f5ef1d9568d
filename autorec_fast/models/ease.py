"""EASE (Steck, WWW 2019): a closed-form item-item linear autoencoder.

    G = XᵀX + λI,  P = G⁻¹,  B = −P / diag(P) (column j divided by P_jj),  B_jj = 0,
    scores = X·B.

Kernels: ``csrc/cpu/ease.cpp`` (Gram straight from CSR, LAPACK potrf + potri in
place, tiled post-processing) and ``csrc/cuda/ease.cu`` (Gram and
post-processing; the Cholesky factorisation and solve go through cuSOLVER via
CuPy). On the CPU the n x n weight buffer is the only large allocation.
"""

from __future__ import annotations

import time

import numpy as np

from .. import _backend
from .._memory import gib, require
from .._validation import canonical_csr, check_dtype, check_positive
from ..interactions import as_interactions
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
    verbose : bool
        Print the time of each stage.

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
        self.verbose = bool(verbose)
        self.weights = None
        self.fit_info: dict = {}

    def fit(self, data) -> "EASE":
        """Fit on interactions (anything ``autorec_fast.as_interactions`` accepts)."""
        inter = as_interactions(data)
        X = canonical_csr(inter.matrix, self.dtype, "data")
        n = X.shape[1]
        if X.nnz == 0:
            raise ValueError("data has no interactions")
        if n > np.iinfo(np.int32).max:
            raise ValueError(f"data has {n} items; LAPACK's 32-bit indices allow at most 2^31 - 1")
        if self.device == "cuda":
            self._fit_cuda(X)
        else:
            self._fit_cpu(X)
        self.item_ids = np.asarray(inter.item_ids)
        self.n_items = n
        return self

    def _log(self, msg: str) -> None:
        if self.verbose:
            print(f"[autorec_fast] EASE: {msg}", flush=True)

    def _fit_cpu(self, X) -> None:
        n = X.shape[1]
        itemsize = self.dtype.itemsize
        require(n * n * itemsize + 2 * X.nnz * (4 + itemsize) + 16 * n,
                f"EASE on {n:,} items in {self.dtype.name} (one {n:,} x {n:,} matrix, "
                f"{gib(n * n * itemsize)})")
        self._log(f"{X.shape[0]:,} users x {n:,} items, {X.nnz:,} interactions, "
                  f"n x n buffer {gib(n * n * itemsize)}")
        t0 = time.perf_counter()
        B = np.zeros((n, n), dtype=self.dtype)  # calloc: pages are zeroed lazily
        _backend._cpu.ease_fit(X.indptr, X.indices, X.data, self.l2, B)
        secs = time.perf_counter() - t0
        self._log(f"fitted in {secs:.2f} s")
        self.fit_info = {"seconds": secs, "inverse": "lapack potrf+potri"}
        self.weights = B

    def _fit_cuda(self, X) -> None:
        import cupy as cp
        from cupy.cuda import device as cp_device
        from cupy_backends.cuda.libs import cublas, cusolver

        cu = _backend._cuda
        n = X.shape[1]
        sfx = "f32" if self.dtype == np.float32 else "f64"
        prefix = "s" if sfx == "f32" else "d"
        stream = cp.cuda.get_current_stream().ptr
        t0 = time.perf_counter()
        # The kernel reads int64 row pointers and int32 columns; SciPy may hold either width.
        indptr = cp.asarray(X.indptr, dtype=cp.int64)
        indices = cp.asarray(X.indices, dtype=cp.int32)
        data = cp.asarray(X.data)
        G = cp.zeros((n, n), dtype=self.dtype)
        getattr(cu, f"gram_upper_{sfx}")(indptr.data.ptr, indices.data.ptr, data.data.ptr,
                                         X.shape[0], n, G.data.ptr, stream)
        del indptr, indices, data
        G.ravel()[:: n + 1] += self.dtype.type(self.l2)
        # Row-major upper triangle == column-major lower: cuSOLVER's LOWER fill mode.
        lower = cublas.CUBLAS_FILL_MODE_LOWER
        handle = cp_device.get_cusolver_handle()
        info = cp.zeros(1, dtype=np.int32)
        lwork = getattr(cusolver, f"{prefix}potrf_bufferSize")(handle, lower, n, G.data.ptr, n)
        work = cp.empty(max(lwork, 1), dtype=self.dtype)
        getattr(cusolver, f"{prefix}potrf")(handle, lower, n, G.data.ptr, n, work.data.ptr, lwork,
                                            info.data.ptr)
        del work
        status = int(info.get()[0])
        if status != 0:
            raise ValueError(
                f"argument 'l2': X^T X + l2*I is not numerically positive definite (leading minor "
                f"{status} of {n}); increase l2 or use dtype='float64'")
        if hasattr(cusolver, f"{prefix}potri"):
            # Inverse in place from the factor: no second n x n buffer.
            lwork = getattr(cusolver, f"{prefix}potri_bufferSize")(handle, lower, n, G.data.ptr, n)
            work = cp.empty(max(lwork, 1), dtype=self.dtype)
            getattr(cusolver, f"{prefix}potri")(handle, lower, n, G.data.ptr, n, work.data.ptr,
                                                lwork, info.data.ptr)
            del work
            getattr(cu, f"symmetrize_from_upper_{sfx}")(G.data.ptr, n, stream)
            P, method = G, "cusolver potrf+potri"
        else:
            # This CuPy does not wrap potri: solve G P = I with the factor (potrs),
            # which needs a second n x n buffer on the device.
            P = cp.eye(n, dtype=self.dtype)
            getattr(cusolver, f"{prefix}potrs")(handle, lower, n, n, G.data.ptr, n, P.data.ptr, n,
                                                info.data.ptr)
            del G
            method = "cusolver potrf+potrs (identity right-hand side)"
        status = int(info.get()[0])
        if status != 0:
            raise RuntimeError(f"cuSOLVER Cholesky inverse failed (info {status})")
        diag = cp.empty(n, dtype=self.dtype)
        getattr(cu, f"ease_weights_from_inverse_{sfx}")(P.data.ptr, n, diag.data.ptr, stream)
        cp.cuda.get_current_stream().synchronize()
        secs = time.perf_counter() - t0
        self._log(f"fitted on the GPU in {secs:.2f} s ({method})")
        self.fit_info = {"seconds": secs, "inverse": method}
        self.weights = P

    # ------------------------------------------------------------------ scoring
    def _score_csr(self, X):
        n_rows = X.shape[0]
        if self.device == "cuda":
            import cupyx.scipy.sparse as csp

            return csp.csr_matrix(X) @ self.weights
        out = np.empty((n_rows, self.n_items), dtype=self.dtype)
        _backend._cpu.csr_matmul_dense(X.indptr, X.indices, X.data, self.weights, out)
        return out

    # ---------------------------------------------------------------- save/load
    def _state(self):
        w = self.weights
        if self.device == "cuda":
            w = w.get()
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
        if device == "cuda":
            import cupy as cp

            w = cp.asarray(w)
        model.weights = w
        return model
