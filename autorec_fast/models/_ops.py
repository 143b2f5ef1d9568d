"""What every neural trainer's backend object shares.

A trainer keeps its heavy operations behind one object, ``_CpuOps`` or
``_CudaOps`` (a subclass of :class:`CpuOps` / :class:`CudaOps` in the model's
module), so that one training loop serves both devices: ``xp`` is NumPy or
CuPy, and the methods below wrap our compiled kernels (``_cpu`` on host
arrays, ``_cuda`` on the raw device pointers of CuPy arrays, on CuPy's
current stream).
"""

from __future__ import annotations

import numpy as np

from .. import _backend


class CpuOps:
    """Host arrays; the C++ kernels of ``_cpu`` and NumPy."""

    xp = np

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)

    def asarray(self, a):
        return a

    def host(self, a):
        return a

    def mm(self, a, b, out=None):
        """a @ b through SciPy's OpenBLAS (``_cpu.gemm``), the pool our import
        configured (see ``OPENBLAS_THREAD_TIMEOUT`` in autorec_fast/__init__.py):
        NumPy's own OpenBLAS, if loaded before us, would keep spinning idle
        workers on the cores our OpenMP kernels need after every product
        (measured: DeepRec epochs 1.4x slower when NumPy was imported first)."""
        a_t, a_c = (False, a) if a.flags.c_contiguous else (True, a.T)
        b_t, b_c = (False, b) if b.flags.c_contiguous else (True, b.T)
        if not a_c.flags.c_contiguous:
            a_t, a_c = False, np.ascontiguousarray(a)
        if not b_c.flags.c_contiguous:
            b_t, b_c = False, np.ascontiguousarray(b)
        if out is None:
            out = np.empty((a.shape[0], b.shape[1]), self.dtype)
        _backend._cpu.gemm(a_c, a_t, b_c, b_t, out)
        return out

    def step(self, p, g, s1, s2, l2_scale, opt):
        """In place on parameter ``p``: gradient ``g`` + l2_scale·p, then the step
        ``opt`` (keys optimizer, lr, step and optionally momentum) with states s1, s2."""
        _backend._cpu.optimizer_step(p, np.ascontiguousarray(g, dtype=self.dtype), s1, s2, l2_scale, **opt)

    def nll_grad(self, logits, bias, indptr, indices, data, scale):
        """In place: logits (+ bias) -> scale · d/dlogits of −Σ x log softmax for
        the CSR rows x; returns scale · the loss (csrc/cpu/multinomial.cpp)."""
        return _backend._cpu.multinomial_nll_grad(logits, bias, indptr, indices, data, scale)

    def csr(self, X):
        """A host CSR batch as the sparse products here take it."""
        return X

    def sparse_matmul(self, X, W):
        """X @ W for a host CSR batch X (row-parallel C++ kernel)."""
        out = np.empty((X.shape[0], W.shape[1]), self.dtype)
        _backend._cpu.csr_matmul_dense(X.indptr, X.indices, X.data, W, out)
        return out

    def sparse_input_step(self, X, d, W, s1, s2, l2_scale, opt):
        """The step of an input layer W from its gradient Xᵀ·d (+ l2_scale·W) without
        forming it densely; every row of W is stepped, as a dense optimizer would."""
        _backend._cpu.sparse_input_grad_step(X.indptr, X.indices, X.data, np.ascontiguousarray(d),
                                             W, None, s1, s2, l2_scale, **opt)

    def bias_activation(self, h, b, code):
        """In place: h = act(h + b) (``b`` may be None)."""
        _backend._cpu.bias_activation(h, b, code)
        return h

    def mul_activation_grad(self, d, h, code):
        """In place: d *= act'(·), from the activation's output h."""
        _backend._cpu.mul_activation_grad(d, h, code)
        return d


class CudaOps:
    """CuPy arrays; the CUDA kernels of ``_cuda`` and cuBLAS / cuSPARSE through CuPy."""

    def __init__(self, dtype):
        import cupy

        self.xp = cupy
        self.dtype = np.dtype(dtype)
        self.sfx = "f32" if self.dtype == np.float32 else "f64"
        self._loss = cupy.zeros(1, np.float64)

    def _kernel(self, name):
        return getattr(_backend._cuda, f"{name}_{self.sfx}")

    def _stream(self):
        return self.xp.cuda.get_current_stream().ptr

    def asarray(self, a):
        return self.xp.asarray(a)

    def host(self, a):
        return a.get()

    def mm(self, a, b, out=None):
        return self.xp.matmul(a, b, out=out)

    def step(self, p, g, s1, s2, l2_scale, opt):
        g = self.xp.ascontiguousarray(g, dtype=self.dtype)
        states = [s for s in (s1, s2) if s is not None]  # SGD / AdaGrad keep fewer states
        if g.size != p.size or not all(a.flags.c_contiguous and a.size == p.size for a in (p, *states)):
            raise ValueError("optimizer step: gradient or state does not match the parameter")
        ptr = lambda a: 0 if a is None else a.data.ptr  # noqa: E731
        self._kernel("optimizer_step")(p.data.ptr, g.data.ptr, ptr(s1), ptr(s2), p.size, l2_scale,
                                       opt["optimizer"], opt["lr"], 0.9, 0.999, 1e-8,
                                       opt.get("momentum", 0.0), opt["step"], self._stream())

    def nll_grad(self, logits, bias, indptr, indices, data, scale):
        xp = self.xp
        if not logits.flags.c_contiguous:
            raise ValueError("nll_grad: logits must be C-contiguous (the kernel works in place)")
        dev = [xp.asarray(np.asarray(indptr, np.int64)), xp.asarray(np.asarray(indices, np.int32)),
               xp.asarray(data, dtype=self.dtype)]
        self._loss.fill(0)
        self._kernel("multinomial_nll_grad")(
            logits.data.ptr, bias.data.ptr, dev[0].data.ptr, dev[1].data.ptr, dev[2].data.ptr,
            logits.shape[0], logits.shape[1], scale, self._loss.data.ptr, self._stream())
        return float(self._loss.get()[0])

    def csr(self, X):
        """A host CSR batch (or a device one, as is) as a cupyx CSR on the device."""
        import cupyx.scipy.sparse as csp

        if csp.issparse(X):
            return X
        xp = self.xp
        index = np.int32 if X.nnz < 2**31 - 1 else np.int64
        return csp.csr_matrix((xp.asarray(X.data, dtype=self.dtype), xp.asarray(X.indices, dtype=index),
                               xp.asarray(X.indptr, dtype=index)), shape=X.shape)

    def sparse_matmul(self, X, W):
        # cuSPARSE returns a column-major product: the kernels here want rows.
        return self.xp.ascontiguousarray(self.csr(X) @ W, dtype=self.dtype)

    def sparse_input_step(self, X, d, W, s1, s2, l2_scale, opt):
        g = self.xp.ascontiguousarray(self.csr(X).T @ d)  # dense: Adam touches every row
        self.step(W, g, s1, s2, l2_scale, opt)

    def bias_activation(self, h, b, code):
        h = self.xp.ascontiguousarray(h, dtype=self.dtype)
        b = self.xp.ascontiguousarray(b, dtype=self.dtype)
        if h.ndim != 2 or b.shape != (h.shape[1],):
            raise ValueError("bias_activation: shapes do not match")
        self._kernel("bias_activation")(h.data.ptr, h.shape[0], h.shape[1], b.data.ptr, code, self._stream())
        return h

    def mul_activation_grad(self, d, h, code):
        d = self.xp.ascontiguousarray(d, dtype=self.dtype)
        h = self.xp.ascontiguousarray(h, dtype=self.dtype)
        if d.shape != h.shape:
            raise ValueError("mul_activation_grad: shapes do not match")
        self._kernel("mul_activation_grad")(d.data.ptr, h.data.ptr, d.size, code, self._stream())
        return d
