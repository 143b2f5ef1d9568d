"""The CUDA backend: CuPy arrays on the current device, our kernels of ``_cuda``
(``csrc/cuda/<file>.cu``, the same stems as the CPU's ``csrc/cpu/<file>.cpp``)
on CuPy's current stream, and cuBLAS / cuSPARSE / cuSOLVER through CuPy.

Same methods as :class:`~autorec_fast.backends.cpu.CpuBackend`. Parameters and
optimizer state never leave the device; batches are sliced on the host (where
the seeded random draws happen, so both devices see the same draws) and each
batch's CSR is uploaded once; losses are summed on the device and read once
per epoch (:class:`DeviceLossMeter`).
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp

from .._memory import gib
from . import ADAM_BETA1, ADAM_BETA2, ADAM_EPS, _cuda
from ._device_csr import ResidentCSR, csr_rows, transpose_pattern
from .cpu import csr_pattern


class CudaBackend:
    """CuPy arrays; the CUDA kernels of ``_cuda``; cuBLAS / cuSPARSE through CuPy."""

    device = "cuda"

    def __init__(self, dtype):
        import cupy
        import cupyx.scipy.sparse

        self.xp = cupy
        self._csp = cupyx.scipy.sparse
        self.dtype = np.dtype(dtype)
        self._csr_cache = (None, None)  # (host CSR, its device copy): one upload per batch
        self._sq_norm = None  # the squared-norm reduction kernel, compiled on first use

    def _stream(self):
        return self.xp.cuda.get_current_stream().ptr

    # ---------------------------------------------------------------- arrays
    def asarray(self, a):
        """A device array: floating-point ones in the backend's dtype, others as they are."""
        a = self.xp.asarray(a)
        return a.astype(self.dtype, copy=False) if a.dtype.kind == "f" else a

    def to_host(self, a):
        return a.get()

    def squared_norm(self, x) -> float:
        """Σ x² in float64, one reduction over x without temporaries (EASE's n x n
        weights must not be copied: a float64 square of them would triple the memory)."""
        return float(self.sum_of_squares(x))

    def sum_of_squares(self, x):
        """Σ x² in float64 as a device scalar: no sync (a loss term added every batch
        and read once per epoch)."""
        if self._sq_norm is None:
            self._sq_norm = self.xp.ReductionKernel(
                "T x", "float64 y", "static_cast<double>(x) * static_cast<double>(x)", "a + b", "y = a",
                "0", "autorec_fast_squared_norm", reduce_type="double")
        return self._sq_norm(x)

    def require_memory(self, nbytes: int, what: str) -> None:
        """MemoryError naming ``what`` when ``nbytes`` exceed the device's free memory
        (what the driver reports free plus the free blocks of CuPy's pool)."""
        free = self.xp.cuda.runtime.memGetInfo()[0] + self.xp.get_default_memory_pool().free_bytes()
        if nbytes > free:
            raise MemoryError(f"{what} needs {gib(nbytes)} of GPU memory but only {gib(free)} is free")

    def wait(self) -> None:
        """Wait for the work queued on the current stream, polling, so that Ctrl-C
        still reaches the caller: a blocking device read (``.get()``) holds the
        signal until it returns, and a factorisation at 100k items takes seconds."""
        done = self.xp.cuda.get_current_stream().record()
        while not done.done:
            time.sleep(0.001)

    def scalar(self, x):
        return x.astype(np.float64)  # stays on the device: no sync per batch

    def loss_meter(self):
        return DeviceLossMeter(self.xp)

    def training_matrix(self, X: sp.csr_matrix):
        """The fit's training CSR, uploaded once when a batch is first sliced on the device
        (:class:`ResidentCSR`)."""
        return ResidentCSR(self.xp, X, self.dtype)

    def rows(self, X, rows):
        """The host CSR batch of ``rows`` (the models draw their random numbers on
        the host, so both devices see the same draws)."""
        return X.host[rows]

    # ---------------------------------------------------------------- dense
    def mm(self, a, b, out=None):
        return self.xp.matmul(a, b, out=out)

    def bias_activation(self, h, b, code):
        """In place (on a contiguous copy when h is not): h = act(h + b), b may be None."""
        xp = self.xp
        h = xp.ascontiguousarray(h, dtype=self.dtype)
        if b is not None:
            b = xp.ascontiguousarray(b, dtype=self.dtype)
        _cuda.bias_activation(h, b, code, self._stream())  # checks h 2-D and b of its columns
        return h

    def mul_activation_grad(self, d, h, code):
        d = self.xp.ascontiguousarray(d, dtype=self.dtype)
        h = self.xp.ascontiguousarray(h, dtype=self.dtype)
        _cuda.mul_activation_grad(d, h, code, self._stream())  # checks the shapes match
        return d

    def take(self, dense, rows, cols):
        xp = self.xp
        return dense[xp.asarray(rows), xp.asarray(cols)].get()

    # ---------------------------------------------------------------- optimizer
    def step(self, p, g, s1, s2, l2_scale, opt):
        # the binding checks p (in place: C-contiguous), and g, s1, s2 of its size (SGD /
        # AdaGrad keep fewer states: None)
        g = self.xp.ascontiguousarray(g, dtype=self.dtype)
        _cuda.optimizer_step(p, g, s1, s2, l2_scale, opt["optimizer"], opt["lr"], ADAM_BETA1, ADAM_BETA2,
                             ADAM_EPS, opt.get("momentum", 0.0), opt["step"], self._stream())

    # ---------------------------------------------------------------- sparse
    def csr(self, X):
        """A host CSR batch (or a device one, as is) as a cupyx CSR on the device;
        the last batch's upload is reused."""
        if self._csp.issparse(X):
            return X
        cached_host, cached_dev = self._csr_cache
        if cached_host is X:
            return cached_dev
        xp = self.xp
        index = np.int32 if X.nnz < 2**31 - 1 else np.int64
        dev = self._csp.csr_matrix((xp.asarray(X.data, dtype=self.dtype), xp.asarray(X.indices, dtype=index),
                                    xp.asarray(X.indptr, dtype=index)), shape=X.shape)
        self._csr_cache = (X, dev)
        return dev

    def issparse(self, X):
        return sp.issparse(X) or self._csp.issparse(X)

    def sparse_matmul(self, X, W):
        # cuSPARSE returns a column-major product: the kernels here want rows.
        return self.xp.ascontiguousarray(self.csr(X) @ W, dtype=self.dtype)

    def sparse_t_matmul(self, S, D):
        return self.csr(S).T @ D

    def column_sums(self, S):
        S = self.csr(S)
        return self.xp.ascontiguousarray(S.T @ self.xp.ones(S.shape[0], self.dtype), dtype=self.dtype)

    def sparse_input_step(self, X, d, W, s1, s2, l2_scale, opt, d_out=None, h_in=None):
        g = self.csr(X).T @ d  # dense: the optimizer touches every row
        if d_out is not None:
            g = g + self.csr(d_out).T @ h_in
        self.step(W, g, s1, s2, l2_scale, opt)

    def dense_input_grad(self, X, d, d_out, h_in):
        g = X.T @ d
        if d_out is not None:
            g += d_out.T @ h_in
        return g

    def sampled_output(self, h_in, W_rows, b, X, code):
        xp = self.xp
        rows = xp.asarray(np.repeat(np.arange(X.shape[0], dtype=np.int64), np.diff(X.indptr)))
        cols = xp.asarray(X.indices.astype(np.int64))
        o = (h_in[rows] * W_rows[cols]).sum(axis=1)
        return self.bias_activation(o[None, :], b[cols], code)[0]

    # ---------------------------------------------------------------- losses
    def nll_grad(self, logits, bias, indptr, indices, data, scale):
        xp = self.xp
        dev = [xp.asarray(np.asarray(indptr, np.int64)), xp.asarray(np.asarray(indices, np.int32)),
               xp.asarray(data, dtype=self.dtype)]
        loss = xp.zeros(1, np.float64)
        # in place on logits: the binding requires it C-contiguous (and checks every shape)
        _cuda.multinomial_nll_grad(logits, bias, *dev, scale, loss, self._stream())
        return loss[0]  # stays on the device: no sync per batch

    def logistic_loss_grad(self, Z, b, Y):
        xp = self.xp
        Z = self.bias_activation(Z, b, 0)
        rows = np.repeat(np.arange(Y.shape[0], dtype=np.int64), np.diff(Y.indptr))
        pos = xp.asarray(rows * Y.shape[1] + Y.indices)
        return logistic_loss_grad_xp(xp, Z, pos, xp.asarray(Y.data, dtype=self.dtype))

    def masked_mse_grad(self, out, target, code):
        xp = self.xp
        out = xp.ascontiguousarray(out, dtype=self.dtype)
        target = xp.ascontiguousarray(target, dtype=self.dtype)
        d_out = xp.empty_like(out)
        count = xp.empty(1, np.uint64)
        loss = xp.empty(1, np.float64)
        _cuda.masked_mse_grad(out, target, code, d_out, count, loss, self._stream())  # checks the shapes
        return d_out, loss[0]  # stays on the device

    def sparse_mse_grad(self, out, X, Xd, code):
        xp = self.xp
        Xd = self.csr(X)
        if out.ndim == 1:
            o = out
        else:
            rows = np.repeat(np.arange(X.shape[0], dtype=np.int64), np.diff(X.indptr))
            o = xp.take(out, xp.asarray(rows * X.shape[1] + X.indices.astype(np.int64)))
        err = o - Xd.data
        count = max(X.nnz, 1)
        loss = (xp.dot(err, err) / count).astype(np.float64)  # stays on the device
        d_data = self.mul_activation_grad((2.0 / count) * err, o, code)
        d_out = self._csp.csr_matrix((d_data, Xd.indices, Xd.indptr), shape=X.shape)
        return d_out, loss

    # ---------------------------------------------------------------- AutoRec kernel
    def autorec_batch(self, X, Y, params, state1, state2, hidden, output, l2_scale, optimizer, lr,
                      momentum, step, loss_kind, rows=None):
        """One AutoRec-kernel batch (``csrc/cuda/sparse_layer.cu``). With ``rows`` (X and Y
        training matrices from :meth:`training_matrix`) the batch is sliced and its
        transposed patterns built on the device: one small upload (the row ids) per
        batch, and nothing read back. Otherwise X and Y are host CSR batches, uploaded.
        The loss accumulates in a device scalar, returned without a sync."""
        xp = self.xp
        if rows is not None:
            d_rows = xp.asarray(rows, dtype=np.int64)
            y = csr_rows(xp, Y.indptr, Y.indices, Y.data, d_rows, Y.count(rows))
            x = y if X is Y else csr_rows(xp, X.indptr, X.indices, X.data, d_rows, X.count(rows))
        else:
            x, y = (tuple(xp.asarray(a) for a in (*csr_pattern(M), M.data.astype(self.dtype, copy=False)))
                    for M in (X, Y))
        n_rows, k = x[0].shape[0] - 1, params[0].shape[1]
        # the binding checks these against params (n_in = Vt's rows, n_out = W's rows)
        xt = transpose_pattern(xp, x[0], x[1], X.shape[1])
        yt = transpose_pattern(xp, y[0], y[1], Y.shape[1])
        H = xp.empty((n_rows, k), self.dtype)
        dZ = xp.empty_like(H)
        D = xp.empty(y[1].shape[0], self.dtype)  # one per target entry (size 0: a null pointer is fine)
        loss = xp.zeros(1, np.float64)
        as_tuple = lambda arrs: None if arrs is None else tuple(arrs)  # noqa: E731
        _cuda.autorec_batch(
            tuple(x), tuple(y), tuple(xt), tuple(yt), tuple(params), None, as_tuple(state1), as_tuple(state2),
            hidden, output, l2_scale, optimizer, lr, ADAM_BETA1, ADAM_BETA2, ADAM_EPS, momentum, step, H, dZ, D,
            loss, self._stream(), loss_kind)
        return loss[0]

    def _autorec_forward(self, X, params, hidden, output, rows, cols):
        xp = self.xp
        k = params[0].shape[1]
        indptr, indices = (xp.asarray(a) for a in csr_pattern(X))
        data = xp.asarray(X.data.astype(self.dtype, copy=False))
        rows, cols = (xp.asarray(a, dtype=np.int64) for a in (rows, cols))
        H = xp.empty((X.shape[0], k), self.dtype)
        out = xp.empty(rows.size, self.dtype)  # size 0: a null pointer is fine
        _cuda.autorec_predict(indptr, indices, data, tuple(params), hidden, output, rows, cols, H, out,
                              self._stream())
        return H, out

    def autorec_encode(self, X, params, hidden):
        """H = g(X·Vt + mu) for the rows of a host CSR X (a CuPy array)."""
        empty = np.zeros(0, np.int64)
        return self._autorec_forward(X, params, hidden, 0, empty, empty)[0]

    def autorec_predict(self, X, params, hidden, output, rows, cols):
        # index ranges: checked here on the host (the binding cannot read device memory)
        if rows.size and (rows.min() < 0 or rows.max() >= X.shape[0]):
            raise ValueError("example index out of range")
        if cols.size and (cols.min() < 0 or cols.max() >= params[2].shape[0]):
            raise ValueError("output index out of range")
        return self._autorec_forward(X, params, hidden, output, rows, cols)[1].get()

    # ---------------------------------------------------------------- GRU
    def gru_forward(self, Xi, batch_sizes, W_hh, b_hh):
        """The GRU over packed steps: one cuBLAS product and one gate kernel per step."""
        xp = self.xp
        Xi = xp.ascontiguousarray(Xi, dtype=self.dtype)  # the kernels take row-major arrays
        G = W_hh.shape[0]
        rows = Xi.shape[0]
        H = xp.empty((rows, G), self.dtype)
        cache = xp.empty((rows, 4 * G), self.dtype)
        gh = xp.empty((int(batch_sizes[0]) if len(batch_sizes) else 0, 3 * G), self.dtype)
        off = 0
        prev = None
        stream = self._stream()
        for B in batch_sizes.tolist():  # each step's B rows (row slices: contiguous views)
            if prev is not None:
                xp.matmul(H[prev : prev + B], W_hh, out=gh[:B])
            _cuda.gru_gates_forward(Xi[off : off + B], None if prev is None else gh[:B], b_hh,
                                    None if prev is None else H[prev : prev + B], H[off : off + B],
                                    cache[off : off + B], stream)
            prev, off = off, off + B
        return H, cache

    def gru_backward(self, dH, H, cache, batch_sizes, W_hh, gW_hh, gb_hh):
        xp = self.xp
        dH = xp.ascontiguousarray(dH, dtype=self.dtype)
        G = W_hh.shape[0]
        rows = dH.shape[0]
        bs = batch_sizes.tolist()
        offsets = np.concatenate([[0], np.cumsum(bs)]).astype(np.int64)
        dXi = xp.empty((rows, 3 * G), self.dtype)
        dGh = xp.empty((rows, 3 * G), self.dtype)
        max_b = bs[0] if bs else 0
        d_next = xp.zeros((max_b, G), self.dtype)
        d_cur = xp.empty((max_b, G), self.dtype)
        stream = self._stream()
        for t in range(len(bs) - 1, -1, -1):  # each step's B rows (row slices: contiguous views)
            B, off = bs[t], int(offsets[t])
            B_next = bs[t + 1] if t + 1 < len(bs) else 0  # the rows of d_next the next step wrote
            prev = int(offsets[t - 1]) if t > 0 else None
            _cuda.gru_gates_backward(dH[off : off + B], d_next[:B_next], cache[off : off + B],
                                     None if prev is None else H[prev : prev + B], dXi[off : off + B],
                                     dGh[off : off + B], d_cur[:B], stream)
            if prev is not None:
                d_cur[:B] += dGh[off : off + B] @ W_hh.T
            d_next, d_cur = d_cur, d_next
        first = bs[0] if bs else 0
        if rows > first:  # rows with a predecessor: h_{t-1} gathered, aligned with step t
            step_of = np.repeat(np.arange(1, len(bs)), bs[1:])
            prev_rows = offsets[step_of - 1] + np.arange(first, rows) - offsets[step_of]
            h_prev = H[xp.asarray(prev_rows)]
            gW_hh += h_prev.T @ dGh[first:]
        gb_hh += dGh.sum(axis=0)
        return dXi

    def scatter_add_rows(self, idx, src, out):
        self.xp.add.at(out, self.xp.asarray(idx), src)

    # ---------------------------------------------------------------- EASE
    def ease_fit(self, X, l2, log):
        """EASE's weights on the GPU: Gram and post-processing in ``csrc/cuda/ease.cu``,
        the Cholesky factorisation and inverse through cuSOLVER. Returns (B, method)."""
        import cupy as cp

        n = X.shape[1]
        self.require_memory(n * n * self.dtype.itemsize + X.nnz * (4 + self.dtype.itemsize) + 8 * (X.shape[0] + 1),
                            f"EASE on {n:,} items in {self.dtype.name} (one {n:,} x {n:,} matrix)")
        indptr, indices = (cp.asarray(a) for a in csr_pattern(X))
        data = cp.asarray(X.data, dtype=self.dtype)
        G = cp.zeros((n, n), dtype=self.dtype)
        _cuda.gram_upper(indptr, indices, data, G, self._stream())
        del indptr, indices, data
        return self.ease_from_gram(G, l2, log)

    def ease_from_gram(self, G, l2, log):
        """EASE's weights in place from ``G``, the upper triangle of XᵀX (n x n, this
        backend's dtype; a host array is copied to the device, a device array is
        overwritten): G + λI, cuSOLVER potrf + potri, then B = −P / diag(P) with a
        zero diagonal (``csrc/cuda/ease.cu``). Returns (B, method).

        CuPy wraps potrf but not potri, which is called from the libcusolver CuPy
        loaded (:func:`cusolver_potri`). Where that library exports no potri the
        inverse is potrs against an identity: a second n x n matrix and about 3x
        the work, named in the method."""
        import cupy as cp
        from cupy.cuda import device as cp_device
        from cupy_backends.cuda.libs import cublas, cusolver

        n = G.shape[0]
        prefix = "s" if self.dtype == np.float32 else "d"
        stream = self._stream()
        if not isinstance(G, cp.ndarray):
            G = cp.asarray(G, dtype=self.dtype)
        G.ravel()[:: n + 1] += self.dtype.type(l2)
        # Row-major upper triangle == column-major lower: cuSOLVER's LOWER fill mode.
        lower = cublas.CUBLAS_FILL_MODE_LOWER
        handle = cp_device.get_cusolver_handle()
        cusolver.setStream(handle, stream)
        info = cp.zeros(1, dtype=np.int32)
        lwork = getattr(cusolver, f"{prefix}potrf_bufferSize")(handle, lower, n, G.data.ptr, n)
        work = cp.empty(max(lwork, 1), dtype=self.dtype)
        getattr(cusolver, f"{prefix}potrf")(handle, lower, n, G.data.ptr, n, work.data.ptr, lwork,
                                            info.data.ptr)
        del work
        self.wait()  # interruptible (the read below would block)
        status = int(info.get()[0])
        if status != 0:
            raise ValueError(
                f"argument 'l2': X^T X + l2*I is not numerically positive definite (leading minor "
                f"{status} of {n}); increase l2 or use dtype='float64'")
        potri = cusolver_potri(prefix)
        if potri is not None:
            # Inverse in place from the factor: no second n x n buffer.
            buffer_size, run_potri, source = potri
            lwork = buffer_size(handle, lower, n, G.data.ptr, n)
            work = cp.empty(max(lwork, 1), dtype=self.dtype)
            run_potri(handle, lower, n, G.data.ptr, n, work.data.ptr, lwork, info.data.ptr)
            del work
            _cuda.symmetrize_from_upper(G, stream)
            P, method = G, f"cusolver potrf+potri ({source})"
        else:
            self.require_memory(n * n * self.dtype.itemsize,
                                f"EASE's inverse on {n:,} items without potri (a second {n:,} x {n:,} matrix)")
            P = cp.eye(n, dtype=self.dtype)
            getattr(cusolver, f"{prefix}potrs")(handle, lower, n, n, G.data.ptr, n, P.data.ptr, n,
                                                info.data.ptr)
            del G
            method = "cusolver potrf+potrs (identity right-hand side: no potri found)"
        self.wait()
        status = int(info.get()[0])
        if status != 0:
            raise RuntimeError(f"cuSOLVER Cholesky inverse failed (info {status})")
        diag = cp.empty(n, dtype=self.dtype)
        _cuda.ease_weights_from_inverse(P, diag, stream)
        self.wait()
        return P, method

    # ---------------------------------------------------------------- ranking
    def topk(self, scores, exclude, k):
        xp = self.xp
        # The kernel writes row-major; a sparse x dense product can come back column-major.
        scores = xp.ascontiguousarray(scores)
        if exclude is not None and exclude.nnz:
            indptr, indices = (xp.asarray(a) for a in csr_pattern(exclude))
            _cuda.fill_pattern(scores, indptr, indices, -math.inf, self._stream())
        part = xp.argpartition(-scores, k - 1, axis=1)[:, :k]
        vals = xp.take_along_axis(scores, part, axis=1)
        order = xp.argsort(-vals, axis=1, kind="stable")
        top = xp.take_along_axis(part, order, axis=1).get().astype(np.int64)
        val = xp.take_along_axis(vals, order, axis=1).get()
        top[~np.isfinite(val) & (val < 0)] = -1  # excluded items padding, as on the CPU
        return top, val


_POTRI = {}  # prefix -> (buffer_size, potri, source) or None, found once per process


def cusolver_potri(prefix):
    """``(buffer_size, potri, source)``: cuSOLVER's ``cusolverDn{S,D}potri`` and its
    buffer size with CuPy's argument order (handle, uplo, n, A, lda[, work, lwork,
    info]), or None. CuPy (14) wraps potrf and potrs but not potri, so it is called
    through ctypes in the libcusolver CuPy has already loaded (never loaded here:
    the handle must be that library's; see :func:`_potri_through_ctypes`)."""
    if prefix in _POTRI:
        return _POTRI[prefix]
    from cupy_backends.cuda.libs import cusolver

    if hasattr(cusolver, f"{prefix}potri"):  # a CuPy that wraps it
        found = (getattr(cusolver, f"{prefix}potri_bufferSize"), getattr(cusolver, f"{prefix}potri"), "CuPy")
    else:
        found = _potri_through_ctypes(prefix, getattr(cusolver, "__file__", None))
    _POTRI[prefix] = found
    return found


def _potri_through_ctypes(prefix, wrapper_file=None):
    """Found through CuPy's own cuSOLVER wrapper first (``wrapper_file``, the extension
    module: a handle to it searches the libraries it was linked against, so the
    symbol is that library's whatever else the process holds), then by soname."""
    import ctypes
    import os

    if not hasattr(os, "RTLD_NOLOAD"):
        return None
    mode = os.RTLD_NOLOAD | os.RTLD_GLOBAL  # only libraries already in the process
    places = ([(wrapper_file, "CuPy's cuSOLVER wrapper")] if wrapper_file else []) + [
        (soname, soname) for soname in ("libcusolver.so.12", "libcusolver.so.11", "libcusolver.so")]
    for path, label in places:
        try:
            found = _wrap_potri(ctypes.CDLL(path, mode=mode), label, prefix)
        except OSError:
            continue
        if found is not None:
            return found
    return None


def _wrap_potri(lib, where, prefix):
    import ctypes

    name = f"cusolverDn{prefix.upper()}potri"
    size_fn, potri_fn = getattr(lib, f"{name}_bufferSize", None), getattr(lib, name, None)
    if size_fn is None or potri_fn is None:
        return None
    p, i = ctypes.c_void_p, ctypes.c_int
    size_fn.argtypes, size_fn.restype = [p, i, i, p, i, ctypes.POINTER(i)], i
    potri_fn.argtypes, potri_fn.restype = [p, i, i, p, i, p, i, p], i

    def buffer_size(handle, uplo, n, a, lda):
        lwork = i(0)
        _check_cusolver(size_fn(handle, uplo, n, a, lda, ctypes.byref(lwork)), f"{name}_bufferSize")
        return lwork.value

    def potri(handle, uplo, n, a, lda, work, lwork, info):
        _check_cusolver(potri_fn(handle, uplo, n, a, lda, work, lwork, info), name)

    return buffer_size, potri, f"{where} through ctypes"


def _check_cusolver(status, name):
    if status != 0:  # CUSOLVER_STATUS_SUCCESS
        raise RuntimeError(f"{name} returned cuSOLVER status {status}")


def logistic_loss_grad_xp(xp, Z, pos, y):
    """Σ softplus(z) − Σ y·z and σ(z) − y for the pre-activations Z (every entry a target;
    y at the flat positions ``pos``, 0 elsewhere) in NumPy/CuPy operations: the GPU's
    form of the CPU's fused ``_cpu.logistic_loss_grad`` (tests run it on NumPy)."""
    yz = xp.dot(Z.ravel()[pos], y).astype(np.float64)
    t = xp.exp(-xp.abs(Z))
    loss = xp.maximum(Z, 0).sum(dtype=np.float64) + xp.log1p(t).sum(dtype=np.float64) - yz  # on the device
    D = xp.where(Z >= 0, Z.dtype.type(1), t)
    D /= 1 + t  # σ(z), without overflow for either sign
    D.ravel()[pos] -= y
    return loss, D


class DeviceLossMeter:
    """Sums batch losses, host floats and device scalars apart; one sync in ``value``."""

    def __init__(self, xp):
        self.xp = xp
        self.host = 0.0
        self.device = None

    def add(self, value) -> None:
        if isinstance(value, (float, int)):  # NumPy's float64 included
            self.host += value
        else:
            self.device = value.astype(np.float64) if self.device is None else self.device + value

    def value(self) -> float:
        return self.host + (0.0 if self.device is None else float(self.device))
