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
* scoring (``as_recommender()``): held-out users of a
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

Usage (``benchmarks/`` on ``sys.path``, see benchmarks/common.py)::

    from baselines.cdae import TorchCDAE
    model = TorchCDAE.trained(split.train, 50, hidden=50, validation=split.validation)
    af.evaluate(model.as_recommender(), split.test, ["ndcg@100"])
    TorchCDAE.trained(split.train, 50, device="cuda")   # the same on a GPU

This module imports no pytest; the speed suite and ``implicit_accuracy.py`` use it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from baselines.base import RankingTrainer, csr_to_device, seeded_dropout

__all__ = ["CDAENet", "TorchCDAE"]


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


class TorchCDAE(RankingTrainer):
    """The CSR training matrix, the network and Adam (loop, validation and scoring:
    RankingTrainer).

    ``device`` (a string or ``torch.device``, default ``"cpu"``): ``"cuda"`` puts the network,
    the optimizer state and every mini-batch (densified on the GPU from its CSR nonzeros) on
    the GPU (see the module docstring).
    """

    recommender_name = "torch-cdae"

    def __init__(self, train, hidden=50, corruption=0.5, output_activation="sigmoid",
                 loss="logistic", batch_size=500, lr=1e-3, l2=1e-3, seed=0, device="cpu"):
        if output_activation not in ("sigmoid", "identity"):
            raise ValueError(f"output_activation must be 'sigmoid' or 'identity', "
                             f"got {output_activation!r}")
        if loss not in ("logistic", "squared"):
            raise ValueError(f"loss must be 'logistic' or 'squared', got {loss!r}")
        if loss == "logistic" and output_activation != "sigmoid":
            raise ValueError("loss='logistic' needs output_activation='sigmoid'")
        super().__init__(batch_size=batch_size, seed=seed, device=device)
        self.output_activation = output_activation
        self.loss = loss
        self.hidden = int(hidden)
        self.lr = float(lr)
        self.l2 = float(l2)
        self.set_interactions(train)
        self.net = CDAENet(self.n_users, self.n_items, hidden=self.hidden, corruption=corruption,
                           generator=self.gen).to(self.device)   # initialised on the CPU
        self.optimizer = self.build_optimizer("adam", self.lr)

    def epoch_order(self):
        perm = super().epoch_order()
        # host indices, to slice the CSR; one copy of the user ids per epoch to the device
        return perm.numpy(), perm.to(self.device)

    def _data_loss(self, pre, x):
        if self.loss == "logistic":
            return F.binary_cross_entropy_with_logits(pre, x, reduction="sum") / x.shape[0]
        out = torch.sigmoid(pre) if self.output_activation == "sigmoid" else pre
        return (out - x).pow(2).sum() / x.shape[0]

    def train_batch(self, batch):
        rows, users = batch
        x = csr_to_device(self.X[rows], self.device)
        pre = self.net(x, users, generator=self.sample_gen)
        loss = self._data_loss(pre, x)
        if self.l2:
            loss = loss + 0.5 * self.l2 * sum(w.pow(2).sum() for w in self.net.regularised())
        return self.optimizer_step(loss)   # .item() synchronises with the device every step

    def scores(self, X):
        return self.net(csr_to_device(X, self.device))
