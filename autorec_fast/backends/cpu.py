"""The CPU backend: host NumPy arrays, the C++/OpenMP kernels of ``_cpu`` and
BLAS/LAPACK through SciPy's OpenBLAS.

Each method names the kernel it runs (``csrc/cpu/<file>``); the CUDA backend
(``cuda.py``) has the same methods over CuPy arrays. Host-only preprocessing
that both devices share (negative sampling, transposed patterns, ranking
metrics over host top-k lists) lives here as module functions.
"""

from __future__ import annotations

import threading

import numpy as np
import scipy.sparse as sp

from .._memory import gib, require
from . import _cpu

_SELU_L, _SELU_A = 1.0507009873554805, 1.6732632423543772

# The activation's derivative from its output h, for the few observed entries of
# DeepRec's sparse pass (dense arrays go through the C++ element-wise kernels).
_ACTIVATION_GRADS = {
    0: lambda h: np.ones_like(h),  # identity
    1: lambda h: h * (1 - h),  # sigmoid
    2: lambda h: 1 - h * h,  # tanh
    3: lambda h: (h > 0).astype(h.dtype),  # relu
    4: lambda h: np.where(h > 0, 1.0, h + 1.0),  # elu
    5: lambda h: np.where(h > 0, _SELU_L, h + _SELU_L * _SELU_A),  # selu
}


# --------------------------------------------------------------------------- host helpers
def csr_pattern(X: sp.csr_matrix):
    """(indptr int64, indices int32) of a CSR, without copies when already so."""
    return X.indptr.astype(np.int64, copy=False), X.indices.astype(np.int32, copy=False)


def squared_norm_host(x) -> float:
    """Σ x² in float64, one pass in C++ (``csrc/cpu/dense_ops.cpp``): ``np.square(x).sum()``
    allocates a parameter-sized temporary every epoch (page faults: ~10 ms per
    AutoRec epoch on ML-1M) and ``x @ x`` would wake NumPy's OpenBLAS threads,
    which then spin on the cores the next batches' OpenMP kernels need
    (measured: +40 % on the following AutoRec epoch)."""
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    return float(_cpu.squared_norm(np.ascontiguousarray(x)))


def sample_negatives(X: sp.csr_matrix, ratio: int, rng) -> sp.csr_matrix:
    """Targets for a batch: each row's positives (1) followed by min(ratio x n_pos,
    free items) distinct items drawn uniformly from its non-positive items (0).
    Native (``csrc/cpu/sampling.cpp``), one random stream per row seeded from
    ``rng``, so results do not depend on the thread count."""
    seed = int(rng.integers(0, 2**63))
    indptr, indices, targets = _cpu.sample_negatives(*csr_pattern(X), X.shape[1], int(ratio), seed)
    return sp.csr_matrix((targets.astype(X.dtype), indices, indptr), shape=X.shape)


def hits_at_k(top, fold_out: sp.csr_matrix, n_items: int) -> np.ndarray:
    """1 where top[u, j] is one of row u's fold-out items (``csrc/cpu/ranking.cpp``)."""
    return _cpu.hits_at_k(top, *csr_pattern(fold_out), n_items)


def first_hit_rank(scores, exclude: sp.csr_matrix, fold_out: sp.csr_matrix) -> np.ndarray:
    """Rank (1-based) of each row's best fold-out item among its unseen items; 0 without one."""
    return _cpu.first_hit_rank(scores, *csr_pattern(exclude), *csr_pattern(fold_out))


# --------------------------------------------------------------------------- the backend
class CpuBackend:
    """Host arrays; the C++ kernels of ``_cpu`` and NumPy for the glue."""

    device = "cpu"
    xp = np

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)
        self._grad0 = None  # DeepRec's re-feeding gradient buffer, reused across batches

    # ---------------------------------------------------------------- arrays
    def asarray(self, a):
        """A host array: floating-point ones in the backend's dtype, others (indices) as
        they are; no copy when nothing changes."""
        a = np.asarray(a)
        return a.astype(self.dtype, copy=False) if a.dtype.kind == "f" else a

    def to_host(self, a):
        return a

    def squared_norm(self, x) -> float:
        return squared_norm_host(x)

    def sum_of_squares(self, x) -> float:
        """Σ x² as the backend's scalar (here a float; a device scalar on the GPU)."""
        return squared_norm_host(x)

    def require_memory(self, nbytes: int, what: str) -> None:
        """MemoryError naming ``what`` and the sizes when ``nbytes`` exceed the host's
        available memory: refuse before allocating, not after the OOM killer."""
        require(nbytes, what)

    def scalar(self, x) -> float:
        """A reduction's result as a float64 number (on the GPU: a device scalar, no sync)."""
        return float(x)

    def loss_meter(self):
        return LossMeter()

    def training_matrix(self, X: sp.csr_matrix):
        """The fit's training CSR as batches are sliced from it (on the CPU: as is)."""
        return X

    def rows(self, X, rows):
        """The CSR batch of ``rows`` (sorted) of a training matrix."""
        return X[rows]

    # ---------------------------------------------------------------- dense
    def mm(self, a, b, out=None):
        """a @ b through SciPy's OpenBLAS (``_cpu.gemm``, ``csrc/cpu/blas.cpp``), the pool
        our import configured (see ``OPENBLAS_THREAD_TIMEOUT`` in autorec_fast/__init__.py):
        NumPy's own OpenBLAS, if loaded before us, would keep spinning idle workers on
        the cores our OpenMP kernels need after every product (measured: DeepRec epochs
        1.4x slower when NumPy was imported first)."""
        a_t, a_c = (False, a) if a.flags.c_contiguous else (True, a.T)
        b_t, b_c = (False, b) if b.flags.c_contiguous else (True, b.T)
        if not a_c.flags.c_contiguous:
            a_t, a_c = False, np.ascontiguousarray(a)
        if not b_c.flags.c_contiguous:
            b_t, b_c = False, np.ascontiguousarray(b)
        if out is None:
            out = np.empty((a.shape[0], b.shape[1]), self.dtype)
        _cpu.gemm(a_c, a_t, b_c, b_t, out)
        return out

    def bias_activation(self, h, b, code):
        """In place: h = act(h + b) (``b`` may be None)."""
        _cpu.bias_activation(h, b, code)
        return h

    def mul_activation_grad(self, d, h, code):
        """In place: d *= act'(·), from the activation's output h."""
        _cpu.mul_activation_grad(d, h, code)
        return d

    def take(self, dense, rows, cols):
        """dense[rows, cols] as a host array."""
        return dense[rows, cols]

    # ---------------------------------------------------------------- optimizer
    def step(self, p, g, s1, s2, l2_scale, opt):
        """In place on parameter ``p``: gradient ``g`` + l2_scale·p, then the step
        ``opt`` (keys optimizer, lr, step and optionally momentum) with states s1, s2
        (``csrc/cpu/optim.cpp``)."""
        _cpu.optimizer_step(p, np.ascontiguousarray(g, dtype=self.dtype), s1, s2, l2_scale, **opt)

    # ---------------------------------------------------------------- sparse
    def csr(self, X):
        """A host CSR batch as the sparse products here take it."""
        return X

    def issparse(self, X):
        return sp.issparse(X)

    def sparse_matmul(self, X, W):
        """X @ W for a host CSR X (row-parallel C++ kernel)."""
        out = np.empty((X.shape[0], W.shape[1]), self.dtype)
        _cpu.csr_matmul_dense(X.indptr, X.indices, X.data, W, out)
        return out

    def sparse_t_matmul(self, S, D):
        """Sᵀ·D for a sparse S."""
        return np.asarray(S.T @ D)

    def column_sums(self, S):
        return np.asarray(S.sum(axis=0)).ravel().astype(self.dtype)

    def sparse_input_step(self, X, d, W, s1, s2, l2_scale, opt, d_out=None, h_in=None):
        """The optimizer step of an input layer W from its gradient Xᵀ·d (+ d_outᵀ·h_in
        when given: DeepRec's tied output layer) + l2_scale·W, without forming the
        gradient densely; every row of W is stepped, as a dense optimizer would."""
        if d_out is not None:  # both sparse products in one fused pass over the stacked pattern
            X = sp.vstack([X, d_out], format="csr")
            d = np.vstack([d, h_in])
        _cpu.sparse_input_grad_step(*csr_pattern(X), X.data.astype(self.dtype, copy=False),
                                    np.ascontiguousarray(d, dtype=self.dtype), W, None, s1, s2,
                                    l2_scale, **opt)

    def dense_input_grad(self, X, d, d_out, h_in):
        """An input layer's gradient from a dense input: Xᵀ·d (+ d_outᵀ·h_in), accumulated
        by BLAS into one buffer kept across batches: a fresh items x width array per
        batch is beyond malloc's reuse threshold on large catalogues, and zeroing its
        new pages cost 6 % of a Netflix-shaped DeepRec epoch."""
        shape = (X.shape[1], d.shape[1])
        if self._grad0 is None or self._grad0.shape != shape:
            self._grad0 = np.empty(shape, self.dtype)
        buf = self._grad0
        _cpu.gemm(np.ascontiguousarray(X, dtype=self.dtype), True,
                  np.ascontiguousarray(d, dtype=self.dtype), False, buf)
        if d_out is not None:
            _cpu.gemm(np.ascontiguousarray(d_out, dtype=self.dtype), True,
                      np.ascontiguousarray(h_in, dtype=self.dtype), False, buf, 1.0, 1.0)
        return buf

    def sampled_output(self, h_in, W_rows, b, X, code):
        """f(h_in[r] · W_rows[i] + b[i]) at the entries (r, i) of the CSR batch X, in
        X's order: an output layer where no dense output is needed (``_cpu.sampled_dot``)."""
        rows = np.repeat(np.arange(X.shape[0], dtype=np.int64), np.diff(X.indptr))
        cols = X.indices.astype(np.int64)
        o = _cpu.sampled_dot(h_in, np.ascontiguousarray(W_rows), rows, cols)
        o += b[cols]
        _cpu.bias_activation(o[None, :], None, code)  # in place, 1 x nnz
        return o

    # ---------------------------------------------------------------- losses
    def nll_grad(self, logits, bias, indptr, indices, data, scale):
        """In place: logits (+ bias) -> scale · d/dlogits of −Σ x log softmax for the
        CSR rows x; returns scale · the loss (``csrc/cpu/loss.cpp``)."""
        return _cpu.multinomial_nll_grad(logits, bias, indptr, indices, data, scale)

    def logistic_loss_grad(self, Z, b, Y):
        """In place: Z + b -> σ(z) − y with y the CSR targets Y (0 elsewhere); returns
        (Σ softplus(z) − y·z, the gradient) (``csrc/cpu/loss.cpp``)."""
        loss = _cpu.logistic_loss_grad(Z, b, Y.indptr, Y.indices, Y.data)
        return loss, Z

    def masked_mse_grad(self, out, target, code):
        """Dense re-feeding's masked MSE (mean over target's non-zeros) and its gradient
        w.r.t. the pre-activations."""
        d_out = np.empty_like(out)
        loss = _cpu.masked_mse_grad(out, np.ascontiguousarray(target, dtype=self.dtype), code, d_out)
        return d_out, loss

    def sparse_mse_grad(self, out, X, Xd, code):
        """Masked MSE at the observed entries of the batch X (mean over them) and its
        gradient w.r.t. the output pre-activations, as a CSR with X's pattern. ``out``:
        the dense outputs, or the 1-D outputs at X's entries in X's order."""
        if out.ndim == 1:
            o = out
        else:
            rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
            o = out[rows, X.indices]
        err = o - X.data
        count = max(X.nnz, 1)
        loss = squared_norm_host(err) / count  # not np.dot: a BLAS call wakes NumPy's OpenBLAS threads
        d_data = (2.0 / count) * err * _ACTIVATION_GRADS[code](o)
        d_out = sp.csr_matrix((d_data.astype(self.dtype), X.indices, X.indptr), shape=X.shape)
        return d_out, loss

    # ---------------------------------------------------------------- AutoRec kernel
    def autorec_batch(self, X, Y, params, state1, state2, hidden, output, l2_scale, optimizer, lr,
                      momentum, step, loss_kind, rows=None):
        """One batch of the masked sparse autoencoder (AutoRec, CDAE): forward, loss at
        Y's entries, backward and the fused optimizer step (``csrc/cpu/sparse_layer.cpp``).
        With ``rows`` the batch is those rows of the whole matrices X and Y (gathered
        in C++). Returns the batch's data loss."""
        return _cpu.autorec_batch(
            X.indptr, X.indices, X.data, Y.indptr, Y.indices, Y.data.astype(self.dtype, copy=False),
            params, None, state1, state2, hidden, output, l2_scale, optimizer, lr,
            momentum=momentum, step=step, rows=rows, loss=loss_kind)

    def autorec_encode(self, X, params, hidden):
        """H = g(X·Vt + mu) for the rows of a host CSR X."""
        return _cpu.autorec_encode(X.indptr, X.indices, X.data, params, hidden)

    def autorec_predict(self, X, params, hidden, output, rows, cols):
        """Outputs at (rows, cols) for the examples of a host CSR X, as a host array."""
        return _cpu.autorec_predict(X.indptr, X.indices, X.data, params, hidden, output, rows, cols)

    # ---------------------------------------------------------------- GRU
    def gru_forward(self, Xi, batch_sizes, W_hh, b_hh):
        return _cpu.gru_forward(Xi, batch_sizes, W_hh, b_hh)

    def gru_backward(self, dH, H, cache, batch_sizes, W_hh, gW_hh, gb_hh):
        return _cpu.gru_backward(dH, H, cache, batch_sizes, W_hh, gW_hh, gb_hh)

    def scatter_add_rows(self, idx, src, out):
        _cpu.scatter_add_rows(idx, src, out)

    # ---------------------------------------------------------------- EASE
    def ease_fit(self, X, l2, log):
        """EASE's weights B from X in place in one n x n buffer: the Gram of X
        (``gram_into``), then ``ease_from_gram``. Returns (B, method)."""
        n = X.shape[1]
        itemsize = self.dtype.itemsize
        require(n * n * itemsize + 2 * X.nnz * (4 + itemsize) + 16 * n,
                f"EASE on {n:,} items in {self.dtype.name} (one {n:,} x {n:,} matrix, "
                f"{gib(n * n * itemsize)})")
        log(f"{X.shape[0]:,} users x {n:,} items, {X.nnz:,} interactions, "
            f"n x n buffer {gib(n * n * itemsize)}")
        B = np.zeros((n, n), dtype=self.dtype)  # calloc: pages are zeroed lazily
        self.gram_into(X, B)
        return self.ease_from_gram(B, l2, log)

    def gram_into(self, X, G) -> None:
        """``G += `` the upper triangle of XᵀX (row-major, j >= i) for the CSR ``X``
        (``csrc/cpu/ease.cpp``: straight from CSR, OpenMP over items). ``G`` is an
        (n_items x n_items) host array of the backend's dtype."""
        _run_interruptibly(_cpu.gram_upper, *csr_pattern(X), np.asarray(X.data, dtype=self.dtype), G)

    def ease_from_gram(self, G, l2, log):
        """EASE's weights in place from ``G`` (the upper triangle of XᵀX, n x n, this
        backend's dtype; overwritten): G + λI, LAPACK potrf + potri, then B = −P /
        diag(P) with a zero diagonal (``csrc/cpu/ease.cpp``). Returns (B, method)."""
        n = G.shape[0]
        G.ravel()[:: n + 1] += self.dtype.type(l2)
        info = _run_interruptibly(_cpu.cholesky_inverse_upper, G)
        if info > 0:
            raise ValueError(
                f"argument 'l2': X^T X + l2*I is not numerically positive definite (leading minor "
                f"{info} of {n}); increase l2 or use dtype='float64'")
        if info < 0:
            raise RuntimeError(f"LAPACK potrf/potri: illegal argument {-info}")
        _cpu.ease_weights_from_inverse(G)
        return G, "lapack potrf+potri"

    # ---------------------------------------------------------------- ranking
    def topk(self, scores, exclude, k):
        """Top-k (indices int64, scores) per row, best first, host arrays; the items of
        the CSR ``exclude`` (None: none) never chosen, rows short of k padded with -1/-inf."""
        ex = csr_pattern(exclude) if exclude is not None else (None, None)
        return _cpu.topk_exclude(scores, ex[0], ex[1], k)


def _run_interruptibly(kernel, *args):
    """Run a long kernel (it releases the GIL) in a worker thread while this thread
    waits in short sleeps, so Ctrl-C reaches the caller at once instead of after the
    factorisation (LAPACK cannot be stopped: the worker finishes in the background,
    and its result is dropped). The kernel's own exceptions are re-raised here."""
    outcome = {}

    def work():
        try:
            outcome["value"] = kernel(*args)
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="autorec_fast-kernel", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.05)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


class LossMeter:
    """Sums a training epoch's batch losses (floats here; the CUDA backend's keeps
    device scalars on the device) and reads the total once."""

    def __init__(self):
        self.total = 0.0

    def add(self, value) -> None:
        self.total += value

    def value(self) -> float:
        return float(self.total)
