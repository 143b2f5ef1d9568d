"""AutoRec (Sedhain et al., WWW 2015), item- or user-based, on sparse masked kernels.

    h(r) = f(W · g(V·r + μ) + b),  loss = Σ_observed (h(r)_u − r_u)² + λ/2 (‖W‖² + ‖V‖²)

I-AutoRec (``variant="item"``): each item is an example, its input the item's
ratings by all users; U-AutoRec (``variant="user"``): each user is an example.

Kernels: ``csrc/cpu/sparse_layer.cpp`` and ``csrc/cuda/sparse_layer.cu`` (encoder as a sparse x dense product over the
observed inputs, decoder and loss only at the observed targets, backward over
those entries, optimizer step fused per parameter row). Per mini-batch the
objective is the batch's squared error plus λ/2 (‖W‖² + ‖V‖²) scaled by the
batch's share of the examples, so one epoch sums to the paper's objective.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._validation import canonical_csr, check_positive
from ._shared import ACTIVATIONS, OPTIMIZERS, RatingModel, choice, features_csr, meta_count
from ._training import GradientTrained

VARIANTS = ("item", "user")
CORRUPTIONS = (None, "dropout", "gaussian")
INITS = ("glorot", "fan_in")


class AutoRec(RatingModel, GradientTrained):
    """AutoRec rating prediction.

    The defaults (issue 13's search, BENCHMARKS.md "Model quality at the defaults") are
    PyTorch-style fan-in initialisation, λ = 100, batches of 256 examples, Adam at 1e-3
    for up to 100 epochs (the best validation epoch was 46-71 in the search), with early stopping (patience 20) when ``validation`` is
    given. On ML-100K (random 90/10, early stopping on 10 % of the training ratings,
    3 seeds) they give test RMSE 0.892 against 0.916 for the previous defaults
    (Glorot, λ = 1, 50 epochs) and 0.944 for the regularised bias baseline; with 30 %
    of the training ratings 0.970 against 0.973 for the bias baseline. The paper's setting is ``init="glorot"`` with its λ, hidden 500 and
    Rprop/L-BFGS (``optimizer="rprop"``); :data:`AutoRec.REFERENCE` lists it.

    Parameters
    ----------
    variant : {"item", "user"}
        I-AutoRec (items are examples; the paper's best) or U-AutoRec.
    hidden : int
        Hidden units k (paper: 500).
    hidden_activation, output_activation : str
        g and f: identity, sigmoid, tanh, relu, elu or selu (paper: sigmoid, identity).
    l2 : float
        λ of λ/2 (‖W‖² + ‖V‖²), >= 0. The squared error is summed over the observed
        ratings, so the same λ regularises sparser data more.
    epochs, batch_size, lr : int, int, float
        Training schedule. ``optimizer="rprop"`` is a
        full-batch method: it uses all examples per step (batch_size is ignored).
    optimizer : {"adam", "sgd", "rprop"}
    momentum : float
        SGD momentum.
    corruption : {None, "dropout", "gaussian"}
        Denoising: drop observed inputs with probability ``noise`` (survivors
        scaled by 1/(1-noise)), or add N(0, noise²) to them. Targets stay clean.
    noise : float
    patience : int or None
        With validation data: stop after this many epochs without improvement
        (None: train all ``epochs``). The parameters of the best validation epoch
        are kept either way.
    clip : bool
        Clip predictions to the training ratings' range.
    init : {"fan_in", "glorot"}
        "fan_in": weights and biases U(±1/sqrt(fan_in)), PyTorch's ``nn.Linear``
        default; "glorot": Glorot-uniform weights, zero biases (the previous
        default). fan_in measured better at every data size tried (the smaller
        encoder weights keep the sigmoid units out of saturation).
    seed, dtype, device, verbose
        As for the other models.

    Attributes
    ----------
    history : list of dict
        Per epoch: ``epoch``, ``loss`` (training objective), ``train_rmse``
        (on the observed training entries, in training mode), ``seconds`` and,
        with validation, ``val_rmse``.
    best_epoch : int
    """

    name = "autorec"
    #: the paper's setting (Sedhain et al. 2015), for ``af.train("autorec", data, **AutoRec.REFERENCE)``;
    #: the paper tuned λ in {0.001, ..., 1000} per data set and trained with Rprop / L-BFGS
    REFERENCE = dict(hidden=500, hidden_activation="sigmoid", output_activation="identity",
                     init="glorot", optimizer="rprop", l2=1.0, patience=None)

    def __init__(self, variant: str = "item", hidden: int = 500, hidden_activation: str = "sigmoid",
                 output_activation: str = "identity", l2: float = 100.0, epochs: int = 100,
                 batch_size: int = 256, lr: float = 1e-3, optimizer: str = "adam",
                 momentum: float = 0.0, corruption: str | None = None, noise: float = 0.0,
                 patience: int | None = 20, clip: bool = True, init: str = "fan_in", seed: int = 0,
                 dtype="float32", device: str = "cpu", verbose: bool = False):
        super().__init__(device)
        self.variant = choice(variant, VARIANTS, "variant")
        self.init = choice(init, INITS, "init")
        self.hidden = check_positive(hidden, "hidden", integer=True)
        self.hidden_activation = choice(hidden_activation, ACTIVATIONS, "hidden_activation")
        self.output_activation = choice(output_activation, ACTIVATIONS, "output_activation")
        self._set_training_options(epochs=epochs, batch_size=batch_size, lr=lr, l2=l2,
                                   patience=patience, seed=seed, dtype=dtype, verbose=verbose)
        self.optimizer = choice(optimizer, {k for k in OPTIMIZERS if k not in ("none", "adagrad")},
                                 "optimizer")
        self.momentum = check_positive(momentum, "momentum", allow_zero=True)
        self.corruption = choice(corruption, CORRUPTIONS, "corruption")
        self.noise = check_positive(noise, "noise", allow_zero=True)
        if corruption == "dropout" and not self.noise < 1:
            raise ValueError(f"noise must be in [0, 1) for dropout corruption, got {noise}")
        self.clip = bool(clip)

    # ------------------------------------------------------------------ fitting
    def fit(self, data, validation=None, user_features=None, item_features=None,
            callback=None, on_divergence: str = "raise", callbacks=None) -> "AutoRec":
        """Train on ratings; ``validation``: Interactions in the same index space.

        ``item_features`` (I-AutoRec) or ``user_features`` (U-AutoRec): one row
        per example, concatenated to its input vector (the hybrid extension).
        ``callbacks`` and ``callback`` (after every epoch: False, resp. True, stops): as
        :meth:`MultVAE.fit`'s.
        ``on_divergence``: "raise" (a FloatingPointError when the loss turns NaN/inf) or
        "stop" (a warning; training ends with the best, or the last finite, epoch's parameters).
        """
        R = self._ratings_matrix(data)
        examples = canonical_csr(R.T, self.dtype, "data") if self.variant == "item" else R
        own, other = ("item_features", "user_features") if self.variant == "item" else ("user_features", "item_features")
        given = {"item_features": item_features, "user_features": user_features}
        if given[other] is not None:
            raise ValueError(f"{other} cannot be concatenated to the inputs of {self.variant}-based "
                             f"AutoRec (its examples are {self.variant}s); pass {own}")
        feats = features_csr(given[own], examples.shape[0], self.dtype, own)
        self._n_features = 0 if feats is None else feats.shape[1]
        self._inputs = examples if feats is None else canonical_csr(sp.hstack([examples, feats], format="csr"),
                                                                    self.dtype, own)
        self._targets = examples
        self._observed_rows = np.diff(examples.indptr) > 0  # examples with training ratings
        self._observed_cols = np.bincount(examples.indices, minlength=examples.shape[1]) > 0
        val = self._validation_data(validation)

        rng = np.random.default_rng(self.seed)
        n_in, n_out, k = self._inputs.shape[1], examples.shape[1], self.hidden
        stateful = self.optimizer in ("adam", "rprop")
        batch = examples.shape[0] if self.optimizer == "rprop" else min(self.batch_size, examples.shape[0])
        self._require_memory((n_in + n_out + 1) * k + n_out, 2 if stateful else int(self.momentum > 0),
                             4 * batch * k + 2 * examples.nnz, f"{n_in:,} inputs x {k} hidden x {n_out:,} outputs",
                             val)
        # parameters and optimizer state live on the backend's device
        self._params = tuple(self._backend.asarray(p) for p in self._init_params(rng, n_in, n_out, k))
        self._state1 = tuple(self._zeros_like_parameters()[0]) if stateful or self.momentum else None
        self._state2 = tuple(self._zeros_like_parameters()[0]) if stateful else None
        if self.optimizer == "rprop":  # torch.optim.Rprop: initial step = lr
            for s in self._state2:
                s.fill(self.lr)
        n_ex = examples.shape[0]
        self._train_nnz = examples.nnz
        # the whole matrices as the backend slices batches from them (on the GPU: uploaded once)
        targets = self._backend.training_matrix(self._targets)
        self._train_matrices = (targets if self._inputs is self._targets else
                                self._backend.training_matrix(self._inputs), targets)
        try:
            return self._train_loop(n_ex, rng, validation=val, callback=callback, callbacks=callbacks, on_divergence=on_divergence,
                                    batch_size=n_ex if self.optimizer == "rprop" else None)
        finally:
            del self._train_matrices

    def _parameters(self):
        return list(self._params)

    def _epoch_summary(self, sse, n_batches):
        reg = 0.5 * self.l2 * (self._backend.squared_norm(self._params[0]) +
                               self._backend.squared_norm(self._params[2]))
        return {"loss": float(sse + reg), "train_rmse": float(np.sqrt(sse / self._train_nnz))}

    def _init_params(self, rng, n_in, n_out, k):
        """V and W uniform (V stored transposed: n_in x k): "glorot" U(±sqrt(6/(fan_in+fan_out)))
        with zero biases; "fan_in" U(±1/sqrt(fan_in)) for weights and biases (PyTorch's nn.Linear)."""
        dt = self.dtype

        def uniform(shape, a):
            # drawn in the model's dtype and scaled in place: no float64 temporaries
            # (halves the set-up of a train() call on ML-1M-sized data)
            P = rng.random(shape, dtype=dt)
            P *= dt.type(2 * a)
            P -= dt.type(a)
            return P

        if self.init == "glorot":
            return (uniform((n_in, k), np.sqrt(6.0 / (n_in + k))), np.zeros(k, dt),
                    uniform((n_out, k), np.sqrt(6.0 / (n_out + k))), np.zeros(n_out, dt))
        a_enc, a_dec = 1 / np.sqrt(n_in), 1 / np.sqrt(k)
        Vt, W = uniform((n_in, k), a_enc), uniform((n_out, k), a_dec)
        return Vt, uniform(k, a_enc), W, uniform(n_out, a_dec)

    def _train_batch(self, rows, ts):
        corrupt = self.corruption is not None and self.noise > 0
        (X, Y), whole = self._train_matrices, rows.astype(np.int64, copy=False)
        if corrupt:
            Y = self._targets[rows]
            X = Y.copy() if self._inputs is self._targets else self._inputs[rows]  # no side features: one slice
            whole = None
            # corrupt the rating part only, not the side features
            is_rating = X.indices < self._targets.shape[1]
            if self.corruption == "dropout":
                keep = ts.rng.random(X.nnz) >= self.noise
                X.data = np.where(is_rating, np.where(keep, X.data / (1 - self.noise), 0), X.data).astype(self.dtype)
            else:
                X.data = (X.data + is_rating * ts.rng.normal(0, self.noise, X.nnz)).astype(self.dtype)
        # the kernel takes the batch's rows of the whole matrices (no slices built here) unless corrupted
        return self._backend.autorec_batch(
            X, Y, self._params, self._state1, self._state2, ACTIVATIONS[self.hidden_activation],
            ACTIVATIONS[self.output_activation], self.l2 * len(rows) / ts.n_examples,
            OPTIMIZERS[self.optimizer], self.lr, self.momentum, ts.step, loss_kind=0, rows=whole)

    # --------------------------------------------------------------- prediction
    def _check_fitted(self):
        if getattr(self, "_params", None) is None:
            raise RuntimeError("AutoRec is not fitted: call fit() or autorec_fast.train()")

    def _known(self):
        if self.variant == "item":
            return self._observed_cols, self._observed_rows
        return self._observed_rows, self._observed_cols

    def _predict_unknown(self, users, items):
        """Pairs whose user or item had no training ratings. When the output side (the user
        of I-AutoRec, the item of U-AutoRec) was trained and only the example side is empty,
        the network's own output for an empty input vector (what it learned of that output
        for an example it knows nothing about); the training mean otherwise."""
        out = np.full(users.shape, self.mean_, dtype=np.float64)
        user_known, item_known = self._known()
        outp, ex, n_out, n_ex, output_known = (
            (users, items, self.n_users, self.n_items, user_known) if self.variant == "item"
            else (items, users, self.n_items, self.n_users, item_known))
        ok = (outp >= 0) & (outp < n_out) & (ex >= 0) & (ex < n_ex)
        ok[ok] = output_known[outp[ok]]
        if ok.any():
            out[ok] = self._predict_known(users[ok], items[ok])
        return out

    def _predict_known(self, users, items):
        """Model outputs for in-range pairs: only the needed examples are encoded and
        only the requested outputs decoded."""
        ex, outp = (items, users) if self.variant == "item" else (users, items)
        uniq, inverse = np.unique(ex, return_inverse=True)
        pred = self._backend.autorec_predict(
            self._inputs[uniq], self._params, ACTIVATIONS[self.hidden_activation],
            ACTIVATIONS[self.output_activation], inverse.astype(np.int64), outp.astype(np.int64))
        return pred.astype(np.float64)

    def _score_csr(self, X):
        raise ValueError("AutoRec predicts ratings: use predict(users, items) and "
                         "autorec_fast.evaluate(model, test, ['rmse', 'mae'])")

    # ---------------------------------------------------------------- save/load
    _HYPER = ("variant", "hidden", "hidden_activation", "output_activation", "l2", "epochs",
              "batch_size", "lr", "optimizer", "momentum", "corruption", "noise", "patience",
              "clip", "init", "seed")

    def _state(self):
        Vt, mu, W, b = (self._backend.to_host(p) for p in self._params)
        arrays, meta = self._rating_state()
        arrays.update(Vt=Vt, mu=mu, W=W, b=b, inputs_indptr=self._inputs.indptr,
                      inputs_indices=self._inputs.indices, inputs_data=self._inputs.data,
                      targets_indptr=self._targets.indptr, targets_indices=self._targets.indices,
                      targets_data=self._targets.data)
        meta["n_features"] = self._n_features
        return arrays, meta

    @classmethod
    def _from_state(cls, arrays, meta, device):
        meta = {"init": "glorot", **meta}  # files written before the option existed
        model = cls._rating_model_from_state(arrays, meta, device)
        model._n_features = meta_count(meta, "n_features")
        n_ex, n_out = (model.n_items, model.n_users) if model.variant == "item" else (model.n_users, model.n_items)
        model._inputs = canonical_csr(sp.csr_matrix(
            (arrays["inputs_data"], arrays["inputs_indices"], arrays["inputs_indptr"]),
            shape=(n_ex, n_out + model._n_features)), model.dtype, "model file inputs")
        model._targets = canonical_csr(sp.csr_matrix(
            (arrays["targets_data"], arrays["targets_indices"], arrays["targets_indptr"]),
            shape=(n_ex, n_out)), model.dtype, "model file targets")
        model._observed_rows = np.diff(model._targets.indptr) > 0
        model._observed_cols = np.bincount(model._targets.indices, minlength=n_out) > 0
        params = tuple(np.ascontiguousarray(arrays[k], dtype=model.dtype) for k in ("Vt", "mu", "W", "b"))
        k = model.hidden
        if (params[0].shape != (n_out + model._n_features, k) or params[1].shape != (k,)
                or params[2].shape != (n_out, k) or params[3].shape != (n_out,)):
            raise ValueError("model file: parameter shapes do not match the metadata")
        model._params = tuple(model._backend.asarray(p) for p in params)
        return model
