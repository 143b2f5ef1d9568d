"""CDAE (Wu et al. 2016) in plain PyTorch: the baseline of the CDAE benchmarks.

Written the way a competent PyTorch user writes it, not tuned against our
kernels: ``nn.Linear`` encoder and decoder, an ``nn.Embedding`` of users,
each mini-batch of user rows densified from the CSR training matrix, the FULL
output over all items (no negative sampling), autograd, ``torch.optim.Adam``.

Model and objective (``autorec_fast.train("cdae", ...)`` with
``negative_ratio=0``; the library's default samples negatives instead, see
below):

* input: user u's binary row x ∈ {0,1}^I, corrupted by dropout with drop
  probability ``corruption`` (survivors scaled by 1/(1 - corruption);
  training only; the mask comes from the model's seeded generator).
* hidden: h = sigmoid(x̃ V + V_user[u] + b), K = ``hidden`` (50);
  V: I x K, V_user: n_users x K, b: K.
* output: ŷ = f(h Wᵀ + b') over all I items, W: I x K; f = sigmoid
  (``output_activation="sigmoid"``) or identity.
* per mini-batch of B users:
  ``loss="logistic"``: Σ_i BCE(ŷ_ui, x_ui) summed over all items, averaged over
  the B users (``binary_cross_entropy_with_logits`` on the pre-activation,
  which needs f = sigmoid); ``loss="squared"``: Σ_i (ŷ_ui - x_ui)², averaged
  over users; plus (l2 / 2) (||V||² + ||W||² + ||V_user||²) (all of V_user,
  every mini-batch; biases not regularised).
* init: Xavier/Glorot-uniform V and W, V_user ~ N(0, 0.01²), zero biases;
  Adam (lr 1e-3, betas (0.9, 0.999), eps 1e-8); float32; users shuffled every
  epoch with a seeded ``torch.randperm``.
* scoring (``as_recommender()._score_csr``): held-out users of a
  strong-generalization split have no V_user row, so they are scored with a
  zero user vector: h = sigmoid(x V + b), scores = h Wᵀ + b' (the ranking is
  that of ŷ). No corruption at scoring.
* ``device="cuda"`` (any ``torch.device``) runs the same baseline on a GPU:
  the network and Adam's state live there; the CSR training matrix stays on
  the host, each mini-batch's rows are sliced from it there and only their
  nonzeros are copied over and densified on the device (as NVIDIA's
  DeepRecommender does); the user indices go over with the epoch's
  permutation. Init and permutations come from the seeded CPU generator on
  every device; the dropout masks come from a second generator on the device,
  seeded with the same seed (on the CPU the one generator draws everything,
  as before, so ``device="cpu"`` (the default) is bit-identical to the
  CPU-only baseline).

Note: ``autorec_fast``'s CDAE samples ``negative_ratio`` unobserved items per
positive (default 5) and computes the output only on those; this baseline
always computes the full I-wide output, as a PyTorch user would.

Usage::

    from torch_cdae import train_torch_cdae
    model = train_torch_cdae(split.train, hidden=50, epochs=50, validation=split.validation)
    af.evaluate(model.as_recommender(), split.test, ["ndcg@100"])
    train_torch_cdae(split.train, epochs=50, device="cuda")   # the same on a GPU

This module imports no pytest; the benchmarks and ``implicit_accuracy.py`` use it.
"""

from __future__ import annotations

import copy
import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import autorec_fast as af
from bench_common import csr_to_device_dense
from torch_multvae import TorchRecommender, csr_to_dense, seeded_dropout

__all__ = ["CDAENet", "TorchCDAE", "csr_to_device", "train_torch_cdae"]


def csr_to_device(X, device):
    """A CSR batch as a dense float32 tensor on ``device``: :func:`csr_to_dense` on the
    CPU; elsewhere only the nonzeros (COO) are copied over and densified there."""
    device = torch.device(device)
    if device.type == "cpu":
        return csr_to_dense(X)
    return csr_to_device_dense(X, device)


class CDAENet(nn.Module):
    def __init__(self, n_users, n_items, hidden=50, corruption=0.5, generator=None):
        super().__init__()
        self.corruption = float(corruption)
        self.encoder = nn.Linear(n_items, hidden)          # V (stored K x I), b
        self.user_embedding = nn.Embedding(n_users, hidden)  # V_user
        self.decoder = nn.Linear(hidden, n_items)          # W (I x K), b'
        with torch.no_grad():
            nn.init.xavier_uniform_(self.encoder.weight, generator=generator)
            nn.init.xavier_uniform_(self.decoder.weight, generator=generator)
            nn.init.normal_(self.user_embedding.weight, 0.0, 0.01, generator=generator)
            nn.init.zeros_(self.encoder.bias)
            nn.init.zeros_(self.decoder.bias)

    def regularised(self):
        return [self.encoder.weight, self.decoder.weight, self.user_embedding.weight]

    def forward(self, x, users=None, generator=None):
        """Pre-activation output (B x I); ``users=None``: zero user vectors."""
        if self.training:
            x = seeded_dropout(x, self.corruption, generator)
        pre = self.encoder(x)
        if users is not None:
            pre = pre + self.user_embedding(users)
        return self.decoder(torch.sigmoid(pre))


class TorchCDAE:
    """Holds the CSR training matrix, the network and the optimizer.

    Construction does the set-up; :meth:`run_epoch` is one epoch (the
    benchmarks time it alone), :meth:`fit` runs several with optional
    validation, :meth:`as_recommender` gives the adapter for ``af.evaluate``.

    ``device`` (a string or ``torch.device``, default ``"cpu"``): where the
    training runs; ``device="cuda"`` puts the network, the optimizer state
    and every mini-batch (densified on the GPU from its CSR nonzeros) on the
    GPU (see the module docstring). ``self.gen`` (CPU) seeds the init and the
    permutations on every device; ``self.dropout_gen`` draws the corruption
    (``self.gen`` itself on the CPU, a generator on the device seeded with
    ``seed`` otherwise). :meth:`score` returns host NumPy scores;
    :meth:`run_epoch` returns once the device has finished the epoch.
    """

    def __init__(self, train, hidden=50, corruption=0.5, output_activation="sigmoid",
                 loss="logistic", batch_size=500, lr=1e-3, l2=1e-3, seed=0, device="cpu"):
        if output_activation not in ("sigmoid", "identity"):
            raise ValueError(f"output_activation must be 'sigmoid' or 'identity', "
                             f"got {output_activation!r}")
        if loss not in ("logistic", "squared"):
            raise ValueError(f"loss must be 'logistic' or 'squared', got {loss!r}")
        if loss == "logistic" and output_activation != "sigmoid":
            raise ValueError("loss='logistic' needs output_activation='sigmoid'")
        self.output_activation = output_activation
        self.loss = loss
        self.hidden = int(hidden)
        self.batch_size = int(batch_size)
        self.lr = float(lr)
        self.l2 = float(l2)
        self.seed = int(seed)
        self.device = torch.device(device)

        self.X = train.matrix.tocsr().astype(np.float32)  # users x items, binary
        self.n_users, self.n_items = self.X.shape
        self.item_ids = np.asarray(train.item_ids)

        # init and permutations: CPU generator on every device; dropout: one on the device
        self.gen = torch.Generator().manual_seed(self.seed)
        self.dropout_gen = (self.gen if self.device.type == "cpu" else
                            torch.Generator(device=self.device).manual_seed(self.seed))
        self.net = CDAENet(self.n_users, self.n_items, hidden=self.hidden, corruption=corruption,
                           generator=self.gen).to(self.device)   # initialised on the CPU
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=self.lr, betas=(0.9, 0.999),
                                          eps=1e-8)
        self.epoch_seconds: list[float] = []
        self.history: list[dict] = []
        self.best_epoch: int | None = None
        self.best_value: float | None = None
        self._best_state = None

    @property
    def steps_per_epoch(self):
        return math.ceil(self.n_users / self.batch_size)

    def _data_loss(self, pre, x):
        if self.loss == "logistic":
            return F.binary_cross_entropy_with_logits(pre, x, reduction="sum") / x.shape[0]
        out = torch.sigmoid(pre) if self.output_activation == "sigmoid" else pre
        return (out - x).pow(2).sum() / x.shape[0]

    def run_epoch(self):
        """One pass over the shuffled users; returns the mean mini-batch loss."""
        t0 = time.perf_counter()
        self.net.train()
        perm = torch.randperm(self.n_users, generator=self.gen)
        rows = perm.numpy()            # host indices, to slice the CSR
        perm = perm.to(self.device)    # one copy per epoch; the batch slices are device tensors
        total = 0.0
        n_batches = 0
        for start in range(0, self.n_users, self.batch_size):
            users = perm[start:start + self.batch_size]
            x = csr_to_device(self.X[rows[start:start + self.batch_size]], self.device)
            pre = self.net(x, users, generator=self.dropout_gen)
            loss = self._data_loss(pre, x)
            if self.l2:
                loss = loss + 0.5 * self.l2 * sum(w.pow(2).sum() for w in self.net.regularised())
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            total += loss.item()   # synchronises with the device every step
            n_batches += 1
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        secs = time.perf_counter() - t0
        self.epoch_seconds.append(secs)
        self.history.append({"epoch": len(self.history) + 1, "loss": total / max(n_batches, 1),
                             "seconds": secs})
        return total / max(n_batches, 1)

    @torch.no_grad()
    def score(self, X):
        """Scores (numpy float32) for a CSR batch of fold-in rows of unseen users."""
        was = self.net.training
        self.net.eval()
        try:
            pre = self.net(csr_to_device(X, self.device))
        finally:
            self.net.train(was)
        return pre.cpu().numpy()

    def as_recommender(self):
        return TorchRecommender("torch-cdae", self.n_items, self.item_ids, self.score)

    def fit(self, epochs, validation=None, metric="ndcg@100", verbose=False):
        """Train ``epochs`` more epochs; with ``validation`` record ``metric`` each epoch,
        keep the best epoch's weights and restore them at the end."""
        for _ in range(int(epochs)):
            self.run_epoch()
            if validation is not None:
                value = float(af.evaluate(self.as_recommender(), validation, [metric])[metric])
                self.history[-1][metric] = value
                if self.best_value is None or value > self.best_value:
                    self.best_value = value
                    self.best_epoch = self.history[-1]["epoch"]
                    self._best_state = copy.deepcopy(self.net.state_dict())
            if verbose:
                print(self.history[-1], flush=True)
        if self._best_state is not None:
            self.net.load_state_dict(self._best_state)
        elif self.history:
            self.best_epoch = self.history[-1]["epoch"]
        return self


def train_torch_cdae(train, hidden=50, corruption=0.5, output_activation="sigmoid",
                     loss="logistic", epochs=50, batch_size=500, lr=1e-3, l2=1e-3, seed=0,
                     validation=None, metric="ndcg@100", verbose=False, device="cpu"):
    """Build a :class:`TorchCDAE` on ``device`` (``"cpu"``, ``"cuda"``, ...) and train it
    ``epochs`` epochs; returns the model (``.run_epoch()``, ``.epoch_seconds``,
    ``.history``, ``.best_epoch``, ``.as_recommender()``)."""
    model = TorchCDAE(train, hidden=hidden, corruption=corruption,
                      output_activation=output_activation, loss=loss, batch_size=batch_size,
                      lr=lr, l2=l2, seed=seed, device=device)
    return model.fit(epochs, validation=validation, metric=metric, verbose=verbose)
