"""Mult-VAE and Mult-DAE (Liang et al., WWW 2018): autoencoders with a
multinomial likelihood over all items, for implicit feedback.

Input rows are L2-normalised (eps 1e-12) then dropped out (keep probability
1 - dropout, inverted scaling) on their non-zero entries only: nothing the
size of batch x items is built for the input. Layers: tanh between layers,
none on the output (and none on μ / log σ² for the VAE). Loss per batch:
mean over users of −Σ_i x_i log softmax(logits)_i, plus β·KL (VAE, β =
min(beta_cap, step / anneal_steps), one step per batch) and l2·Σ‖W‖² (weights
only; the DAE default 0.01/500 is the reference's).

Kernels: the sparse input layer (``csr_matmul_dense`` forward,
``sparse_input_grad_step`` for Xᵀ·dH with the fused Adam step, both in
``csrc/cpu/``), the fused bias + log-softmax + loss + gradient over the dense
logits (``csrc/cpu/loss.cpp``), the dense layers through BLAS (NumPy's
matmul), Adam over dense parameters in ``csrc/cpu/optim.cpp``.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_fraction, check_positive
from ._shared import OPTIMIZERS, ImplicitModel, check_layers, meta_count
from ._training import GradientTrained, check_anneal_steps, kl_weight


class MultVAE(ImplicitModel, GradientTrained):
    """Mult-VAE: variational autoencoder with a multinomial likelihood.

    Parameters
    ----------
    layers : list of int
        Hidden sizes after the input, ending with the latent size: [600, 200]
        gives I-600-200-600-I (the reference architecture).
    dropout : float
        Input dropout probability (reference: 0.5), in [0, 1).
    beta_cap, anneal_steps : KL annealing: β = min(beta_cap, step / anneal_steps), one
        step per batch. ``anneal_steps="auto"`` (default) scales the ramp to the run: β
        rises linearly to ``beta_cap`` over the first 80 % of the run's batches (epochs x
        batches per epoch), whatever the data's size. The reference's fixed 200,000
        steps (``anneal_steps=200_000``) reach the cap only on large data: on ML-20M at
        85 % of 200 epochs, but on ML-100K (2 batches per epoch) never (β stays below
        0.002, and the model trains as a denoising autoencoder).
    epochs, batch_size, lr : Adam schedule (reference: 200 epochs, 500 users, 1e-3).
    l2 : float
        λ of λ·Σ‖W‖² over the weights (not biases).
    metric : str
        Validation metric (with ``validation=`` in fit), e.g. "ndcg@100".
    patience : int or None
        With ``validation``: stop after this many epochs without a better validation
        metric (default 50, a quarter of the default run; None trains every epoch);
        the best epoch's parameters are kept either way.
    seed, dtype, device, verbose
        As for the other models. With ``device="cuda"`` the
        parameters live on the GPU; the random draws (shuffling, dropout, the
        VAE's noise) come from the same seeded host generator as on the CPU.
    """

    name = "multvae"
    variational = True
    _optimizer = "adam"  # the reference's; tests switch to "sgd" to read gradients off a step

    def __init__(self, layers=(600, 200), dropout: float = 0.5, beta_cap: float = 0.2,
                 anneal_steps="auto", epochs: int = 200, batch_size: int = 500,
                 lr: float = 1e-3, l2: float = 0.0, metric: str = "ndcg@100",
                 patience: int | None = 50, seed: int = 0, dtype="float32", device: str = "cpu",
                 verbose: bool = False):
        self._setup(layers, dropout, epochs, batch_size, lr, l2, metric, patience, seed, dtype,
                    device, verbose)
        self.beta_cap = check_positive(beta_cap, "beta_cap", allow_zero=True)
        self.anneal_steps = check_anneal_steps(anneal_steps)

    def _setup(self, layers, dropout, epochs, batch_size, lr, l2, metric, patience, seed, dtype,
               device, verbose):
        super().__init__(device)
        self.layers = check_layers(layers)
        if self.variational and len(self.layers) < 1:
            raise ValueError("layers must end with the latent size")
        self.dropout = check_fraction(dropout, "dropout")
        self.metric = self._check_metric(metric)
        self._set_training_options(epochs=epochs, batch_size=batch_size, lr=lr, l2=l2,
                                   patience=patience, seed=seed, dtype=dtype, verbose=verbose)
        self._weights = None

    # ------------------------------------------------------------ architecture
    def _dims(self, n_items):
        """(encoder dims, decoder dims) including the item layer at both ends."""
        hidden, latent = self.layers[:-1], self.layers[-1]
        enc = [n_items, *hidden, 2 * latent if self.variational else latent]
        dec = [latent, *reversed(hidden), n_items]
        return enc, dec

    def _init(self, rng, n_items):
        enc, dec = self._dims(n_items)
        shapes = list(zip(enc[:-1], enc[1:])) + list(zip(dec[:-1], dec[1:]))
        self._n_enc = len(enc) - 1
        W, b = [], []
        for fan_in, fan_out in shapes:  # Xavier-uniform weights, biases ~ N(0, 0.001)
            bound = np.sqrt(6.0 / (fan_in + fan_out))
            W.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(self.dtype))
            b.append(rng.normal(0.0, 0.001, fan_out).astype(self.dtype))
        self._weights = [self._backend.asarray(w) for w in W]
        self._biases = [self._backend.asarray(x) for x in b]

    # ----------------------------------------------------------------- forward
    def _input(self, X, rng=None):
        """Row-normalised (L2, eps 1e-12) and, when training, dropped-out copy of
        the batch's sparse values; the pattern is X's."""
        row_nnz = np.diff(X.indptr)
        rows = np.repeat(np.arange(X.shape[0]), row_nnz)
        norms = np.sqrt(np.bincount(rows, weights=np.square(X.data, dtype=np.float64),
                                    minlength=X.shape[0]))
        data = X.data / np.maximum(norms, 1e-12)[rows]
        if rng is not None and self.dropout > 0:
            keep = rng.random(X.nnz) >= self.dropout
            data = np.where(keep, data / (1 - self.dropout), 0.0)
        Xn = X.copy()
        Xn.data = data.astype(self.dtype)
        return Xn

    def _forward(self, X, rng, train):
        """Layer inputs and the output pre-activations for a batch of rows.

        Returns (out, inputs, aux): ``out`` is the last layer's output, with its
        bias added only when not training (the fused loss kernel adds it);
        ``inputs[i]`` is layer i's input (``inputs[0]``: the normalised sparse
        batch); ``aux`` = (mu, logvar, std, eps) for the VAE.
        """
        W, b, ops = self._weights, self._biases, self._backend
        xp = ops.xp
        n_layers = len(W)
        Xn = self._input(X, rng if train else None)
        pre = ops.sparse_matmul(Xn, W[0])
        pre += b[0]
        inputs, aux = [Xn], None
        for i in range(1, n_layers):
            if i == self._n_enc and self.variational:
                latent = self.layers[-1]
                mu, logvar = pre[:, :latent], pre[:, latent:]
                if train:
                    std = xp.exp(0.5 * logvar)
                    eps = ops.asarray(rng.standard_normal(mu.shape).astype(self.dtype))
                    a = mu + eps * std
                else:  # z = mu at test time
                    std = eps = None
                    a = xp.ascontiguousarray(mu)
                aux = (mu, logvar, std, eps)
            else:
                a = xp.tanh(pre)
            inputs.append(a)
            pre = ops.mm(a, W[i])
            if i < n_layers - 1 or not train:
                pre += b[i]
        return pre, inputs, aux

    def _score_csr(self, X):
        logits, _, _ = self._forward(X, None, train=False)
        return logits

    # ---------------------------------------------------------------- training
    def fit(self, data, validation=None, callback=None,
            on_divergence: str = "raise", callbacks=None) -> "MultVAE":
        """Train on implicit feedback (positive values are binarised to 1).

        ``validation``: a FoldInOut of held-out users (e.g. ``split.validation``),
        scored every epoch with ``metric``; the best epoch's parameters are kept.
        ``callbacks``: functions ``f(model, entry)`` called after every epoch with its
        history entry; one returning False stops training (an exception propagates
        with a note naming the epoch). ``callback``: the single callback of earlier
        versions, kept as it was: returning True stops.
        ``on_divergence``: "raise" (a FloatingPointError when the loss turns NaN/inf) or
        "stop" (a warning; training ends with the best, or the last finite, epoch's parameters).
        """
        X = self._binary_matrix(data)
        enc, dec = self._dims(self.n_items)
        shapes = list(zip(enc[:-1], enc[1:])) + list(zip(dec[:-1], dec[1:]))
        batch = min(self.batch_size, X.shape[0])
        # Adam's two states and the dense layers' gradients; logits, their gradient and the layer activations
        self._require_memory(sum(a * b + b for a, b in shapes), 3,
                             3 * batch * self.n_items + 4 * batch * sum(b for _, b in shapes),
                             f"{self.n_items:,} items, layers {self.layers}", validation,
                             init_float64=max(a * b for a, b in shapes))
        rng = np.random.default_rng(self.seed)
        self._init(rng, self.n_items)
        self._state1, self._state2 = self._zeros_like_parameters(2)
        self._X = self._backend.training_matrix(X)
        return self._train_loop(X.shape[0], rng, validation=validation, callback=callback, callbacks=callbacks,
                                on_divergence=on_divergence)

    def _parameters(self):
        return self._weights + self._biases

    def _epoch_summary(self, total, n_batches):
        return {"loss": total / self._X.shape[0]}

    def _train_batch(self, users, ts):
        beta = kl_weight(self.beta_cap, self.anneal_steps, ts) if self.variational else 0.0
        loss = self._batch_step(self._backend.rows(self._X, users), ts.rng, beta, ts.step)
        return loss * len(users)

    def _batch_step(self, Xb, rng, beta, step):
        """Forward, loss, backward and Adam on one batch; returns the batch's loss
        (mean NLL over its users + β·KL + l2·Σ‖W‖²)."""
        ops = self._backend
        xp = ops.xp
        W, b = self._weights, self._biases
        state1, state2 = self._state1, self._state2
        n_layers, B = len(W), Xb.shape[0]
        logits, inputs, aux = self._forward(Xb, rng, train=True)
        # logits + bias -> d loss / d logits, in place (the mean over the batch's users)
        nll = ops.nll_grad(logits, b[-1], Xb.indptr, Xb.indices, Xb.data, 1.0 / B)
        d = logits
        kl = 0.0
        if aux is not None:
            mu, logvar, std, eps = aux
            kl = ops.scalar(xp.mean(-0.5 * xp.sum(1 + logvar - mu**2 - xp.exp(logvar), axis=1)))
        # λ·Σ‖W‖², reported only (its gradient is added in the optimizer steps)
        # not xp.dot: a BLAS dot here woke NumPy's OpenBLAS threads every batch; and a
        # backend scalar: on the GPU, reading a float back every batch waits for the device
        reg = self.l2 * sum(ops.sum_of_squares(w) for w in W) if self.l2 else 0.0
        opt = dict(optimizer=OPTIMIZERS[self._optimizer], lr=self.lr, step=step)
        bias_slot = n_layers  # state index of b[i] is n_layers + i
        for i in range(n_layers - 1, 0, -1):  # dense layers, BLAS
            a = inputs[i]
            gW = ops.mm(a.T, d)
            gb = d.sum(axis=0)
            d_prev = ops.mm(d, W[i].T)  # with W[i] before its update
            ops.step(W[i], gW, state1[i], state2[i], 2 * self.l2, opt)
            ops.step(b[i], gb, state1[bias_slot + i], state2[bias_slot + i], 0.0, opt)
            if i == self._n_enc and aux is not None:  # through z = mu + eps * std, plus β·KL
                d = xp.concatenate([d_prev + (beta / B) * mu,
                                    d_prev * eps * 0.5 * std + (beta * 0.5 / B) * (xp.exp(logvar) - 1)],
                                   axis=1)
            else:
                d = d_prev * (1 - a * a)  # tanh'
        # the sparse input layer: Xnᵀ·d with the Adam step fused per item row
        Xn = inputs[0]
        gb0 = d.sum(axis=0)
        ops.sparse_input_step(Xn, d, W[0], state1[0], state2[0], 2 * self.l2, opt)
        ops.step(b[0], gb0, state1[bias_slot], state2[bias_slot], 0.0, opt)
        return nll + beta * kl + reg

    # ---------------------------------------------------------------- save/load
    _HYPER = ("layers", "dropout", "epochs", "batch_size", "lr", "l2", "metric", "patience", "seed")

    def _state(self):
        arrays = {"item_ids": self.item_ids}
        for i, (w, bb) in enumerate(zip(self._weights, self._biases)):
            arrays[f"W{i}"], arrays[f"b{i}"] = self._backend.to_host(w), self._backend.to_host(bb)
        meta = {k: getattr(self, k) for k in self._HYPER}
        meta.update(dtype=self.dtype.name, n_items=self.n_items, best_epoch=self.best_epoch,
                    history=self.history, n_layers=len(self._weights))
        if self.variational:
            meta.update(beta_cap=self.beta_cap, anneal_steps=self.anneal_steps)
        return arrays, meta

    @classmethod
    def _from_state(cls, arrays, meta, device):
        kw = {k: meta[k] for k in cls._HYPER}
        if cls.variational:
            kw.update(beta_cap=meta["beta_cap"], anneal_steps=meta["anneal_steps"])
        model = cls(**kw, dtype=meta["dtype"], device=device)
        model.n_items = meta_count(meta, "n_items")
        model.item_ids = arrays["item_ids"]
        enc, dec = model._dims(model.n_items)
        model._n_enc = len(enc) - 1
        shapes = list(zip(enc[:-1], enc[1:])) + list(zip(dec[:-1], dec[1:]))
        if meta_count(meta, "n_layers") != len(shapes):
            raise ValueError("model file: layer count does not match the metadata")
        model._weights, model._biases = [], []
        for i, (fi, fo) in enumerate(shapes):
            w = np.ascontiguousarray(arrays[f"W{i}"], dtype=model.dtype)
            bb = np.ascontiguousarray(arrays[f"b{i}"], dtype=model.dtype)
            if w.shape != (fi, fo) or bb.shape != (fo,):
                raise ValueError(f"model file: layer {i} has the wrong shape")
            model._weights.append(model._backend.asarray(w))
            model._biases.append(model._backend.asarray(bb))
        model.best_epoch = meta_count(meta, "best_epoch")
        model.history = list(meta["history"])
        return model


class MultDAE(MultVAE):
    """Mult-DAE: denoising autoencoder with a multinomial likelihood.

    Parameters as :class:`MultVAE` without the KL annealing; ``layers`` are the
    encoder's sizes after the input ([200] gives I-200-I, the reference), and
    ``l2`` defaults to the reference's 0.01/500 (λ·Σ‖W‖²).
    """

    name = "multdae"
    variational = False

    def __init__(self, layers=(200,), dropout: float = 0.5, epochs: int = 200,
                 batch_size: int = 500, lr: float = 1e-3, l2: float = 0.01 / 500,
                 metric: str = "ndcg@100", patience: int | None = 50, seed: int = 0,
                 dtype="float32", device: str = "cpu", verbose: bool = False):
        self._setup(layers, dropout, epochs, batch_size, lr, l2, metric, patience, seed, dtype,
                    device, verbose)
