"""DeepRec (Kuchaiev & Ginsburg 2017, NVIDIA/DeepRecommender) in plain PyTorch: the
baseline of the DeepRec benchmarks.

Written the way a competent PyTorch user writes it (and the way NVIDIA's
reference code does it), not tuned against our kernels: each mini-batch of
user rows densified from the CSR training matrix, the full item-wide input and
output, autograd, ``torch.optim.SGD`` with momentum.

Model and objective (the same as ``autorec_fast.train("deeprec", ...)``):

* user-based: one example per user with at least one training rating, its
  input x ∈ R^{n_items} is the user's rating row (0 = unobserved).
* encoder: Linear(I, 512) → SELU → Linear(512, 512) → SELU → Linear(512, 1024)
  → SELU (``layers=(512, 512, 1024)``); dropout with drop probability
  ``dropout`` (0.8) on the 1024-d code, inverted scaling (survivors times
  1 / (1 - p)), training only, drawn from the model's seeded generator.
* decoder mirrors it: 1024 → 512 → 512 → I, SELU after every decoder layer
  including the last (NVIDIA's ``last_layer_activations=True``).
  ``constrained=True``: the decoder weights are the encoder's, transposed
  (``F.linear(h, W_enc_i.t(), b_dec_i)``), with separate decoder biases;
  ``constrained=False``: separate decoder weights.
* init: Xavier/Glorot-uniform weights, zero biases.
* loss: masked MSE, Σ_{observed (u, i) in the batch} (out_ui - x_ui)² divided
  by the number of observed entries (mask = target != 0).
* per mini-batch: (1) out = f(x); loss(out, x); backward; step.
  (2) dense re-feeding, ``refeed_steps`` times: x' = out.detach() (the output
  of the previous forward, computed before the step that followed it);
  out = f(x'); loss(out, x') with mask = x' != 0 (almost every entry: SELU
  output is rarely exactly 0); backward; step.
* ``torch.optim.SGD(lr=0.005, momentum=0.9, weight_decay=l2)``; float32;
  batch 128; users shuffled every epoch with a seeded ``torch.randperm``.
* prediction of (user u, item i): forward (no dropout) of u's training row,
  output i; pairs whose user or item has no training rating get the training
  mean; predictions clipped to [1, 5].
* ``device="cuda"`` (any ``torch.device``) runs the same baseline on a GPU:
  the network and SGD's momentum live there; the CSR training matrix stays
  on the host, each mini-batch's rows are sliced from it there and only their
  nonzeros are copied over and densified on the device (as NVIDIA's
  reference code does: ``mb.cuda().to_dense()``); re-feeding stays on the
  device. Init and permutations come from the seeded CPU generator on every
  device; the dropout masks come from a second generator on the device,
  seeded with the same seed (on the CPU the one generator draws everything,
  as before, so ``device="cpu"`` (the default) is bit-identical to the
  CPU-only baseline).

Usage::

    from torch_deeprec import train_torch_deeprec
    model = train_torch_deeprec(train, epochs=10)
    model.rmse(test)
    model.epoch_seconds           # wall time of each epoch
    train_torch_deeprec(train, epochs=10, device="cuda")   # the same on a GPU

This module imports no pytest; ``test_deeprec_bench.py`` uses it.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from bench_common import csr_to_device_dense
from torch_multvae import seeded_dropout

__all__ = ["DeepRecNet", "TorchDeepRec", "train_torch_deeprec"]

_ACTIVATIONS = {
    "selu": F.selu,
    "elu": F.elu,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "identity": lambda t: t,
}


class DeepRecNet(nn.Module):
    """NVIDIA's ``AutoEncoder(layer_sizes=[I, *layers], nl_type, is_constrained,
    dp_drop_prob, last_layer_activations=True)``."""

    def __init__(self, n_items, layers=(512, 512, 1024), activation="selu", dropout=0.8,
                 constrained=True, generator=None):
        super().__init__()
        sizes = [int(n_items)] + [int(d) for d in layers]
        if len(sizes) < 2 or any(d <= 0 for d in sizes):
            raise ValueError(f"layers must be positive widths, got {layers!r}")
        try:
            self.act = _ACTIVATIONS[activation]
        except KeyError:
            raise ValueError(f"unknown activation {activation!r}; "
                             f"known: {', '.join(_ACTIVATIONS)}") from None
        self.dropout = float(dropout)
        self.constrained = bool(constrained)
        # encode_w[i]: sizes[i+1] x sizes[i]; decoder layer j maps rev[j] -> rev[j+1]
        self.encode_w = nn.ParameterList(
            nn.Parameter(torch.empty(b, a)) for a, b in zip(sizes[:-1], sizes[1:]))
        self.encode_b = nn.ParameterList(nn.Parameter(torch.zeros(b)) for b in sizes[1:])
        rev = sizes[::-1]
        self.decode_b = nn.ParameterList(nn.Parameter(torch.zeros(b)) for b in rev[1:])
        if self.constrained:
            self.decode_w = nn.ParameterList()
        else:
            self.decode_w = nn.ParameterList(
                nn.Parameter(torch.empty(b, a)) for a, b in zip(rev[:-1], rev[1:]))
        with torch.no_grad():
            for w in [*self.encode_w, *self.decode_w]:
                nn.init.xavier_uniform_(w, generator=generator)

    def weights(self):
        return [*self.encode_w, *self.decode_w]

    def encode(self, x):
        for w, b in zip(self.encode_w, self.encode_b):
            x = self.act(F.linear(x, w, b))
        return x

    def decode(self, z):
        if self.constrained:
            for w, b in zip(reversed(self.encode_w), self.decode_b):
                z = self.act(F.linear(z, w.t(), b))   # last layer activated too
        else:
            for w, b in zip(self.decode_w, self.decode_b):
                z = self.act(F.linear(z, w, b))
        return z

    def forward(self, x, generator=None):
        z = self.encode(x)
        if self.training and self.dropout > 0.0:
            z = seeded_dropout(z, self.dropout, generator)
        return self.decode(z)


def masked_mse(out, target):
    """Σ over target != 0 of (out - target)², divided by the number of such entries
    (NVIDIA's ``MSEloss`` / ``num_ratings``)."""
    mask = (target != 0).to(out.dtype)
    n = mask.sum()
    return ((out - target) * mask).pow(2).sum() / n.clamp_min(1.0)


class TorchDeepRec:
    """Holds the CSR training matrix, the network and the optimizer.

    Construction does the set-up; :meth:`run_epoch` is one epoch (the
    benchmarks time it alone), :meth:`fit` runs several, :meth:`predict`
    scores (user, item) pairs, :meth:`rmse` evaluates a test set.

    ``device`` (a string or ``torch.device``, default ``"cpu"``): where the
    training runs; ``device="cuda"`` puts the network, the optimizer state
    and every mini-batch (densified on the GPU from its CSR nonzeros) on the
    GPU (see the module docstring). ``self.gen`` (CPU) seeds the init and the
    permutations on every device; ``self.dropout_gen`` draws the dropout
    masks (``self.gen`` itself on the CPU, a generator on the device seeded
    with ``seed`` otherwise). :meth:`predict` and :meth:`rmse` return host
    NumPy values; :meth:`run_epoch` returns once the device has finished the
    epoch.
    """

    def __init__(self, train, layers=(512, 512, 1024), activation="selu", dropout=0.8,
                 constrained=True, refeed_steps=1, lr=0.005, momentum=0.9, batch_size=128,
                 l2=0.0, seed=0, clip=(1.0, 5.0), device="cpu"):
        self.refeed_steps = int(refeed_steps)
        if self.refeed_steps < 0:
            raise ValueError(f"refeed_steps must be >= 0, got {refeed_steps!r}")
        self.batch_size = int(batch_size)
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.l2 = float(l2)
        self.seed = int(seed)
        self.clip = clip
        self.device = torch.device(device)

        R = train.matrix.tocsr().astype(np.float32)  # users x items, explicit ratings
        R.sort_indices()
        self.R = R
        self.n_users, self.n_items = R.shape
        self.nnz = int(R.nnz)
        self.global_mean = float(R.data.mean()) if R.nnz else 0.0
        self.user_seen = np.diff(R.indptr) > 0
        self.item_seen = np.bincount(R.indices, minlength=self.n_items) > 0
        self.active_users = np.flatnonzero(self.user_seen)   # users with no rating are skipped
        self.n_examples = int(self.active_users.size)

        # init and permutations: CPU generator on every device; dropout: one on the device
        self.gen = torch.Generator().manual_seed(self.seed)
        self.dropout_gen = (self.gen if self.device.type == "cpu" else
                            torch.Generator(device=self.device).manual_seed(self.seed))
        self.net = DeepRecNet(self.n_items, layers=layers, activation=activation,
                              dropout=dropout, constrained=constrained,
                              generator=self.gen).to(self.device)   # initialised on the CPU
        self.optimizer = torch.optim.SGD(self.net.parameters(), lr=self.lr,
                                         momentum=self.momentum, weight_decay=self.l2)
        self.epoch_seconds: list[float] = []
        self.history: list[dict] = []

    @property
    def steps_per_epoch(self):
        return math.ceil(self.n_examples / self.batch_size)

    def _dense(self, users):
        """Training rows ``users`` (host indices) as a dense float32 tensor on the device."""
        rows = self.R[users]
        if self.device.type == "cpu":
            return torch.from_numpy(np.asarray(rows.toarray(), dtype=np.float32))
        return csr_to_device_dense(rows, self.device)  # only the nonzeros cross over

    def _step(self, x):
        out = self.net(x, generator=self.dropout_gen)
        loss = masked_mse(out, x)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return out.detach(), loss.item()   # .item() synchronises with the device

    def run_epoch(self):
        """One pass over the shuffled users; returns the mean mini-batch masked MSE of
        the (non-refed) rating pass."""
        t0 = time.perf_counter()
        self.net.train()
        perm = self.active_users[torch.randperm(self.n_examples, generator=self.gen).numpy()]
        total = refeed_total = 0.0
        n_batches = 0
        for start in range(0, self.n_examples, self.batch_size):
            x = self._dense(perm[start:start + self.batch_size])
            out, loss = self._step(x)
            total += loss
            for _ in range(self.refeed_steps):   # dense re-feeding
                out, loss = self._step(out)
                refeed_total += loss
            n_batches += 1
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        secs = time.perf_counter() - t0
        n = max(n_batches, 1)
        self.epoch_seconds.append(secs)
        entry = {"epoch": len(self.history) + 1, "loss": total / n, "seconds": secs}
        if self.refeed_steps:
            entry["refeed_loss"] = refeed_total / (n * self.refeed_steps)
        self.history.append(entry)
        return total / n

    def fit(self, epochs, validation=None, verbose=False):
        """Train ``epochs`` more epochs; with ``validation`` (Interactions in the same
        index space) record ``val_rmse`` after each epoch (no early stop)."""
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
        ex, out = users[known], items[known]
        if ex.size:
            was = self.net.training
            self.net.eval()
            try:
                uniq, inv = np.unique(ex, return_inverse=True)
                order = np.argsort(inv, kind="stable")
                bounds = np.searchsorted(inv[order],
                                         np.arange(0, uniq.size + batch_size, batch_size))
                vals = np.empty(ex.size, dtype=np.float32)
                for b, start in enumerate(range(0, uniq.size, batch_size)):
                    recon = self.net(self._dense(uniq[start:start + batch_size]))
                    sel = order[bounds[b]:bounds[b + 1]]
                    r = torch.from_numpy(inv[sel] - start).to(self.device)
                    c = torch.from_numpy(out[sel]).to(self.device)
                    vals[sel] = recon[r, c].cpu().numpy()
                pred[known] = vals
            finally:
                self.net.train(was)
        if self.clip is not None:
            np.clip(pred, self.clip[0], self.clip[1], out=pred)
        return pred

    def rmse(self, test):
        users, items, ratings, _ = test.to_coo_arrays()
        err = self.predict(users, items).astype(np.float64) - np.asarray(ratings, np.float64)
        return float(np.sqrt(np.mean(err ** 2)))


def train_torch_deeprec(train, layers=(512, 512, 1024), dropout=0.8, constrained=True,
                        refeed_steps=1, lr=0.005, momentum=0.9, batch_size=128, epochs=1,
                        l2=0.0, seed=0, activation="selu", validation=None, verbose=False,
                        device="cpu"):
    """Build a :class:`TorchDeepRec` on ``device`` (``"cpu"``, ``"cuda"``, ...) and train it
    ``epochs`` epochs; returns the model (``.run_epoch()``, ``.predict(users, items)``,
    ``.rmse(test)``, ``.epoch_seconds``, ``.history``)."""
    model = TorchDeepRec(train, layers=layers, activation=activation, dropout=dropout,
                         constrained=constrained, refeed_steps=refeed_steps, lr=lr,
                         momentum=momentum, batch_size=batch_size, l2=l2, seed=seed,
                         device=device)
    return model.fit(epochs, validation=validation, verbose=verbose)
