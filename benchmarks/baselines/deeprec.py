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

Usage (``benchmarks/`` on ``sys.path``, see benchmarks/common.py)::

    from baselines.deeprec import TorchDeepRec
    model = TorchDeepRec.trained(train, 10)
    model.rmse(test)
    model.epoch_seconds           # wall time of each epoch
    TorchDeepRec.trained(train, 10, device="cuda")   # the same on a GPU

This module imports no pytest; the speed suite and ``deeprec_accuracy.py`` use it.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from baselines.base import RatingTrainer, activation_fn, csr_to_device, seeded_dropout

__all__ = ["DeepRecNet", "TorchDeepRec", "masked_mse"]


class DeepRecNet(nn.Module):
    """NVIDIA's ``AutoEncoder(layer_sizes=[I, *layers], nl_type, is_constrained,
    dp_drop_prob, last_layer_activations=True)``."""

    def __init__(self, n_items, layers=(512, 512, 1024), activation="selu", dropout=0.8,
                 constrained=True, generator=None):
        super().__init__()
        sizes = [int(n_items)] + [int(d) for d in layers]
        if len(sizes) < 2 or any(d <= 0 for d in sizes):
            raise ValueError(f"layers must be positive widths, got {layers!r}")
        self.act = activation_fn(activation)
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


class TorchDeepRec(RatingTrainer):
    """The CSR training matrix, the network and SGD with momentum (loop and prediction:
    RatingTrainer).

    ``device`` (a string or ``torch.device``, default ``"cpu"``): ``"cuda"`` puts the network,
    the optimizer state and every mini-batch (densified on the GPU from its CSR nonzeros) on
    the GPU (see the module docstring). :meth:`run_epoch` returns the mean mini-batch masked
    MSE of the (non-refed) rating pass; the history adds the re-feeding passes' mean as
    ``refeed_loss``.
    """

    def __init__(self, train, layers=(512, 512, 1024), activation="selu", dropout=0.8,
                 constrained=True, refeed_steps=1, lr=0.005, momentum=0.9, batch_size=128,
                 l2=0.0, seed=0, clip=(1.0, 5.0), device="cpu"):
        self.refeed_steps = int(refeed_steps)
        if self.refeed_steps < 0:
            raise ValueError(f"refeed_steps must be >= 0, got {refeed_steps!r}")
        super().__init__(batch_size=batch_size, seed=seed, device=device)
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.l2 = float(l2)
        self.R = self.set_ratings(train, clip)  # users x items, explicit ratings
        self.active_users = np.flatnonzero(self.user_seen)   # users with no rating are skipped
        self.n_examples = int(self.active_users.size)
        self.net = DeepRecNet(self.n_items, layers=layers, activation=activation,
                              dropout=dropout, constrained=constrained,
                              generator=self.gen).to(self.device)   # initialised on the CPU
        self.optimizer = self.build_optimizer("sgd", self.lr, momentum=self.momentum,
                                              weight_decay=self.l2)

    def _pass(self, x):
        """One forward, masked MSE, backward and step; returns (the output, detached; the loss)."""
        out = self.net(x, generator=self.sample_gen)
        loss = self.optimizer_step(masked_mse(out, x))   # .item() synchronises with the device
        return out.detach(), loss

    def epoch_order(self):
        return self.active_users[super().epoch_order().numpy()]

    def train_batch(self, users):
        out, loss = self._pass(csr_to_device(self.R[users], self.device))
        for _ in range(self.refeed_steps):   # dense re-feeding
            out, refeed = self._pass(out)
            self.epoch_totals["refeed_loss"] += refeed
        return loss

    def epoch_summary(self, totals, n_batches):
        n = max(n_batches, 1)
        summary = {"loss": totals["loss"] / n}
        if self.refeed_steps:
            summary["refeed_loss"] = totals["refeed_loss"] / (n * self.refeed_steps)
        return summary

    def example_pairs(self, users, items):
        return users, items

    def reconstruct(self, examples):
        return self.net(csr_to_device(self.R[examples], self.device))
