"""AutoRec (Sedhain et al., WWW 2015), item- or user-based, on sparse masked kernels.

    h(r) = f(W · g(V·r + μ) + b),  loss = Σ_observed (h(r)_u − r_u)² + λ/2 (‖W‖² + ‖V‖²)

I-AutoRec (``variant="item"``): each item is an example, its input the item's
ratings by all users; U-AutoRec (``variant="user"``): each user is an example.

Kernels: ``csrc/cpu/autorec.cpp`` and ``csrc/cuda/autorec.cu`` (encoder as a sparse x dense product over the
observed inputs, decoder and loss only at the observed targets, backward over
those entries, optimizer step fused per parameter row). Per mini-batch the
objective is the batch's squared error plus λ/2 (‖W‖² + ‖V‖²) scaled by the
batch's share of the examples, so one epoch sums to the paper's objective.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from .. import _backend
from .._validation import canonical_csr, check_positive
from ..interactions import as_interactions
from .base import BestEpochTracker, Recommender, squared_norm

ACTIVATIONS = {"identity": 0, "sigmoid": 1, "tanh": 2, "relu": 3, "elu": 4, "selu": 5}
OPTIMIZERS = {"none": 0, "sgd": 1, "adam": 2, "rprop": 3, "adagrad": 4}
VARIANTS = ("item", "user")
CORRUPTIONS = (None, "dropout", "gaussian")


def _choice(value, options, name):
    if value not in options:
        raise ValueError(f"{name} must be one of {sorted(o for o in options if o is not None)}, got {value!r}")
    return value


def _features(features, n_rows, dtype, name):
    """Side features -> canonical CSR with n_rows rows (dense or sparse input)."""
    if features is None:
        return None
    if sp.issparse(features):
        m = features
    else:
        arr = np.asarray(features)
        if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.number):
            raise ValueError(f"{name} must be a 2-D numeric array or sparse matrix, got shape {arr.shape}")
        m = sp.csr_matrix(arr)
    if m.shape[0] != n_rows:
        raise ValueError(f"{name} has {m.shape[0]} rows but the data has {n_rows}")
    return canonical_csr(m, dtype, name)


def cuda_autorec_batch(X, Y, params, state1, state2, k, dtype, hidden, output, l2_scale, optimizer,
                       lr, momentum, step, loss_acc, loss_kind):
    """One AutoRec-kernel batch on the GPU (AutoRec, CDAE). The batch's CSR arrays
    and their transposed patterns (built on the host, O(nnz)) go to the device;
    parameters and optimizer state never leave it; the loss accumulates in loss_acc."""
    import cupy as cp

    cpu = _backend._cpu
    n_in, n_out = X.shape[1], Y.shape[1]
    xt = cpu.transpose_pattern(X.indptr.astype(np.int64), X.indices.astype(np.int32), n_in)
    yt = cpu.transpose_pattern(Y.indptr.astype(np.int64), Y.indices.astype(np.int32), n_out)
    host = (X.indptr.astype(np.int64), X.indices.astype(np.int32), X.data.astype(dtype),
            Y.indptr.astype(np.int64), Y.indices.astype(np.int32), Y.data.astype(dtype), *xt, *yt)
    dev = [cp.asarray(a) for a in host]
    ptrs = [a.data.ptr for a in dev]
    H = cp.empty((X.shape[0], k), dtype)
    dZ = cp.empty_like(H)
    D = cp.empty(max(Y.nnz, 1), dtype)
    sfx = "f32" if dtype == np.float32 else "f64"
    tup = lambda arrs: None if arrs is None else tuple(a.data.ptr for a in arrs)  # noqa: E731
    getattr(_backend._cuda, f"autorec_batch_{sfx}")(
        X.shape[0], tuple(ptrs[0:3]), tuple(ptrs[3:6]), tuple(ptrs[6:9]), tuple(ptrs[9:12]),
        n_in, n_out, k, tup(params), None, tup(state1), tup(state2), hidden, output, l2_scale,
        optimizer, lr, 0.9, 0.999, 1e-8, momentum, step, H.data.ptr, dZ.data.ptr, D.data.ptr,
        loss_acc.data.ptr, cp.cuda.get_current_stream().ptr, loss_kind)


def cuda_autorec_encode(X, params, k, dtype, hidden):
    """H = g(X·Vt + mu) on the GPU for the rows of a host CSR X (a CuPy array)."""
    import cupy as cp

    dev = [cp.asarray(a) for a in (X.indptr.astype(np.int64), X.indices.astype(np.int32),
                                   X.data.astype(dtype))]
    H = cp.empty((X.shape[0], k), dtype)
    empty = cp.zeros(1, np.int64)
    sfx = "f32" if dtype == np.float32 else "f64"
    getattr(_backend._cuda, f"autorec_predict_{sfx}")(
        dev[0].data.ptr, dev[1].data.ptr, dev[2].data.ptr, X.shape[0], X.shape[1], params[2].shape[0],
        k, tuple(p.data.ptr for p in params), hidden, 0, empty.data.ptr, empty.data.ptr, 0,
        H.data.ptr, H.data.ptr, cp.cuda.get_current_stream().ptr)
    return H


def prepare_pairs(model, users, items, unknown, user_known, item_known):
    """Checks (user, item) index pairs for ``predict``; returns the index arrays,
    the output filled with the training mean, and the positions to compute
    (both indices in range and both with training ratings)."""
    users = np.asarray(users)
    items = np.asarray(items)
    if users.shape != items.shape or users.ndim != 1:
        raise ValueError(f"users and items must be 1-D arrays of equal length, got {users.shape} and {items.shape}")
    for arr, name in ((users, "users"), (items, "items")):
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"{name} must be integer indices, got dtype {arr.dtype}")
    _choice(unknown, ("error", "default"), "unknown")
    users = users.astype(np.int64)
    items = items.astype(np.int64)
    in_range = (users >= 0) & (users < model.n_users) & (items >= 0) & (items < model.n_items)
    if unknown == "error" and not in_range.all():
        bad_u = (users < 0) | (users >= model.n_users)
        name, n = ("users", model.n_users) if bad_u.any() else ("items", model.n_items)
        raise ValueError(f"{name} has indices outside the training range [0, {n}); pass "
                         f"unknown='default' to predict the training mean for them")
    out = np.full(users.shape, model.mean_, dtype=np.float64)
    idx = np.flatnonzero(in_range)
    idx = idx[user_known[users[idx]] & item_known[items[idx]]]
    return users, items, out, idx


class AutoRec(Recommender):
    """AutoRec rating prediction.

    Parameters
    ----------
    variant : {"item", "user"}
        I-AutoRec (items are examples; the paper's best) or U-AutoRec.
    hidden : int
        Hidden units k (paper: 500).
    hidden_activation, output_activation : str
        g and f: identity, sigmoid, tanh, relu, elu or selu (paper: sigmoid, identity).
    l2 : float
        λ of λ/2 (‖W‖² + ‖V‖²), >= 0.
    epochs, batch_size, lr : training schedule. ``optimizer="rprop"`` is a
        full-batch method: it uses all examples per step (batch_size is ignored).
    optimizer : {"adam", "sgd", "rprop"}
    momentum : float
        SGD momentum.
    corruption : {None, "dropout", "gaussian"}
        Denoising: drop observed inputs with probability ``noise`` (survivors
        scaled by 1/(1-noise)), or add N(0, noise²) to them. Targets stay clean.
    noise : float
    patience : int or None
        With validation data: stop after this many epochs without improvement.
        The parameters of the best validation epoch are kept either way.
    clip : bool
        Clip predictions to the training ratings' range.
    seed, dtype, device, verbose : as everywhere.

    Attributes
    ----------
    history : list of dict
        Per epoch: ``epoch``, ``loss`` (training objective), ``train_rmse``
        (on the observed training entries, in training mode), ``seconds`` and,
        with validation, ``val_rmse``.
    best_epoch : int
    """

    name = "autorec"
    predicts_ratings = True

    def __init__(self, variant: str = "item", hidden: int = 500, hidden_activation: str = "sigmoid",
                 output_activation: str = "identity", l2: float = 1.0, epochs: int = 50,
                 batch_size: int = 256, lr: float = 1e-3, optimizer: str = "adam",
                 momentum: float = 0.0, corruption: str | None = None, noise: float = 0.0,
                 patience: int | None = None, clip: bool = True, seed: int = 0,
                 dtype="float32", device: str = "cpu", verbose: bool = False):
        super().__init__(device)
        self.variant = _choice(variant, VARIANTS, "variant")
        self.hidden = check_positive(hidden, "hidden", integer=True)
        self.hidden_activation = _choice(hidden_activation, ACTIVATIONS, "hidden_activation")
        self.output_activation = _choice(output_activation, ACTIVATIONS, "output_activation")
        self._set_training_options(epochs=epochs, batch_size=batch_size, lr=lr, l2=l2,
                                   patience=patience, seed=seed, dtype=dtype, verbose=verbose)
        self.optimizer = _choice(optimizer, {k for k in OPTIMIZERS if k not in ("none", "adagrad")},
                                 "optimizer")
        self.momentum = check_positive(momentum, "momentum", allow_zero=True)
        self.corruption = _choice(corruption, CORRUPTIONS, "corruption")
        self.noise = check_positive(noise, "noise", allow_zero=True)
        if corruption == "dropout" and not self.noise < 1:
            raise ValueError(f"noise must be in [0, 1) for dropout corruption, got {noise}")
        self.clip = bool(clip)

    # ------------------------------------------------------------------ fitting
    def fit(self, data, validation=None, user_features=None, item_features=None) -> "AutoRec":
        """Train on ratings; ``validation``: Interactions in the same index space.

        ``item_features`` (I-AutoRec) or ``user_features`` (U-AutoRec): one row
        per example, concatenated to its input vector (the hybrid extension).
        """
        inter = as_interactions(data)
        R = canonical_csr(inter.matrix, self.dtype, "data")
        if R.nnz == 0:
            raise ValueError("data has no ratings")
        self.user_ids, self.item_ids = np.asarray(inter.user_ids), np.asarray(inter.item_ids)
        self.n_users, self.n_items = R.shape
        examples = canonical_csr(R.T, self.dtype, "data") if self.variant == "item" else R
        own, other = ("item_features", "user_features") if self.variant == "item" else ("user_features", "item_features")
        given = {"item_features": item_features, "user_features": user_features}
        if given[other] is not None:
            raise ValueError(f"{other} cannot be concatenated to the inputs of {self.variant}-based "
                             f"AutoRec (its examples are {self.variant}s); pass {own}")
        feats = _features(given[own], examples.shape[0], self.dtype, own)
        self._n_features = 0 if feats is None else feats.shape[1]
        self._inputs = examples if feats is None else canonical_csr(sp.hstack([examples, feats], format="csr"),
                                                                    self.dtype, own)
        self._targets = examples
        self._observed_rows = np.diff(examples.indptr) > 0  # examples with training ratings
        self._observed_cols = np.bincount(examples.indices, minlength=examples.shape[1]) > 0
        self.mean_ = float(R.data.mean())
        self.rating_range_ = (float(R.data.min()), float(R.data.max()))
        val = self._validation_pairs(validation)

        rng = np.random.default_rng(self.seed)
        n_in, n_out, k = self._inputs.shape[1], examples.shape[1], self.hidden
        self._params = self._init_params(rng, n_in, n_out, k)
        xp = self._array_module()
        if xp is not np:  # parameters and optimizer state live on the device
            self._params = tuple(xp.asarray(p) for p in self._params)
            self._loss_acc = xp.zeros(1, dtype=np.float64)
        zeros = lambda: tuple(xp.zeros_like(p) for p in self._params)  # noqa: E731
        state1 = zeros() if self.optimizer in ("adam", "rprop") or self.momentum else None
        state2 = zeros() if self.optimizer in ("adam", "rprop") else None
        if self.optimizer == "rprop":  # torch.optim.Rprop: initial step = lr
            for s in state2:
                s.fill(self.lr)
        n_ex = examples.shape[0]
        batch = n_ex if self.optimizer == "rprop" else min(self.batch_size, n_ex)
        tracker, step = BestEpochTracker(self.patience), 0
        self.history = []
        for epoch in range(1, self.epochs + 1):
            t0 = time.perf_counter()
            order = rng.permutation(n_ex)
            sse = 0.0
            if xp is not np:
                self._loss_acc.fill(0)
            for start in range(0, n_ex, batch):
                rows = np.sort(order[start : start + batch])
                step += 1
                sse += self._train_batch(rows, rng, state1, state2, step, len(rows) / n_ex)
            if xp is not np:
                sse = float(self._loss_acc.get()[0])
            reg = 0.5 * self.l2 * (squared_norm(self._params[0]) + squared_norm(self._params[2]))
            entry = {"epoch": epoch, "loss": float(sse + reg),
                     "train_rmse": float(np.sqrt(sse / examples.nnz)),
                     "seconds": time.perf_counter() - t0}
            score = None
            if val is not None:
                entry["val_rmse"] = float(np.sqrt(np.mean((self.predict(*val[:2], unknown="default") - val[2]) ** 2)))
                score = -entry["val_rmse"]
            if self._end_epoch(entry, tracker, score,
                               lambda: tuple(p.copy() for p in self._params)):  # NumPy or CuPy
                break
        if tracker.best_state is not None:
            self._params, self.best_epoch = tracker.best_state, tracker.best_epoch
        else:
            self.best_epoch = len(self.history)
        return self

    def _init_params(self, rng, n_in, n_out, k):
        """Glorot-uniform V and W, zero biases (V stored transposed: n_in x k)."""
        dt = self.dtype
        a_v = np.sqrt(6.0 / (n_in + k))
        a_w = np.sqrt(6.0 / (n_out + k))
        # drawn in the model's dtype and scaled in place: no float64 temporaries
        # (halves the set-up of a train() call on ML-1M-sized data)
        Vt = rng.random((n_in, k), dtype=dt)
        W = rng.random((n_out, k), dtype=dt)
        for P, a in ((Vt, a_v), (W, a_w)):
            P *= dt.type(2 * a)
            P -= dt.type(a)
        return (Vt, np.zeros(k, dt), W, np.zeros(n_out, dt))

    def _train_batch(self, rows, rng, state1, state2, step, share):
        corrupt = self.corruption is not None and self.noise > 0
        if self.device == "cpu" and not corrupt:
            # the kernel takes the batch's rows of the whole matrices (no slices built here)
            return self._train_batch_cpu(self._inputs, self._targets, state1, state2, step, share,
                                         rows=rows.astype(np.int64, copy=False))
        Y = self._targets[rows]
        X = Y if self._inputs is self._targets else self._inputs[rows]  # no side features: one slice
        if corrupt:
            X = X.copy()
            # corrupt the rating part only, not the side features
            is_rating = X.indices < self._targets.shape[1]
            if self.corruption == "dropout":
                keep = rng.random(X.nnz) >= self.noise
                X.data = np.where(is_rating, np.where(keep, X.data / (1 - self.noise), 0), X.data).astype(self.dtype)
            else:
                X.data = (X.data + is_rating * rng.normal(0, self.noise, X.nnz)).astype(self.dtype)
        if self.device == "cuda":
            self._train_batch_cuda(X, Y, state1, state2, step, share)
            return 0.0  # accumulated on the device, read once per epoch
        return self._train_batch_cpu(X, Y, state1, state2, step, share)

    def _train_batch_cpu(self, X, Y, state1, state2, step, share, rows=None):
        return _backend._cpu.autorec_batch(
            X.indptr, X.indices, X.data, Y.indptr, Y.indices, Y.data, self._params, None, state1,
            state2, ACTIVATIONS[self.hidden_activation], ACTIVATIONS[self.output_activation],
            self.l2 * share, OPTIMIZERS[self.optimizer], self.lr, momentum=self.momentum, step=step,
            rows=rows)

    def _train_batch_cuda(self, X, Y, state1, state2, step, share):
        cuda_autorec_batch(X, Y, self._params, state1, state2, self.hidden, self.dtype,
                           ACTIVATIONS[self.hidden_activation], ACTIVATIONS[self.output_activation],
                           self.l2 * share, OPTIMIZERS[self.optimizer], self.lr, self.momentum, step,
                           self._loss_acc, loss_kind=0)

    def _validation_pairs(self, validation):
        if validation is None:
            return None
        inter = as_interactions(validation)
        if inter.shape != (self.n_users, self.n_items):
            raise ValueError(f"validation must be in the training data's index space "
                             f"({self.n_users} x {self.n_items}), got {inter.shape}")
        users, items, ratings, _ = inter.to_coo_arrays()
        if len(ratings) == 0:
            raise ValueError("validation has no ratings")
        return users.astype(np.int64), items.astype(np.int64), np.asarray(ratings, np.float64)

    # --------------------------------------------------------------- prediction
    def _check_fitted(self):
        if getattr(self, "_params", None) is None:
            raise RuntimeError("AutoRec is not fitted: call fit() or autorec_fast.train()")

    def predict(self, users, items, *, clip: bool | None = None, unknown: str = "error"):
        """Predicted ratings for (user, item) index pairs.

        ``users`` and ``items`` are row / column indices of the training matrix
        (``model.user_ids`` / ``model.item_ids`` hold the original ids). Pairs
        whose user or item had no training ratings get the training mean
        (``model.mean_``). Indices outside the training range raise a
        ValueError, or get the training mean with ``unknown="default"``.
        Only the needed examples are encoded and only the requested outputs decoded.
        """
        self._check_fitted()
        if self.variant == "item":
            user_known, item_known = self._observed_cols, self._observed_rows
        else:
            user_known, item_known = self._observed_rows, self._observed_cols
        users, items, out, idx = prepare_pairs(self, users, items, unknown, user_known, item_known)
        if idx.size:
            out[idx] = self._predict_index(users[idx], items[idx], raw=True)
        do_clip = self.clip if clip is None else bool(clip)
        if do_clip:
            np.clip(out, *self.rating_range_, out=out)
        return out

    def _predict_index(self, users, items, raw=False):
        """Model outputs for in-range pairs (no defaults)."""
        ex, outp = (items, users) if self.variant == "item" else (users, items)
        uniq, inverse = np.unique(ex, return_inverse=True)
        X = self._inputs[uniq]
        rows, cols = inverse.astype(np.int64), outp.astype(np.int64)
        if self.device == "cuda":
            pred = self._predict_cuda(X, rows, cols)
        else:
            pred = _backend._cpu.autorec_predict(
                X.indptr, X.indices, X.data, self._params, ACTIVATIONS[self.hidden_activation],
                ACTIVATIONS[self.output_activation], rows, cols)
        pred = pred.astype(np.float64)
        if not raw and self.clip:
            np.clip(pred, *self.rating_range_, out=pred)
        return pred

    def _predict_cuda(self, X, rows, cols):
        import cupy as cp

        if rows.size and (cols.min() < 0 or cols.max() >= self._targets.shape[1]):
            raise ValueError("output index out of range")
        # The kernel reads int64 row pointers and int32 columns; SciPy may hold either width.
        dev = [cp.asarray(a) for a in (X.indptr.astype(np.int64), X.indices.astype(np.int32),
                                       X.data.astype(self.dtype, copy=False), rows, cols)]
        H = cp.empty((X.shape[0], self.hidden), self.dtype)
        out = cp.empty(max(rows.size, 1), self.dtype)
        sfx = "f32" if self.dtype == np.float32 else "f64"
        getattr(_backend._cuda, f"autorec_predict_{sfx}")(
            dev[0].data.ptr, dev[1].data.ptr, dev[2].data.ptr, X.shape[0], self._inputs.shape[1],
            self._targets.shape[1], self.hidden, tuple(p.data.ptr for p in self._params),
            ACTIVATIONS[self.hidden_activation], ACTIVATIONS[self.output_activation],
            dev[3].data.ptr, dev[4].data.ptr, rows.size, H.data.ptr, out.data.ptr,
            cp.cuda.get_current_stream().ptr)
        return out[: rows.size].get()

    def _score_csr(self, X):
        raise ValueError("AutoRec predicts ratings: use predict(users, items) and "
                         "autorec_fast.evaluate(model, test, ['rmse', 'mae'])")

    # ---------------------------------------------------------------- save/load
    _HYPER = ("variant", "hidden", "hidden_activation", "output_activation", "l2", "epochs",
              "batch_size", "lr", "optimizer", "momentum", "corruption", "noise", "patience",
              "clip", "seed")

    def _state(self):
        Vt, mu, W, b = (p.get() if hasattr(p, "get") else p for p in self._params)
        arrays = {"Vt": Vt, "mu": mu, "W": W, "b": b, "user_ids": self.user_ids, "item_ids": self.item_ids,
                  "inputs_indptr": self._inputs.indptr, "inputs_indices": self._inputs.indices,
                  "inputs_data": self._inputs.data, "targets_indptr": self._targets.indptr,
                  "targets_indices": self._targets.indices, "targets_data": self._targets.data}
        meta = {k: getattr(self, k) for k in self._HYPER}
        meta.update(dtype=self.dtype.name, mean=self.mean_, rating_range=list(self.rating_range_),
                    n_users=self.n_users, n_items=self.n_items, n_features=self._n_features,
                    best_epoch=self.best_epoch, history=self.history)
        return arrays, meta

    @classmethod
    def _from_state(cls, arrays, meta, device):
        model = cls(**{k: meta[k] for k in cls._HYPER}, dtype=meta["dtype"], device=device)
        model.n_users, model.n_items = int(meta["n_users"]), int(meta["n_items"])
        model.user_ids, model.item_ids = arrays["user_ids"], arrays["item_ids"]
        model.mean_ = float(meta["mean"])
        model.rating_range_ = tuple(meta["rating_range"])
        model._n_features = int(meta["n_features"])
        model.best_epoch = int(meta["best_epoch"])
        model.history = list(meta["history"])
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
        if params[0].shape != (n_out + model._n_features, k) or params[2].shape != (n_out, k):
            raise ValueError("model file: parameter shapes do not match the metadata")
        if device == "cuda":
            import cupy as cp

            params = tuple(cp.asarray(p) for p in params)
        model._params = params
        return model
