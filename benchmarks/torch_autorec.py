"""AutoRec (Sedhain et al. 2015) in plain PyTorch: the baseline of the AutoRec benchmarks.

Written the way a competent PyTorch user writes it, not tuned against our
kernels: the whole training matrix as one dense float32 tensor
(examples x inputs), its observation mask computed once, two ``nn.Linear``
layers, a masked squared error summed over the observed entries, Adam.

Model and objective (the same as ``autorec_fast.train("autorec", ...)``):

* I-AutoRec (``variant="item"``): one example per item, its input
  r ∈ R^{n_users} is the item's column of the rating matrix (0 = unobserved).
  U-AutoRec (``variant="user"``): one example per user, input = its row.
* h = g(V r + mu), output = f(W h + b); V: hidden x n_inputs,
  W: n_inputs x hidden; g = sigmoid, f = identity by default.
* per mini-batch of B examples (N examples in all):
  loss = Σ_{observed (e, j) in the batch} (output_ej - r_ej)^2
         + (l2 / 2) * (B / N) * (||W||_F^2 + ||V||_F^2)
  so one epoch sums to the paper's objective; biases are not regularised.
* Glorot/Xavier-uniform V and W, zero biases, Adam (default betas,
  eps 1e-8), float32, examples shuffled every epoch with a seeded permutation.
* Prediction of (user u, item i): I-AutoRec reconstructs item i from its
  full training column and reads output u (U-AutoRec: user u's row, output
  i); pairs whose user or item has no training rating get the training
  mean; predictions are clipped to [1, 5].
* ``device="cuda"`` (any ``torch.device``) runs the same baseline on a GPU:
  the dense training matrix and its mask are copied there once at
  construction, the layers and Adam's state live there, each mini-batch's
  indices are moved there with the epoch's permutation. The init and the
  permutations still come from the seeded CPU generator, so a seed gives the
  same initial weights and example order on every device (the float results
  differ from the CPU's only by the GPU's rounding); ``device="cpu"`` (the
  default) is bit-identical to the CPU-only baseline.

Usage::

    from torch_autorec import train_torch_autorec
    model = train_torch_autorec(train, variant="item", hidden=500, l2=1.0, epochs=50)
    model.predict(users, items)   # numpy float32 (on the host, whatever the device)
    train_torch_autorec(train, epochs=50, device="cuda")   # the same on a GPU
    model.epoch_seconds           # wall time of each epoch

This module imports no pytest; the benchmarks and ``autorec_accuracy.py`` use it.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
from torch import nn

__all__ = ["TorchAutoRec", "train_torch_autorec"]

_ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "identity": lambda t: t,
    "relu": torch.relu,
    "tanh": torch.tanh,
    "elu": nn.functional.elu,
    "selu": nn.functional.selu,
}


def _activation(name):
    try:
        return _ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; known: {', '.join(_ACTIVATIONS)}") from None


class TorchAutoRec:
    """Holds the dense training tensors, the network and the optimizer.

    Construction does all the set-up (densify, mask, init); :meth:`run_epoch`
    is one epoch of training, :meth:`fit` runs several, :meth:`predict` scores
    (user, item) pairs. The benchmarks time :meth:`run_epoch` alone.

    ``device`` (a string or ``torch.device``, default ``"cpu"``): where the
    training runs; ``device="cuda"`` puts the dense training matrix, its mask,
    the layers and the optimizer state on the GPU (see the module docstring).
    Initialisation and permutations use the seeded CPU generator ``self.gen``
    on every device; :meth:`predict` and :meth:`rmse` return host NumPy values;
    :meth:`run_epoch` returns once the device has finished the epoch.
    """

    def __init__(self, train, variant="item", hidden=500, l2=1.0, batch_size=256, lr=1e-3,
                 seed=0, activation="sigmoid", output_activation="identity",
                 clip=(1.0, 5.0), device="cpu"):
        if variant not in ("item", "user"):
            raise ValueError(f"variant must be 'item' or 'user', got {variant!r}")
        self.variant = variant
        self.hidden = int(hidden)
        self.l2 = float(l2)
        self.batch_size = int(batch_size)
        self.lr = float(lr)
        self.seed = int(seed)
        self.clip = clip
        self.device = torch.device(device)
        self.g = _activation(activation)
        self.f = _activation(output_activation)

        R = train.matrix.tocsr().astype(np.float32)  # users x items
        self.n_users, self.n_items = R.shape
        self.global_mean = float(R.data.mean()) if R.nnz else 0.0
        self.user_seen = np.diff(R.indptr) > 0
        self.item_seen = np.bincount(R.indices, minlength=self.n_items) > 0
        self.nnz = int(R.nnz)

        dense = R.T.toarray() if variant == "item" else R.toarray()
        # examples x inputs, copied to the device once
        self.X = torch.from_numpy(np.ascontiguousarray(dense, dtype=np.float32)).to(self.device)
        self.mask = self.X != 0
        self.n_examples, self.n_inputs = self.X.shape

        # seeded init and per-epoch permutations, on the CPU whatever the device
        self.gen = torch.Generator().manual_seed(self.seed)
        self.encoder = nn.Linear(self.n_inputs, self.hidden)   # V, mu
        self.decoder = nn.Linear(self.hidden, self.n_inputs)   # W, b
        with torch.no_grad():
            for lin in (self.encoder, self.decoder):
                nn.init.xavier_uniform_(lin.weight, generator=self.gen)
                nn.init.zeros_(lin.bias)
        self.encoder.to(self.device)   # initialised on the CPU, then moved (no-op on the CPU)
        self.decoder.to(self.device)
        self.params = [*self.encoder.parameters(), *self.decoder.parameters()]
        self.optimizer = torch.optim.Adam(self.params, lr=self.lr, betas=(0.9, 0.999), eps=1e-8)
        self.epoch_seconds: list[float] = []
        self.history: list[dict] = []

    @property
    def steps_per_epoch(self):
        return math.ceil(self.n_examples / self.batch_size)

    def forward(self, x):
        return self.f(self.decoder(self.g(self.encoder(x))))

    def run_epoch(self):
        """One pass over the shuffled examples; returns the epoch's summed objective."""
        t0 = time.perf_counter()
        # drawn on the CPU, moved once per epoch: the batch slices are device tensors
        perm = torch.randperm(self.n_examples, generator=self.gen).to(self.device)
        reg_scale = 0.5 * self.l2 / self.n_examples
        total = 0.0
        for start in range(0, self.n_examples, self.batch_size):
            idx = perm[start:start + self.batch_size]
            x = self.X[idx]
            m = self.mask[idx]
            out = self.forward(x)
            loss = ((out - x) * m).pow(2).sum()
            if self.l2:
                loss = loss + reg_scale * idx.numel() * (
                    self.encoder.weight.pow(2).sum() + self.decoder.weight.pow(2).sum())
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            total += loss.item()   # synchronises with the device every step
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        secs = time.perf_counter() - t0
        self.epoch_seconds.append(secs)
        self.history.append({"epoch": len(self.history) + 1, "loss": total, "seconds": secs})
        return total

    def fit(self, epochs, validation=None, verbose=False):
        """Train ``epochs`` more epochs; with ``validation`` (Interactions in the
        same index space) record ``val_rmse`` after each epoch (no early stop)."""
        for _ in range(int(epochs)):
            self.run_epoch()
            if validation is not None:
                self.history[-1]["val_rmse"] = self.rmse(validation)
            if verbose:
                print(self.history[-1], flush=True)
        return self

    @torch.no_grad()
    def predict(self, users, items, batch_size=1024):
        users = np.asarray(users, dtype=np.int64).ravel()
        items = np.asarray(items, dtype=np.int64).ravel()
        if users.shape != items.shape:
            raise ValueError("users and items must have the same length")
        pred = np.full(users.shape, self.global_mean, dtype=np.float32)
        known = self.user_seen[users] & self.item_seen[items]
        ex, out = (items, users) if self.variant == "item" else (users, items)
        ex, out = ex[known], out[known]
        if ex.size:
            uniq, inv = np.unique(ex, return_inverse=True)
            order = np.argsort(inv, kind="stable")
            bounds = np.searchsorted(inv[order], np.arange(0, uniq.size + batch_size, batch_size))
            vals = np.empty(ex.size, dtype=np.float32)
            for b, start in enumerate(range(0, uniq.size, batch_size)):
                rows = torch.from_numpy(uniq[start:start + batch_size]).to(self.device)
                recon = self.forward(self.X[rows])
                sel = order[bounds[b]:bounds[b + 1]]
                r = torch.from_numpy(inv[sel] - start).to(self.device)
                c = torch.from_numpy(out[sel]).to(self.device)
                vals[sel] = recon[r, c].cpu().numpy()
            pred[known] = vals
        if self.clip is not None:
            np.clip(pred, self.clip[0], self.clip[1], out=pred)
        return pred

    def rmse(self, test):
        users, items, ratings, _ = test.to_coo_arrays()
        err = self.predict(users, items).astype(np.float64) - np.asarray(ratings, np.float64)
        return float(np.sqrt(np.mean(err ** 2)))


def train_torch_autorec(train, variant="item", hidden=500, l2=1.0, epochs=50, batch_size=256,
                        lr=1e-3, seed=0, activation="sigmoid", output_activation="identity",
                        validation=None, verbose=False, device="cpu"):
    """Build a :class:`TorchAutoRec` on ``device`` (``"cpu"``, ``"cuda"``, ...) and train
    it ``epochs`` epochs; returns the model (``.predict(users, items)``,
    ``.epoch_seconds``, ``.history``)."""
    model = TorchAutoRec(train, variant=variant, hidden=hidden, l2=l2, batch_size=batch_size,
                         lr=lr, seed=seed, activation=activation,
                         output_activation=output_activation, device=device)
    return model.fit(epochs, validation=validation, verbose=verbose)
