"""CDAE (Wu et al., WSDM 2016): a denoising autoencoder over a user's binary
item vector plus a per-user node, for implicit feedback.

    h = g(Vᵀ x̃ + V_u + b),  ŷ = f(W h + b'),  loss at the positives and at
    sampled negatives (or at every item with negative_ratio=0) + λ/2 (‖W‖² + ‖V‖²)

The per-user node is an extra one-hot input column per training user, so V_u
is a row of the input weights and costs one sparse entry. Kernels, with
negative sampling: the same sparse masked forward/backward as AutoRec
(``csrc/cpu/autorec.cpp``, ``csrc/cuda/autorec.cu``) with the logistic loss:
the output is computed only at the positive and the sampled negative items,
so an epoch costs O((1 + ratio) · nnz · hidden), not O(users · items · hidden).
With the full output (negative_ratio=0) every item is a target, so the output
layer is dense: :meth:`CDAE._train_batch_full` runs it as BLAS / cuBLAS
products around the sparse input layer (``_ops``), the element-wise loss in
NumPy / CuPy.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from .. import _backend
from .._validation import check_fraction, check_positive
from ._implicit import binary_matrix, check_metric, validation_score
from ._ops import CpuOps, CudaOps
from .autorec import ACTIVATIONS, OPTIMIZERS, _choice, cuda_autorec_batch, cuda_autorec_encode
from .base import BestEpochTracker, Recommender, squared_norm

LOSSES = {"square": 0, "logistic": 1}


def sample_negatives(X: sp.csr_matrix, ratio: int, rng) -> sp.csr_matrix:
    """Targets for a batch: each row's positives (1) followed by min(ratio x n_pos,
    free items) distinct items drawn uniformly from its non-positive items (0).
    Native (csrc/cpu/sampling.cpp), one random stream per row seeded from ``rng``,
    so results do not depend on the thread count."""
    seed = int(rng.integers(0, 2**63))
    indptr, indices, targets = _backend._cpu.sample_negatives(
        X.indptr.astype(np.int64), X.indices.astype(np.int32), X.shape[1], int(ratio), seed)
    return sp.csr_matrix((targets.astype(X.dtype), indices, indptr), shape=X.shape)


def append_user_nodes(X: sp.csr_matrix, users: np.ndarray | None, n_users: int) -> sp.csr_matrix:
    """[X | one-hot(user)]: the user node as one more input entry per row (none when
    ``users`` is None, e.g. when folding in a history of a user not seen in training)."""
    n_items = X.shape[1]
    if users is None:
        return sp.csr_matrix((X.data, X.indices, X.indptr), shape=(X.shape[0], n_items + n_users))
    B = X.shape[0]
    indptr = X.indptr + np.arange(B + 1)
    indices = np.empty(X.nnz + B, np.int32)
    data = np.empty(X.nnz + B, X.dtype)
    last = indptr[1:] - 1  # the user node goes last: its column is after every item
    mask = np.ones(X.nnz + B, bool)
    mask[last] = False
    indices[mask] = X.indices
    data[mask] = X.data
    indices[last] = n_items + users
    data[last] = 1
    return sp.csr_matrix((data, indices, indptr), shape=(B, n_items + n_users))


def logistic_loss_grad_xp(xp, Z, pos, y):
    """Σ softplus(z) − Σ y·z and σ(z) − y for the pre-activations Z (every entry a target;
    y at the flat positions ``pos``, 0 elsewhere) in NumPy/CuPy operations: the GPU's
    form of ``_cpu.logistic_loss_grad``."""
    yz = float(xp.dot(Z.ravel()[pos], y))
    t = xp.exp(-xp.abs(Z))
    loss = float(xp.maximum(Z, 0).sum(dtype=np.float64) + xp.log1p(t).sum(dtype=np.float64)) - yz
    D = xp.where(Z >= 0, Z.dtype.type(1), t)
    D /= 1 + t  # σ(z), without overflow for either sign
    D.ravel()[pos] -= y
    return loss, D


class CDAE(Recommender):
    """Collaborative Denoising Autoencoder.

    Parameters
    ----------
    hidden : int
        K (paper: 50).
    corruption : float
        Dropout probability q of the input items (survivors scaled 1/(1-q)), in [0, 1).
    hidden_activation, output_activation : str
        As AutoRec's (paper: sigmoid, sigmoid or identity).
    loss : {"logistic", "square"}
        Logistic needs ``output_activation="sigmoid"`` (it is computed from the logits).
    negative_ratio : int
        Negatives sampled per positive for each user in each batch; 0 computes
        the output at every item (the full, unsampled objective).
    optimizer : {"adam", "adagrad"}
    l2 : float
        λ of λ/2 (‖W‖² + ‖V‖²), V including the user nodes.
    epochs, batch_size, lr, metric, patience, seed, dtype, device, verbose :
        as the other models; ``validation=`` in fit takes held-out users (FoldInOut).

    Users not seen in training are scored by folding in their history without
    a user node (the node's contribution is zero).
    """

    name = "cdae"
    # negative_ratio=0 through dense products (False: the sparse kernel with every item as a
    # target, the same objective; kept so tests can compare the two)
    _dense_full_output = True

    def __init__(self, hidden: int = 50, corruption: float = 0.2, hidden_activation: str = "sigmoid",
                 output_activation: str = "sigmoid", loss: str = "logistic", negative_ratio: int = 5,
                 optimizer: str = "adam", lr: float = 1e-2, l2: float = 0.01, epochs: int = 50,
                 batch_size: int = 256, metric: str = "ndcg@100", patience: int | None = None,
                 seed: int = 0, dtype="float32", device: str = "cpu", verbose: bool = False):
        super().__init__(device)
        self.hidden = check_positive(hidden, "hidden", integer=True)
        self.corruption = check_fraction(corruption, "corruption")
        self.hidden_activation = _choice(hidden_activation, ACTIVATIONS, "hidden_activation")
        self.output_activation = _choice(output_activation, ACTIVATIONS, "output_activation")
        self.loss = _choice(loss, LOSSES, "loss")
        if loss == "logistic" and output_activation != "sigmoid":
            raise ValueError("loss='logistic' needs output_activation='sigmoid'")
        if isinstance(negative_ratio, bool) or not isinstance(negative_ratio, (int, np.integer)):
            raise TypeError(f"negative_ratio must be an integer, got {negative_ratio!r}")
        if negative_ratio < 0:
            raise ValueError(f"negative_ratio must be >= 0, got {negative_ratio}")
        self.negative_ratio = int(negative_ratio)
        self.optimizer = _choice(optimizer, ("adam", "adagrad"), "optimizer")
        self.metric = check_metric(metric)
        self._set_training_options(epochs=epochs, batch_size=batch_size, lr=lr, l2=l2,
                                   patience=patience, seed=seed, dtype=dtype, verbose=verbose)
        self._params = None

    def fit(self, data, validation=None) -> "CDAE":
        """Train on implicit feedback (positive values binarised to 1)."""
        X, inter = binary_matrix(data, self.dtype)
        self.item_ids = np.asarray(inter.item_ids)
        n_users, self.n_items = X.shape
        self.n_train_users = n_users
        rng = np.random.default_rng(self.seed)
        k, n_in = self.hidden, self.n_items + n_users
        a_v, a_w = np.sqrt(6.0 / (n_in + k)), np.sqrt(6.0 / (self.n_items + k))
        self._params = (rng.uniform(-a_v, a_v, (n_in, k)).astype(self.dtype), np.zeros(k, self.dtype),
                        rng.uniform(-a_w, a_w, (self.n_items, k)).astype(self.dtype),
                        np.zeros(self.n_items, self.dtype))
        xp = self._array_module()
        self._ops = CudaOps(self.dtype) if self.device == "cuda" else CpuOps(self.dtype)
        if xp is not np:  # parameters and optimizer state live on the device
            self._params = tuple(xp.asarray(p) for p in self._params)
            self._loss_acc = xp.zeros(1, np.float64)
        state1 = tuple(xp.zeros_like(p) for p in self._params)
        state2 = tuple(xp.zeros_like(p) for p in self._params) if self.optimizer == "adam" else None
        tracker = BestEpochTracker(self.patience)
        step = 0
        self.history = []
        for epoch in range(1, self.epochs + 1):
            t0 = time.perf_counter()
            order = rng.permutation(n_users)
            total = 0.0
            if xp is not np:
                self._loss_acc.fill(0)
            for start in range(0, n_users, self.batch_size):
                rows = np.sort(order[start : start + self.batch_size])
                step += 1
                total += self._train_batch(X[rows], rows, rng, state1, state2, step, len(rows) / n_users)
            if xp is not np:  # the sparse CUDA kernel accumulates its loss on the device
                total += float(self._loss_acc.get()[0])
            reg = 0.5 * self.l2 * (squared_norm(self._params[0]) + squared_norm(self._params[2]))
            entry = {"epoch": epoch, "loss": total + reg, "seconds": time.perf_counter() - t0}
            if self._end_epoch(entry, tracker, validation_score(self, validation, entry), lambda: tuple(p.copy() for p in self._params)):
                break
        if tracker.best_state is not None:
            self._params, self.best_epoch = tracker.best_state, tracker.best_epoch
        else:
            self.best_epoch = len(self.history)
        return self

    def _train_batch(self, Xb, users, rng, state1, state2, step, share):
        if self.negative_ratio == 0 and self._dense_full_output:
            return self._train_batch_full(Xb, users, rng, state1, state2, step, share)
        if self.negative_ratio > 0:
            Y = sample_negatives(Xb, self.negative_ratio, rng)
        else:  # the full output: every item is a target
            B, n = Xb.shape
            Y = sp.csr_matrix((Xb.toarray().ravel(), np.tile(np.arange(n, dtype=np.int32), B),
                               np.arange(0, (B + 1) * n, n, dtype=np.int64)), shape=Xb.shape)
        Xin = self._corrupted_input(Xb, users, rng)
        if self.device == "cuda":
            cuda_autorec_batch(Xin, Y, self._params, state1, state2, self.hidden, self.dtype,
                               ACTIVATIONS[self.hidden_activation], ACTIVATIONS[self.output_activation],
                               self.l2 * share, OPTIMIZERS[self.optimizer], self.lr, 0.0, step,
                               self._loss_acc, loss_kind=LOSSES[self.loss])
            return 0.0  # accumulated on the device, read once per epoch
        return _backend._cpu.autorec_batch(
            Xin.indptr, Xin.indices, Xin.data, Y.indptr, Y.indices, Y.data.astype(self.dtype),
            self._params, None, state1, state2, ACTIVATIONS[self.hidden_activation],
            ACTIVATIONS[self.output_activation], self.l2 * share, OPTIMIZERS[self.optimizer], self.lr,
            step=step, loss=LOSSES[self.loss])

    def _corrupted_input(self, Xb, users, rng):
        """[dropout(Xb) | user nodes]: survivors scaled by 1/(1-q), one draw per entry."""
        Xc = Xb
        if self.corruption > 0:
            keep = rng.random(Xb.nnz) >= self.corruption
            Xc = Xb.copy()
            Xc.data = np.where(keep, Xb.data / (1 - self.corruption), 0).astype(self.dtype)
        return append_user_nodes(Xc, users, self.n_train_users)

    def _train_batch_full(self, Xb, users, rng, state1, state2, step, share):
        """One batch with every item as a target (negative_ratio=0): the sparse input
        layer, then the output layer and its gradients as dense products. Same
        objective, random draws and update order as the sparse kernel (every gradient
        from the parameters before the step). Returns the batch's data loss."""
        ops = self._ops
        Xin = self._corrupted_input(Xb, users, rng)
        Vt, mu, W, b = self._params
        hidden, output = ACTIVATIONS[self.hidden_activation], ACTIVATIONS[self.output_activation]
        H = ops.bias_activation(ops.sparse_matmul(Xin, Vt), mu, hidden)
        Z = ops.mm(H, W.T)
        loss, D = self._full_loss_grad(Z, b, Xb, output)
        dH = ops.mm(D, W)
        ops.mul_activation_grad(dH, H, hidden)
        opt = dict(optimizer=OPTIMIZERS[self.optimizer], lr=self.lr, step=step)
        l2_scale = self.l2 * share
        s1, s2 = state1, state2 if state2 is not None else (None,) * 4  # AdaGrad keeps one state
        ops.step(W, ops.mm(D.T, H), s1[2], s2[2], l2_scale, opt)
        ops.step(b, D.sum(axis=0), s1[3], s2[3], 0.0, opt)
        ops.step(mu, dH.sum(axis=0), s1[1], s2[1], 0.0, opt)
        ops.sparse_input_step(Xin, dH, Vt, s1[0], s2[0], l2_scale, opt)
        return loss

    def _full_loss_grad(self, Z, b, Xb, output):
        """Adds the output bias to the pre-activations Z (B x items, in place) and returns
        (Σ loss over every (user, item), d loss / d Z) against the targets Xb (its
        entries; 0 elsewhere), with the sparse kernel's definitions: logistic
        softplus(z) − y z with d = σ(z) − y; square (f(z) − y)² with d = 2 (f(z) − y) f'(z)."""
        ops, xp = self._ops, self._ops.xp
        if self.loss == "logistic" and xp is np:  # one fused pass (csrc/cpu/dense_ops.cpp)
            loss = _backend._cpu.logistic_loss_grad(Z, b, Xb.indptr, Xb.indices, Xb.data)
            return loss, Z
        rows = np.repeat(np.arange(Xb.shape[0], dtype=np.int64), np.diff(Xb.indptr))
        pos = xp.asarray(rows * Xb.shape[1] + Xb.indices)
        y = xp.asarray(Xb.data, dtype=self.dtype)
        if self.loss == "logistic":
            return logistic_loss_grad_xp(xp, ops.bias_activation(Z, b, ACTIVATIONS["identity"]), pos, y)
        out = ops.bias_activation(Z, b, output)
        D = out.copy()
        D.ravel()[pos] -= y
        loss = float(xp.square(D).sum(dtype=np.float64))
        D *= 2
        return loss, ops.mul_activation_grad(D, out, output)

    def _check_fitted(self):
        if self._params is None:
            raise RuntimeError("CDAE is not fitted: call fit() or autorec_fast.train()")

    def _score_csr(self, X):
        """Output pre-activations for folded-in histories (no user node; f is monotonic)."""
        Xin = append_user_nodes(X, None, self.n_train_users)
        if self.device == "cuda":
            H = cuda_autorec_encode(Xin, self._params, self.hidden, self.dtype,
                                    ACTIVATIONS[self.hidden_activation])
        else:
            H = _backend._cpu.autorec_encode(Xin.indptr, Xin.indices, Xin.data, self._params,
                                             ACTIVATIONS[self.hidden_activation])
        return H @ self._params[2].T + self._params[3]

    # ---------------------------------------------------------------- save/load
    _HYPER = ("hidden", "corruption", "hidden_activation", "output_activation", "loss",
              "negative_ratio", "optimizer", "lr", "l2", "epochs", "batch_size", "metric",
              "patience", "seed")

    def _state(self):
        Vt, mu, W, b = (p.get() if hasattr(p, "get") else p for p in self._params)
        meta = {k: getattr(self, k) for k in self._HYPER}
        meta.update(dtype=self.dtype.name, n_items=self.n_items, n_train_users=self.n_train_users,
                    best_epoch=self.best_epoch, history=self.history)
        return {"Vt": Vt, "mu": mu, "W": W, "b": b, "item_ids": self.item_ids}, meta

    @classmethod
    def _from_state(cls, arrays, meta, device):
        model = cls(**{k: meta[k] for k in cls._HYPER}, dtype=meta["dtype"], device=device)
        model.n_items, model.n_train_users = int(meta["n_items"]), int(meta["n_train_users"])
        model.item_ids = arrays["item_ids"]
        params = tuple(np.ascontiguousarray(arrays[k], dtype=model.dtype) for k in ("Vt", "mu", "W", "b"))
        k = model.hidden
        if params[0].shape != (model.n_items + model.n_train_users, k) or params[2].shape != (model.n_items, k):
            raise ValueError("model file: parameter shapes do not match the metadata")
        if device == "cuda":
            import cupy as cp

            params = tuple(cp.asarray(p) for p in params)
        model._params = params
        model.best_epoch, model.history = int(meta["best_epoch"]), list(meta["history"])
        return model
