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
        if g.size != p.size or not (p.flags.c_contiguous and s1.flags.c_contiguous and s2.flags.c_contiguous):
            raise ValueError("optimizer step: gradient or state does not match the parameter")
        self._kernel("optimizer_step")(p.data.ptr, g.data.ptr, s1.data.ptr, s2.data.ptr, p.size, l2_scale,
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
