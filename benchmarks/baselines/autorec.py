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

Usage (``benchmarks/`` on ``sys.path``, see benchmarks/common.py)::

    from baselines.autorec import TorchAutoRec
    model = TorchAutoRec.trained(train, 50, variant="item", hidden=500, l2=1.0)
    model.predict(users, items)   # numpy float32 (on the host, whatever the device)
    TorchAutoRec.trained(train, 50, device="cuda")   # the same on a GPU
    model.epoch_seconds           # wall time of each epoch

This module imports no pytest; the speed suite, ``autorec_paired.py`` and
``autorec_accuracy.py`` use it.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from baselines.base import RatingTrainer, activation_fn

__all__ = ["AutoRecNet", "TorchAutoRec"]


class AutoRecNet(nn.Module):
    """output = f(W g(V x + mu) + b): ``encoder`` holds V and mu, ``decoder`` W and b.

    ``init="glorot"``: Glorot/Xavier-uniform weights, zero biases; ``init="torch"``:
    ``nn.Linear``'s own default (weights and biases U(±1/sqrt(fan_in))); both drawn
    from ``generator``."""

    def __init__(self, n_inputs, hidden, activation="sigmoid", output_activation="identity",
                 generator=None, init="glorot"):
        super().__init__()
        if init not in ("glorot", "torch"):
            raise ValueError(f"init must be 'glorot' or 'torch', got {init!r}")
        self.g = activation_fn(activation)
        self.f = activation_fn(output_activation)
        self.encoder = nn.Linear(n_inputs, hidden)   # V, mu
        self.decoder = nn.Linear(hidden, n_inputs)   # W, b
        with torch.no_grad():
            for lin in (self.encoder, self.decoder):
                if init == "glorot":
                    nn.init.xavier_uniform_(lin.weight, generator=generator)
                    nn.init.zeros_(lin.bias)
                else:  # nn.Linear.reset_parameters, from the seeded generator
                    bound = 1 / math.sqrt(lin.in_features)
                    nn.init.uniform_(lin.weight, -bound, bound, generator=generator)
                    nn.init.uniform_(lin.bias, -bound, bound, generator=generator)

    def forward(self, x):
        return self.f(self.decoder(self.g(self.encoder(x))))


class TorchAutoRec(RatingTrainer):
    """The dense training tensors, the network and Adam (loop and prediction: RatingTrainer).

    ``device`` (a string or ``torch.device``, default ``"cpu"``): ``"cuda"`` puts the dense
    training matrix, its mask, the layers and the optimizer state on the GPU (see the module
    docstring). :meth:`run_epoch` returns the epoch's summed objective.
    """

    def __init__(self, train, variant="item", hidden=500, l2=1.0, batch_size=256, lr=1e-3,
                 seed=0, activation="sigmoid", output_activation="identity",
                 clip=(1.0, 5.0), device="cpu", init="glorot"):
        if variant not in ("item", "user"):
            raise ValueError(f"variant must be 'item' or 'user', got {variant!r}")
        super().__init__(batch_size=batch_size, seed=seed, device=device)
        self.variant = variant
        self.hidden = int(hidden)
        self.l2 = float(l2)
        self.lr = float(lr)
        R = self.set_ratings(train, clip)  # users x items
        dense = R.T.toarray() if variant == "item" else R.toarray()
        # examples x inputs, copied to the device once
        self.X = torch.from_numpy(np.ascontiguousarray(dense, dtype=np.float32)).to(self.device)
        self.mask = self.X != 0
        self.n_examples, self.n_inputs = self.X.shape
        self.net = AutoRecNet(self.n_inputs, self.hidden, activation, output_activation,
                              generator=self.gen, init=init).to(self.device)  # initialised on the CPU
        self.optimizer = self.build_optimizer("adam", self.lr)

    def epoch_order(self):
        # drawn on the CPU, moved once per epoch: the batch slices are device tensors
        return super().epoch_order().to(self.device)

    def train_batch(self, idx):
        x = self.X[idx]
        m = self.mask[idx]
        loss = ((self.net(x) - x) * m).pow(2).sum()
        if self.l2:
            loss = loss + 0.5 * self.l2 / self.n_examples * idx.numel() * (
                self.net.encoder.weight.pow(2).sum() + self.net.decoder.weight.pow(2).sum())
        return self.optimizer_step(loss)   # .item() synchronises with the device every step

    def epoch_summary(self, totals, n_batches):
        return {"loss": totals["loss"]}   # the sum over the batches: the paper's objective

    def example_pairs(self, users, items):
        return (items, users) if self.variant == "item" else (users, items)

    def reconstruct(self, examples):
        return self.net(self.X[torch.from_numpy(examples).to(self.device)])
