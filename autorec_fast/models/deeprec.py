"""DeepRec (Kuchaiev & Ginsburg, NVIDIA 2017): a deep user-based autoencoder for
rating prediction with dense re-feeding.

    encoder n → l₀ → … → l_L (activation after each layer), dropout on the code,
    decoder mirrored back to n (activation after each layer, the last with
    ``last_layer_activation``), decoder weights tied to the encoder's transposes
    when ``constrained``. Loss: masked MSE, the mean over the observed entries.
    With ``center`` the network sees and predicts ratings minus a bias baseline.

Each batch takes two steps: (1) on the sparse input against the observed
ratings, (2) ``refeed_steps`` times on the dense output f(x) of step (1)
against itself (dense re-feeding, all entries).

Kernels: the sparse input layer forward (``csr_matmul_dense``) and, in step
(1), the output-layer gradient from the observed entries only: both sparse
outer products into the item-sized weight share one pass with the fused
momentum step (``sparse_input_grad_step`` over the stacked [X; dOut] pattern,
``csrc/cpu/sparse_layer.cpp``); dense layers and the re-feeding pass through BLAS.

On ``device="cuda"`` (``CudaBackend``) the same steps run on the GPU with the same
random draws (shuffling and dropout masks from the seeded host generator,
uploaded): the sparse products through cuSPARSE (CuPy's csr_matrix), the dense
layers through cuBLAS, the gather of the outputs at the observed ratings with
the batch's CSR pattern, the element-wise passes in ``csrc/cuda/dense_ops.cu`` and ``loss.cu``
and the optimizer steps in ``csrc/cuda/optim.cu``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._validation import canonical_csr, check_fraction, check_positive
from ._shared import ACTIVATIONS, OPTIMIZERS, RatingModel, check_layers, choice, item_offsets, user_offsets
from ._training import GradientTrained

MILESTONES = (24, 36, 48, 66, 72)  # the reference's lr halvings (epochs)
MAX_REFEED_STEPS = 10


#: ``epochs="auto"``: enough epochs for about this many optimizer steps (batches), at
#: least AUTO_MIN_EPOCHS and at most AUTO_MAX_EPOCHS
AUTO_STEPS, AUTO_MIN_EPOCHS, AUTO_MAX_EPOCHS = 400, 5, 100


def auto_epochs(n_users: int, batch_size: int) -> int:
    """The number of epochs ``epochs="auto"`` trains for ``n_users`` users with ratings."""
    batches = -(-n_users // batch_size)
    return int(min(AUTO_MAX_EPOCHS, max(AUTO_MIN_EPOCHS, -(-AUTO_STEPS // batches))))


class DeepRec(RatingModel, GradientTrained):
    """Deep autoencoder for ratings (NVIDIA DeepRec).

    The defaults are not the reference's: NVIDIA's Netflix settings (three wide
    layers, momentum SGD, re-feeding, raw ratings in and out) reach only the global
    mean's RMSE on MovieLens-sized data (ML-100K test RMSE ~1.00 against 0.944 for
    a bias baseline, ~6 min a fit). The defaults were chosen by a grid search on
    ML-100K (all and 50 % of the training ratings) and a synthetic ML-1M shape,
    validation-set early stopping, 3 seeds (``benchmarks/accuracy/rating_defaults.py``;
    numbers in BENCHMARKS.md): one tied layer of 256, the ratings centred by a
    bias baseline (``center="bias"``) and a linear output, a small initialisation
    (``init_scale=0.03``, so the first predictions are the baseline's rather than
    Xavier noise around it), dropout 0.9, Adam at 3e-4, no re-feeding, no
    schedule. The reference settings are one argument away::

        DeepRec(**DeepRec.REFERENCE)   # or af.train("deeprec", data, **af.DeepRec.REFERENCE)

    Parameters
    ----------
    layers : list of int
        Encoder sizes after the input (default [256]; reference [512, 512, 1024]); the
        decoder mirrors them.
    activation : str
        selu (default and reference), elu, relu, sigmoid, tanh or identity; applied after
        every hidden layer, and after the output layer with ``last_layer_activation``.
    last_layer_activation : bool
        Apply ``activation`` to the output too (reference: True, as NVIDIA's
        ``last_layer_activations``; default False: a linear output, as centred targets need).
    center : {"bias", "item", None}
        Train on ratings minus an offset and add it back to the predictions: "bias"
        (default) the baseline predictor mean + b_user + b_item (regularised biases,
        10 alternating passes, shrinkage 15 for users and 10 for items: surprise's
        BaselineOnly); "item" the mean + b_item alone; None (reference) raw ratings. An
        unobserved input entry (0) then means "as the baseline predicts". The user
        offset of a row to score is computed from the row itself, so ``score`` and
        ``recommend`` fold in new users consistently.
    init_scale : float
        Multiplies the Xavier-uniform bound of every weight (reference 1; default 0.03).
    dropout : float
        Drop probability on the code layer in [0, 1) (default 0.9; reference 0.8).
    constrained : bool
        Tie decoder weights to the encoder's transposes (default and reference: True).
    refeed_steps : int
        Dense re-feeding steps per batch (reference: 1; default 0: disabled, and the
        output layer is evaluated at the observed ratings only).
    optimizer : {"momentum", "sgd", "adam"}
        "momentum" is SGD with ``momentum`` (reference: momentum 0.9, lr 0.005;
        default "adam", lr 3e-4).
    lr_schedule : {"deeprec", None}
        "deeprec" (reference) halves the learning rate at epochs 24, 36, 48, 66, 72;
        None (default) keeps it constant.
    l2 : float
        Weight decay (added to the gradients as l2·W, as torch.optim's weight_decay; 0).
    epochs : int or "auto"
        "auto" (default) is derived from the data size: enough epochs for about
        ``AUTO_STEPS`` = 400 optimizer steps, ceil(400 / batches per epoch), at least 5 and
        at most 100 (ML-100K: 50 epochs; 6,040 users: 9; 20,000 users or more: 5). In the
        search the best validation epoch came after 150–310 steps on ML-100K and the
        synthetic ML-1M shape whatever the number of users; beyond the minimum of 5 epochs
        on large data the rule is untested. The reference trains 100.
    batch_size (reference 128), lr, seed, dtype, device, verbose, patience, clip :
        as AutoRec's; ``validation=`` in fit takes test-style ratings (RMSE). With
        ``device="cuda"`` the parameters live on the GPU; the random draws
        (shuffling, dropout) come from the same seeded host generator as on the CPU.
    """

    name = "deeprec"
    #: NVIDIA's Netflix settings (the defaults before issue 13): ``DeepRec(**DeepRec.REFERENCE)``
    REFERENCE = dict(layers=[512, 512, 1024], activation="selu", dropout=0.8, constrained=True,
                     refeed_steps=1, optimizer="momentum", lr=0.005, momentum=0.9,
                     lr_schedule="deeprec", batch_size=128, epochs=100, l2=0.0,
                     last_layer_activation=True, center=None, init_scale=1.0)
    #: without re-feeding, evaluate the output layer at the observed ratings only
    #: (False: the dense output layer, the same values; tests compare the two)
    _sampled_output = True

    def __init__(self, layers=(256,), activation: str = "selu", dropout: float = 0.9,
                 constrained: bool = True, refeed_steps: int = 0, optimizer: str = "adam",
                 lr: float = 3e-4, momentum: float = 0.9, lr_schedule: str | None = None,
                 batch_size: int = 128, epochs: int | str = "auto", l2: float = 0.0,
                 patience: int | None = None, clip: bool = True, seed: int = 0, dtype="float32",
                 device: str = "cpu", verbose: bool = False, last_layer_activation: bool = False,
                 center: str | None = "bias", init_scale: float = 0.03):
        super().__init__(device)
        self.layers = check_layers(layers)
        self.activation = choice(activation, ACTIVATIONS, "activation")
        self.dropout = check_fraction(dropout, "dropout")
        self.constrained = bool(constrained)
        self.refeed_steps = check_positive(refeed_steps, "refeed_steps", integer=True, allow_zero=True)
        if self.refeed_steps > MAX_REFEED_STEPS:  # each multiplies the epoch's time; the reference uses 1
            raise ValueError(f"refeed_steps must be at most {MAX_REFEED_STEPS}, got {refeed_steps}")
        self.optimizer = choice(optimizer, ("momentum", "sgd", "adam"), "optimizer")
        self.momentum = check_positive(momentum, "momentum", allow_zero=True)
        self.lr_schedule = choice(lr_schedule, ("deeprec", None), "lr_schedule")
        self.clip = bool(clip)
        self.last_layer_activation = bool(last_layer_activation)
        self.center = choice(center, ("bias", "item", None), "center")
        self._item_offset = None
        self.init_scale = check_positive(init_scale, "init_scale")
        auto = isinstance(epochs, str) and epochs == "auto"
        if isinstance(epochs, str) and not auto:
            raise ValueError(f"epochs must be a positive integer or 'auto', got {epochs!r}")
        self._set_training_options(epochs=1 if auto else epochs, batch_size=batch_size, lr=lr, l2=l2,
                                   patience=patience, seed=seed, dtype=dtype, verbose=verbose)
        if auto:
            self.epochs = "auto"
        self._enc = None

    # ------------------------------------------------------------- parameters
    def _init(self, rng, n):
        dims = [n, *self.layers]
        bound = lambda a, b: self.init_scale * np.sqrt(6 / (a + b))  # noqa: E731
        xavier = lambda a, b: rng.uniform(-bound(a, b), bound(a, b), (a, b)).astype(self.dtype)  # noqa: E731
        dev = self._backend.asarray  # the parameters live on the backend's device
        self._enc = [dev(xavier(a, b)) for a, b in zip(dims[:-1], dims[1:])]  # E_i: d_i x d_{i+1}
        self._enc_b = [dev(np.zeros(b, self.dtype)) for b in dims[1:]]
        rdims = dims[::-1]
        # decoder layer j maps rdims[j] -> rdims[j+1]; tied: the transpose of E_{L-1-j}
        self._dec = None if self.constrained else [dev(xavier(a, b)) for a, b in zip(rdims[:-1], rdims[1:])]
        self._dec_b = [dev(np.zeros(b, self.dtype)) for b in rdims[1:]]

    def _dec_w(self, j):
        """Decoder layer j's weight (d_in x d_out), a transposed view when tied."""
        L = len(self._enc)
        return self._enc[L - 1 - j].T if self.constrained else self._dec[j]

    def _parameters(self):
        return self._enc + self._enc_b + (self._dec or []) + self._dec_b

    # ------------------------------------------------------------------ forward
    def _forward(self, X, rng, skip_output=False):
        """Activations of every layer for a batch (X sparse CSR or dense, on the
        ops' device; a host CSR also on CUDA); dropout on the code when rng is
        given (training), the mask drawn on the host. ``skip_output``: stop
        before the item-wide output layer (hs then ends with its input)."""
        ops = self._backend
        code = ACTIVATIONS[self.activation]
        if ops.issparse(X):
            h = ops.sparse_matmul(X, self._enc[0])
        else:
            h = ops.mm(X, self._enc[0])
        h = ops.bias_activation(h, self._enc_b[0], code)
        hs = [h]
        for i in range(1, len(self._enc)):
            h = ops.mm(hs[-1], self._enc[i])
            h = ops.bias_activation(h, self._enc_b[i], code)
            hs.append(h)
        mask = None
        if rng is not None and self.dropout > 0:
            mask = ops.asarray((rng.random(hs[-1].shape) >= self.dropout).astype(self.dtype) / (1 - self.dropout))
            hs.append(hs[-1] * mask)  # the dropped-out code feeds the decoder
        else:
            hs.append(hs[-1])
        L = len(self._enc)
        for j in range(L - (1 if skip_output else 0)):
            h = ops.mm(hs[-1], self._dec_w(j))
            h = ops.bias_activation(h, self._dec_b[j], self._output_code() if j == L - 1 else code)
            hs.append(h)
        return hs, mask

    def _output_code(self):
        """The output layer's activation code (identity without ``last_layer_activation``)."""
        return ACTIVATIONS[self.activation if self.last_layer_activation else "identity"]

    # --------------------------------------------------------------- centring
    def _centred(self, X):
        """(the network's input for host CSR ratings X, the rows' offsets): X and zeros
        without ``center``, else X minus each entry's offset (item offset + with
        ``center="bias"`` the row's user offset), the pattern kept."""
        if self.center is None:
            return X, np.zeros(X.shape[0])
        u_off = user_offsets(X, self._item_offset) if self.center == "bias" else np.zeros(X.shape[0])
        Xc = X.copy()
        Xc.data = (X.data - self._item_offset[X.indices] - np.repeat(u_off, np.diff(X.indptr))).astype(self.dtype)
        return Xc, u_off

    def _set_offsets(self, R, item_offset=None):
        """The item offsets (computed from R unless given) and R's centred copy."""
        if self.center is not None:
            self._item_offset = item_offsets(R, self.center == "bias") if item_offset is None else item_offset
        self._Rc, self._user_offset = self._centred(R)

    # ---------------------------------------------------------------- training
    def fit(self, data, validation=None, callback=None,
            on_divergence: str = "raise", callbacks=None) -> "DeepRec":
        """Train on ratings (users x items); ``validation``: ratings in the same index space.
        ``callback`` and ``on_divergence``: as :meth:`MultVAE.fit`'s."""
        R = self._ratings_matrix(data)
        self._R = R
        val = self._validation_data(validation)
        dims = [self.n_items, *self.layers]
        weights = sum(a * b for a, b in zip(dims[:-1], dims[1:]))
        n_params = weights * (1 if self.constrained else 2) + 2 * sum(dims[1:]) + self.n_items
        batch = min(self.batch_size, R.shape[0])
        # two optimizer states and the gradients; the dense output, its target and gradient (re-feeding)
        self._require_memory(n_params, 3, 6 * batch * (self.n_items + sum(dims[1:])),
                             f"{self.n_items:,} items, layers {self.layers}", val,
                             init_float64=max(a * b for a, b in zip(dims[:-1], dims[1:])))
        rng = np.random.default_rng(self.seed)
        self._init(rng, self.n_items)
        self._state1, self._state2 = self._zeros_like_parameters(2)
        self._set_offsets(R)
        self._X = self._backend.training_matrix(self._Rc)
        users = np.flatnonzero(np.diff(R.indptr) > 0)  # users without ratings teach nothing
        epochs = auto_epochs(len(users), self.batch_size) if self.epochs == "auto" else self.epochs
        return self._train_loop(users, rng, validation=val, callback=callback, callbacks=callbacks,
                                on_divergence=on_divergence, epochs=epochs)

    def _begin_epoch(self, epoch):
        self._lr = self.lr * (0.5 ** sum(epoch > m for m in MILESTONES) if self.lr_schedule else 1.0)
        return {"lr": self._lr}

    def _epoch_summary(self, total, n_batches):
        return {"loss": total / n_batches}

    def _train_batch(self, users, ts):
        """The sparse pass on the batch's ratings, then ``refeed_steps`` dense passes on
        its output (each its own optimizer step). Returns the sparse pass's loss."""
        out, loss = self._step(self._backend.rows(self._X, users), ts.rng, self._lr, ts.step, sparse_pass=True)
        for _ in range(self.refeed_steps):
            ts.step += 1
            self._step(out, ts.rng, self._lr, ts.step, sparse_pass=False)
        return loss  # on CUDA a device scalar: read once per epoch

    def _step(self, X, rng, lr, step, sparse_pass):
        """One optimizer step on a batch (X: a host CSR for the sparse pass, the
        previous output on the ops' device for re-feeding); returns (dense output
        before the step, loss; on CUDA the loss is a device scalar)."""
        ops = self._backend
        xp = ops.xp
        s1, s2 = self._state1, self._state2
        code, out_code = ACTIVATIONS[self.activation], self._output_code()
        Xd = ops.csr(X) if sparse_pass else X  # the batch on the device (the host CSR on the CPU)
        L = len(self._enc)
        # Without re-feeding nothing needs the dense output of the rating pass:
        # the output layer is evaluated at the observed ratings only (CPU).
        sampled = sparse_pass and self.refeed_steps == 0 and self._sampled_output
        hs, mask = self._forward(Xd, rng, skip_output=sampled)
        if sampled:
            out = ops.sampled_output(hs[-1], self._dec_w(L - 1).T, self._dec_b[L - 1], X, out_code)
        else:
            out = hs[-1]
        # masked MSE (mean over the observed entries) and its gradient at the output
        if sparse_pass:
            d_out, loss = ops.sparse_mse_grad(out, X, Xd, out_code)
        else:  # dense re-feeding: every non-zero of the dense target counts
            d_out, loss = ops.masked_mse_grad(out, X, out_code)
        # the output layer: decoder layer L-1 (weight E_0ᵀ when tied), input h_in
        h_in = hs[2 * L - 1]
        grads_dec, gb_dec = [None] * L, [None] * L
        if sparse_pass:
            gb_dec[L - 1] = ops.column_sums(d_out)
            dh = ops.sparse_matmul(d_out, xp.ascontiguousarray(self._dec_w(L - 1).T))
            if not self.constrained:
                grads_dec[L - 1] = ops.sparse_t_matmul(d_out, h_in).T
        else:
            gb_dec[L - 1] = d_out.sum(axis=0)
            dh = ops.mm(d_out, self._dec_w(L - 1).T)
            if not self.constrained:
                grads_dec[L - 1] = ops.mm(h_in.T, d_out)
        d = dh  # w.r.t. hs[2L-1], the input of the output layer
        for j in range(L - 2, -1, -1):  # decoder layer j: input hs[L+j], output hs[L+j+1]
            d = ops.mul_activation_grad(d, hs[L + j + 1], code)
            # tied: straight in E_{L-1-j}'s orientation (adding a transposed
            # array below would make NumPy buffer it element by element)
            grads_dec[j] = ops.mm(d.T, hs[L + j]) if self.constrained else ops.mm(hs[L + j].T, d)
            gb_dec[j] = d.sum(axis=0)
            d = ops.mm(d, self._dec_w(j).T)
        # d is w.r.t. the dropped-out code hs[L]: through the dropout, the code's activation
        if mask is not None:
            d = d * mask
        d = ops.mul_activation_grad(d, hs[L - 1], code)
        grads_enc, gb_enc = [None] * L, [None] * L
        for i in range(L - 1, 0, -1):  # encoder layer i: input hs[i-1], output hs[i]
            grads_enc[i] = ops.mm(hs[i - 1].T, d)
            gb_enc[i] = d.sum(axis=0)
            d = ops.mm(d, self._enc[i].T)
            d = ops.mul_activation_grad(d, hs[i - 1], code)
        gb_enc[0] = d.sum(axis=0)
        # tied weights: decoder layer j is E_{L-1-j}ᵀ, so its gradient adds transposed
        if self.constrained:
            for j in range(L - 1):
                grads_enc[L - 1 - j] += grads_dec[j]
        # optimizer steps
        opt = dict(optimizer=OPTIMIZERS["adam" if self.optimizer == "adam" else "sgd"], lr=lr,
                   momentum=self.momentum if self.optimizer == "momentum" else 0.0, step=step)
        params = self._parameters()
        index = {id(p): n for n, p in enumerate(params)}

        def apply(p, g, l2):
            n = index[id(p)]
            ops.step(p, g, s1[n], s2[n], l2, opt)

        # E_0: encoder input side (Xᵀ d) plus, when tied, the output side (d_outᵀ h_in)
        n0 = index[id(self._enc[0])]
        if sparse_pass:
            ops.sparse_input_step(Xd, d, self._enc[0], s1[n0], s2[n0], self.l2, opt,
                                  d_out=d_out if self.constrained else None, h_in=h_in)
        else:
            g0 = ops.dense_input_grad(X, d, d_out if self.constrained else None, h_in)
            apply(self._enc[0], g0, self.l2)
        for i in range(1, L):
            apply(self._enc[i], grads_enc[i], self.l2)
        for i in range(L):
            apply(self._enc_b[i], gb_enc[i], 0.0)
            apply(self._dec_b[i], gb_dec[i], 0.0)
            if not self.constrained:
                apply(self._dec[i], grads_dec[i], self.l2)
        return out, loss

    # --------------------------------------------------------------- prediction
    def _check_fitted(self):
        if self._enc is None:
            raise RuntimeError("DeepRec is not fitted: call fit() or autorec_fast.train()")

    def _known(self):
        return np.diff(self._R.indptr) > 0, np.bincount(self._R.indices, minlength=self.n_items) > 0

    def predict(self, users, items=None, *, clip: bool | None = None, unknown: str = "error",
                batch_size: int = 1024):
        """Predicted ratings for (user, item) index pairs (or one DataFrame of (user, item)
        original ids, as ``RatingModel.predict``): the output at the item of the user's
        reconstructed training row. Pairs whose user or item had no training ratings
        get the training mean; indices outside the training range raise a ValueError,
        or get the mean with ``unknown="default"``. Users are forwarded ``batch_size``
        at a time."""
        batch_size = check_positive(batch_size, "batch_size", integer=True)
        return super().predict(users, items, clip=clip, unknown=unknown, batch_size=batch_size)

    def _predict_known(self, users, items, batch_size):
        u, inv = np.unique(users, return_inverse=True)
        pred = np.empty(users.size)
        for s in range(0, u.size, batch_size):  # forward only the needed users
            chunk = slice(s, s + batch_size)
            rows = np.flatnonzero((inv >= s) & (inv < s + batch_size))
            dense = self._forward(self._Rc[u[chunk]], None)[0][-1]
            pred[rows] = self._backend.take(dense, inv[rows] - s, items[rows])
        if self.center is not None:
            pred += self._user_offset[users] + self._item_offset[items]
        return pred

    def _score_csr(self, X):
        """Dense outputs for a host CSR batch (a CuPy array on CUDA)."""
        Xc, u_off = self._centred(X)
        out = self._forward(Xc, None)[0][-1]
        if self.center is not None:
            dev = self._backend.asarray
            out += dev(u_off)[:, None] + dev(self._item_offset)[None, :]
        return out

    # ---------------------------------------------------------------- save/load
    _HYPER = ("layers", "activation", "dropout", "constrained", "refeed_steps", "optimizer", "lr",
              "momentum", "lr_schedule", "batch_size", "epochs", "l2", "patience", "clip", "seed",
              "last_layer_activation", "center", "init_scale")

    def _state(self):
        arrays, meta = self._rating_state()
        arrays.update(R_indptr=self._R.indptr, R_indices=self._R.indices, R_data=self._R.data)
        for n, p in enumerate(self._parameters()):
            arrays[f"p{n}"] = self._backend.to_host(p)  # host arrays on every device
        if self.center is not None:
            arrays["item_offset"] = self._item_offset
        return arrays, meta

    @classmethod
    def _from_state(cls, arrays, meta, device):
        meta = {"last_layer_activation": True, "center": None, "init_scale": 1.0, **meta}  # files from before these options
        model = cls._rating_model_from_state(arrays, meta, device)
        model._R = canonical_csr(sp.csr_matrix((arrays["R_data"], arrays["R_indices"], arrays["R_indptr"]),
                                               shape=(model.n_users, model.n_items)), model.dtype, "model file")
        if model.center is not None:
            offset = np.asarray(arrays["item_offset"], np.float64) if "item_offset" in arrays else None
            if offset is None or offset.shape != (model.n_items,):
                raise ValueError("model file: the item offsets do not match the metadata")
            model._set_offsets(model._R, offset)
        else:
            model._set_offsets(model._R)
        # the metadata's layer sizes decide the allocation below: they must fit the arrays saved
        dims = [model.n_items, *model.layers]
        weights = sum(a * b for a, b in zip(dims[:-1], dims[1:])) * (1 if model.constrained else 2)
        saved = sum(np.asarray(a).size for k, a in arrays.items() if k[:1] == "p" and k[1:].isdigit())
        if weights > saved:
            raise ValueError(f"model file: layers {model.layers} need {weights:,} weights but the file holds "
                             f"{saved:,} parameter values")
        model._init(np.random.default_rng(0), model.n_items)
        for n, p in enumerate(model._parameters()):
            src = arrays[f"p{n}"]
            if src.shape != p.shape:
                raise ValueError("model file: parameter shapes do not match the metadata")
            p[...] = model._backend.asarray(src)
        return model
