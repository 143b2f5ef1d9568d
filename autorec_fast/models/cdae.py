"""CDAE (Wu et al., WSDM 2016): a denoising autoencoder over a user's binary
item vector plus a per-user node, for implicit feedback.

    h = g(Vᵀ x̃ + V_u + b),  ŷ = f(W h + b'),  loss at the positives and at
    sampled negatives (or at every item with negative_ratio=0) + λ/2 (‖W‖² + ‖V‖²)

The per-user node is an extra one-hot input column per training user, so V_u
is a row of the input weights and costs one sparse entry. Kernels, with
negative sampling: the same sparse masked forward/backward as AutoRec
(``csrc/cpu/sparse_layer.cpp``, ``csrc/cuda/sparse_layer.cu``) with the logistic loss:
the output is computed only at the positive and the sampled negative items,
so an epoch costs O((1 + ratio) · nnz · hidden), not O(users · items · hidden).
With the full output (negative_ratio=0) every item is a target, so the output
layer is dense: :meth:`CDAE._train_batch_full` runs it as BLAS / cuBLAS
products around the sparse input layer (the backend's), the element-wise loss in
NumPy / CuPy.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._validation import check_fraction, check_positive
from ..backends.cpu import sample_negatives
from ._shared import ACTIVATIONS, LOSSES, OPTIMIZERS, ImplicitModel, choice, meta_count
from ._training import GradientTrained


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


#: negatives per positive beyond this are not a sample any more (and ratio x nnz would
#: overflow the sampler's int64 counts long before): negative_ratio=0 scores every item
MAX_NEGATIVE_RATIO = 100_000


class CDAE(ImplicitModel, GradientTrained):
    """Collaborative Denoising Autoencoder.

    The defaults differ from the paper's K = 50 in the hidden size only: K = 200 (Mult-DAE's
    width) measured NDCG@100 0.461 against 0.385 for K = 50 on ML-100K under strong
    generalization (3 seeds; Mult-DAE 0.468, popularity 0.26), and 0.440 against 0.297 on
    synthetic ML-1M-shaped data (popularity 0.215). BENCHMARKS.md "Model quality at the
    defaults" has the search. :data:`CDAE.REFERENCE` holds the paper's setting.

    Parameters
    ----------
    hidden : int
        K (paper: 50; default 200).
    corruption : float
        Dropout probability q of the input items (survivors scaled 1/(1-q)), in [0, 1).
    hidden_activation, output_activation : str
        As AutoRec's (paper: sigmoid, sigmoid or identity).
    loss : {"logistic", "square"}
        Logistic needs ``output_activation="sigmoid"`` (it is computed from the logits).
    negative_ratio : int
        Negatives sampled per positive for each user in each batch (at most
        100,000); 0 computes the output at every item (the full, unsampled objective).
    optimizer : {"adam", "adagrad"}
    l2 : float
        λ of λ/2 (‖W‖² + ‖V‖²), V including the user nodes.
    epochs, batch_size, lr, metric, patience, seed, dtype, device, verbose :
        as the other models; ``validation=`` in fit takes held-out users (FoldInOut);
        with it, training stops after ``patience`` epochs without a better ``metric``.

    Notes
    -----
    ``score`` and ``recommend`` fold in the given histories without a user node (the
    node's contribution is zero), for users seen in training too: the histories are
    rows of items, not user indices. On ML-100K (weak generalization, 300 epochs,
    benchmarks/accuracy/cdae_recbole.py) scoring training users without their node
    measured +0.005 NDCG@100 against with it, in RecBole's CDAE as in ours.
    """

    name = "cdae"
    #: the paper's setting (Wu et al. 2016), for ``af.train("cdae", data, **CDAE.REFERENCE)``
    REFERENCE = dict(hidden=50, hidden_activation="sigmoid", output_activation="sigmoid",
                     loss="logistic", patience=None)
    # negative_ratio=0 through dense products (False: the sparse kernel with every item as a
    # target, the same objective; kept so tests can compare the two)
    _dense_full_output = True

    def __init__(self, hidden: int = 200, corruption: float = 0.2, hidden_activation: str = "sigmoid",
                 output_activation: str = "sigmoid", loss: str = "logistic", negative_ratio: int = 5,
                 optimizer: str = "adam", lr: float = 1e-2, l2: float = 0.01, epochs: int = 50,
                 batch_size: int = 256, metric: str = "ndcg@100", patience: int | None = 20,
                 seed: int = 0, dtype="float32", device: str = "cpu", verbose: bool = False):
        super().__init__(device)
        self.hidden = check_positive(hidden, "hidden", integer=True)
        self.corruption = check_fraction(corruption, "corruption")
        self.hidden_activation = choice(hidden_activation, ACTIVATIONS, "hidden_activation")
        self.output_activation = choice(output_activation, ACTIVATIONS, "output_activation")
        self.loss = choice(loss, LOSSES, "loss")
        if loss == "logistic" and output_activation != "sigmoid":
            raise ValueError("loss='logistic' needs output_activation='sigmoid'")
        if isinstance(negative_ratio, bool) or not isinstance(negative_ratio, (int, np.integer)):
            raise TypeError(f"negative_ratio must be an integer, got {negative_ratio!r}")
        if not 0 <= negative_ratio <= MAX_NEGATIVE_RATIO:
            raise ValueError(f"negative_ratio must be between 0 and {MAX_NEGATIVE_RATIO:,} (negatives sampled per "
                             f"positive; 0 makes every item a target), got {negative_ratio}")
        self.negative_ratio = int(negative_ratio)
        self.optimizer = choice(optimizer, ("adam", "adagrad"), "optimizer")
        self.metric = self._check_metric(metric)
        self._set_training_options(epochs=epochs, batch_size=batch_size, lr=lr, l2=l2,
                                   patience=patience, seed=seed, dtype=dtype, verbose=verbose)
        self._params = None

    def fit(self, data, validation=None, callback=None,
            on_divergence: str = "raise", callbacks=None) -> "CDAE":
        """Train on implicit feedback (positive values binarised to 1).

        ``callbacks``, ``callback`` and ``on_divergence``: as :meth:`MultVAE.fit`'s."""
        X = self._binary_matrix(data)
        n_users = X.shape[0]
        self.n_train_users = n_users
        rng = np.random.default_rng(self.seed)
        k, n_in = self.hidden, self.n_items + n_users
        batch = min(self.batch_size, n_users)
        self._require_memory((n_in + self.n_items + 1) * k + self.n_items, 2 if self.optimizer == "adam" else 1,
                             (4 * batch * self.n_items if self.negative_ratio == 0 else 0) + 4 * batch * k,
                             f"{n_users:,} users x {self.n_items:,} items, hidden {k}", validation,
                             init_float64=(n_in + self.n_items) * k)
        a_v, a_w = np.sqrt(6.0 / (n_in + k)), np.sqrt(6.0 / (self.n_items + k))
        params = (rng.uniform(-a_v, a_v, (n_in, k)), np.zeros(k), rng.uniform(-a_w, a_w, (self.n_items, k)),
                  np.zeros(self.n_items))
        # parameters and optimizer state live on the backend's device
        self._params = tuple(self._backend.asarray(p) for p in params)
        self._state1 = tuple(self._zeros_like_parameters()[0])
        self._state2 = tuple(self._zeros_like_parameters()[0]) if self.optimizer == "adam" else None
        self._X = self._backend.training_matrix(X)
        return self._train_loop(n_users, rng, validation=validation, callback=callback, callbacks=callbacks,
                                on_divergence=on_divergence)

    def _parameters(self):
        return list(self._params)

    def _epoch_summary(self, total, n_batches):
        reg = 0.5 * self.l2 * (self._backend.squared_norm(self._params[0]) +
                               self._backend.squared_norm(self._params[2]))
        return {"loss": total + reg}

    def _train_batch(self, users, ts):
        Xb = self._backend.rows(self._X, users)
        share = len(users) / ts.n_examples
        if self.negative_ratio == 0 and self._dense_full_output:
            return self._train_batch_full(Xb, users, ts.rng, ts.step, share)
        if self.negative_ratio > 0:
            Y = sample_negatives(Xb, self.negative_ratio, ts.rng)
        else:  # the full output: every item is a target
            B, n = Xb.shape
            Y = sp.csr_matrix((Xb.toarray().ravel(), np.tile(np.arange(n, dtype=np.int32), B),
                               np.arange(0, (B + 1) * n, n, dtype=np.int64)), shape=Xb.shape)
        Xin = self._corrupted_input(Xb, users, ts.rng)
        return self._backend.autorec_batch(
            Xin, Y, self._params, self._state1, self._state2, ACTIVATIONS[self.hidden_activation],
            ACTIVATIONS[self.output_activation], self.l2 * share, OPTIMIZERS[self.optimizer], self.lr,
            0.0, ts.step, loss_kind=LOSSES[self.loss])

    def _corrupted_input(self, Xb, users, rng):
        """[dropout(Xb) | user nodes]: survivors scaled by 1/(1-q), one draw per entry."""
        Xc = Xb
        if self.corruption > 0:
            keep = rng.random(Xb.nnz) >= self.corruption
            Xc = Xb.copy()
            Xc.data = np.where(keep, Xb.data / (1 - self.corruption), 0).astype(self.dtype)
        return append_user_nodes(Xc, users, self.n_train_users)

    def _train_batch_full(self, Xb, users, rng, step, share):
        """One batch with every item as a target (negative_ratio=0): the sparse input
        layer, then the output layer and its gradients as dense products. Same
        objective, random draws and update order as the sparse kernel (every gradient
        from the parameters before the step). Returns the batch's data loss."""
        be = self._backend
        Xin = self._corrupted_input(Xb, users, rng)
        Vt, mu, W, b = self._params
        hidden, output = ACTIVATIONS[self.hidden_activation], ACTIVATIONS[self.output_activation]
        H = be.bias_activation(be.sparse_matmul(Xin, Vt), mu, hidden)
        Z = be.mm(H, W.T)
        loss, D = self._full_loss_grad(Z, b, Xb, output)
        dH = be.mm(D, W)
        be.mul_activation_grad(dH, H, hidden)
        opt = dict(optimizer=OPTIMIZERS[self.optimizer], lr=self.lr, step=step)
        l2_scale = self.l2 * share
        s1 = self._state1
        s2 = self._state2 if self._state2 is not None else (None,) * 4  # AdaGrad keeps one state
        be.step(W, be.mm(D.T, H), s1[2], s2[2], l2_scale, opt)
        be.step(b, D.sum(axis=0), s1[3], s2[3], 0.0, opt)
        be.step(mu, dH.sum(axis=0), s1[1], s2[1], 0.0, opt)
        be.sparse_input_step(Xin, dH, Vt, s1[0], s2[0], l2_scale, opt)
        return loss

    def _full_loss_grad(self, Z, b, Xb, output):
        """Adds the output bias to the pre-activations Z (B x items, in place) and returns
        (Σ loss over every (user, item), d loss / d Z) against the targets Xb (its
        entries; 0 elsewhere), with the sparse kernel's definitions: logistic
        softplus(z) − y z with d = σ(z) − y; square (f(z) − y)² with d = 2 (f(z) − y) f'(z)."""
        be = self._backend
        if self.loss == "logistic":
            return be.logistic_loss_grad(Z, b, Xb)
        xp = be.xp
        rows = np.repeat(np.arange(Xb.shape[0], dtype=np.int64), np.diff(Xb.indptr))
        pos = xp.asarray(rows * Xb.shape[1] + Xb.indices)
        y = xp.asarray(Xb.data, dtype=self.dtype)
        out = be.bias_activation(Z, b, output)
        D = out.copy()
        D.ravel()[pos] -= y
        loss = be.scalar(xp.square(D).sum(dtype=np.float64))
        D *= 2
        return loss, be.mul_activation_grad(D, out, output)

    def _check_fitted(self):
        if self._params is None:
            raise RuntimeError("CDAE is not fitted: call fit() or autorec_fast.train()")

    def _score_csr(self, X):
        """Output pre-activations for folded-in histories (no user node; f is monotonic)."""
        Xin = append_user_nodes(X, None, self.n_train_users)
        H = self._backend.autorec_encode(Xin, self._params, ACTIVATIONS[self.hidden_activation])
        return H @ self._params[2].T + self._params[3]

    # ---------------------------------------------------------------- save/load
    _HYPER = ("hidden", "corruption", "hidden_activation", "output_activation", "loss",
              "negative_ratio", "optimizer", "lr", "l2", "epochs", "batch_size", "metric",
              "patience", "seed")

    def _state(self):
        Vt, mu, W, b = (self._backend.to_host(p) for p in self._params)
        meta = {k: getattr(self, k) for k in self._HYPER}
        meta.update(dtype=self.dtype.name, n_items=self.n_items, n_train_users=self.n_train_users,
                    best_epoch=self.best_epoch, history=self.history)
        return {"Vt": Vt, "mu": mu, "W": W, "b": b, "item_ids": self.item_ids}, meta

    @classmethod
    def _from_state(cls, arrays, meta, device):
        model = cls(**{k: meta[k] for k in cls._HYPER}, dtype=meta["dtype"], device=device)
        model.n_items, model.n_train_users = meta_count(meta, "n_items"), meta_count(meta, "n_train_users")
        model.item_ids = arrays["item_ids"]
        params = tuple(np.ascontiguousarray(arrays[k], dtype=model.dtype) for k in ("Vt", "mu", "W", "b"))
        k = model.hidden
        if (params[0].shape != (model.n_items + model.n_train_users, k) or params[1].shape != (k,)
                or params[2].shape != (model.n_items, k) or params[3].shape != (model.n_items,)):
            raise ValueError("model file: parameter shapes do not match the metadata")
        model._params = tuple(model._backend.asarray(p) for p in params)
        model.best_epoch, model.history = meta_count(meta, "best_epoch"), list(meta["history"])
        return model
