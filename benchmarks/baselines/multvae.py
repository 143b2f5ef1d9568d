"""Mult-VAE and Mult-DAE (Liang et al. 2018) in plain PyTorch: baselines of the implicit benchmarks.

Written the way a competent PyTorch user ports the reference notebook
(dawenl/vae_cf, ``VAE_ML20M_WWW2018.ipynb``), not tuned against our kernels:
``nn.Linear`` layers, each mini-batch of user rows densified from the CSR
training matrix (as the notebook does with ``X[idx].toarray()``), autograd,
``torch.optim.Adam``.

Model and objective (the same as ``autorec_fast.train("multvae" | "multdae", ...)``):

* input: a user's binary row x ∈ {0,1}^I; x → ``F.normalize(x, p=2, dim=1,
  eps=1e-12)`` → dropout (drop probability ``dropout``, survivors scaled by
  1/(1 - dropout); training only; the mask is drawn from the model's seeded
  generator, the same arithmetic as ``F.dropout``).
* Mult-DAE, ``layers=[200]`` (I-200-I): h = tanh(x W1 + b1), logits = h W2 + b2.
  Longer ``layers`` mirror the notebook's ``q_dims + p_dims[1:]``: e.g.
  ``[600, 200]`` gives I-600-200-600-I with tanh after every layer but the last.
* Mult-VAE, ``layers=[600, 200]`` (I-600-200-600-I): encoder
  h = tanh(x W1 + b1), [mu, logvar] = h Wq + bq (600 -> 2*200, no
  activation); z = mu + eps * exp(0.5 logvar), eps ~ N(0, 1), while training,
  z = mu otherwise; decoder logits = tanh(z W3 + b3) W4 + b4.
* per mini-batch of B users:
  NLL = -(1/B) Σ_u Σ_i x_ui log_softmax(logits_u)_i;
  Mult-DAE loss = NLL + l2 * Σ_weights ||W||²  (biases excluded; the notebook's
  ``2 * l2_regularizer(lam)``, gradient 2 l2 W; default l2 = 0.01 / 500);
  Mult-VAE loss = NLL + β KL + l2 * Σ ||W||², KL = (1/B) Σ_u -0.5 Σ_k
  (1 + logvar - mu² - exp(logvar)), β = min(beta_cap, update_count /
  anneal_steps) (β = beta_cap when anneal_steps = 0) where update_count is the
  number of mini-batches trained before this one (the notebook's
  ``update_count``); default l2 = 0.
* init: Xavier/Glorot-uniform weights, biases ~ N(0, 0.001²) (the notebook
  uses a normal truncated at 2 std; the difference is immaterial); Adam (lr
  1e-3, betas (0.9, 0.999), eps 1e-8, the TF1 defaults); float32; users
  shuffled every epoch with a seeded ``torch.randperm``; last batch smaller.
* scoring (``as_recommender()``): the logits of the fold-in rows,
  no dropout, z = mu.

Device: ``device="cpu"`` (default) or ``"cuda"`` (a string or ``torch.device``) puts
the network, the Adam state and every training batch on that device; each
mini-batch is still densified on the host from the CSR matrix (as on the CPU)
and copied to the device. Initial weights and the per-epoch user permutation
come from a CPU ``torch.Generator`` seeded with ``seed`` whatever the device
(the weights are initialised on the CPU, then moved), so they are the same on
every device; the dropout masks and the VAE noise come from that same CPU
generator on the CPU (so CPU runs are unchanged) and from a second generator on
the device, seeded with the same ``seed``, otherwise. Scores are returned as
host numpy arrays either way.

With ``validation`` (a ``FoldInOut``) each epoch is scored with
``af.evaluate(adapter, validation, [metric])``; the best epoch's weights are
kept (a ``state_dict`` copy) and restored at the end of ``fit`` (baselines/base.py).

Usage (``benchmarks/`` on ``sys.path``, see benchmarks/common.py)::

    from baselines.multvae import TorchMultVAE
    model = TorchMultVAE.trained(split.train, 50, kind="vae",
                                 validation=split.validation)  # device="cuda" on a GPU
    af.evaluate(model.as_recommender(), split.test, ["ndcg@100", "recall@20"])
    model.epoch_seconds, model.history, model.best_epoch

This module imports no pytest; the speed suite and ``implicit_accuracy.py`` use it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from baselines.base import RankingTrainer, csr_to_dense, seeded_dropout

__all__ = ["MultVAENet", "TorchMultVAE"]

DEFAULT_LAYERS = {"vae": [600, 200], "dae": [200]}
DEFAULT_L2 = {"vae": 0.0, "dae": 0.01 / 500}


class MultVAENet(nn.Module):
    """Mult-VAE (``kind="vae"``) or Mult-DAE (``kind="dae"``) network over ``n_items`` items.

    Built on the CPU (``generator``, a CPU generator, seeds the init); move it with
    ``.to(device)``. ``forward``'s ``generator`` (dropout mask, VAE noise) must be on
    the device of ``x``."""

    def __init__(self, n_items, kind="vae", layers=None, dropout=0.5, generator=None):
        super().__init__()
        if kind not in ("vae", "dae"):
            raise ValueError(f"kind must be 'vae' or 'dae', got {kind!r}")
        layers = list(DEFAULT_LAYERS[kind] if layers is None else layers)
        if not layers or any(int(d) <= 0 for d in layers):
            raise ValueError(f"layers must be positive widths, got {layers!r}")
        self.kind = kind
        self.dropout = float(dropout)
        self.latent = int(layers[-1])
        # q_dims = [I, *layers]; p_dims = reversed(q_dims)
        q_dims = [int(n_items)] + [int(d) for d in layers]
        p_dims = q_dims[::-1]
        if kind == "vae":
            enc_out = q_dims[1:-1] + [2 * q_dims[-1]]
            self.encoder = nn.ModuleList(nn.Linear(a, b) for a, b in zip(q_dims[:-1], enc_out))
            self.decoder = nn.ModuleList(nn.Linear(a, b) for a, b in zip(p_dims[:-1], p_dims[1:]))
        else:  # the notebook's MultiDAE: one stack q_dims + p_dims[1:]
            dims = q_dims + p_dims[1:]
            self.encoder = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
            self.decoder = nn.ModuleList()
        with torch.no_grad():
            for lin in self.linears():
                nn.init.xavier_uniform_(lin.weight, generator=generator)
                nn.init.normal_(lin.bias, 0.0, 0.001, generator=generator)

    def linears(self):
        return [*self.encoder, *self.decoder]

    def weights(self):
        return [lin.weight for lin in self.linears()]

    @staticmethod
    def _stack(layers, h):
        for i, lin in enumerate(layers):
            h = lin(h)
            if i != len(layers) - 1:
                h = torch.tanh(h)
        return h

    def forward(self, x, generator=None):
        """Returns (logits, mu, logvar); mu and logvar are None for the DAE."""
        h = F.normalize(x, p=2, dim=1, eps=1e-12)
        if self.training:
            h = seeded_dropout(h, self.dropout, generator)
        if self.kind == "dae":
            return self._stack(self.encoder, h), None, None
        q = self._stack(self.encoder, h)
        mu, logvar = q[:, :self.latent], q[:, self.latent:]
        if self.training:
            eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)
            z = mu + eps * torch.exp(0.5 * logvar)
        else:
            z = mu
        return self._stack(self.decoder, z), mu, logvar


class TorchMultVAE(RankingTrainer):
    """The CSR training matrix, the network and Adam (loop, validation and scoring:
    RankingTrainer).

    ``device`` (``"cpu"``, ``"cuda"``, ... or a ``torch.device``): where the network, the
    optimizer state and the training batches live. The CSR matrix stays on the host; each
    mini-batch is densified there and copied to the device. Dropout masks and VAE noise use
    ``self.sample_gen`` (see baselines/base.py).
    """

    def __init__(self, train, kind="vae", layers=None, dropout=0.5, beta_cap=0.2,
                 anneal_steps=200000, batch_size=500, lr=1e-3, l2=None, seed=0, device="cpu"):
        if kind not in ("vae", "dae"):
            raise ValueError(f"kind must be 'vae' or 'dae', got {kind!r}")
        super().__init__(batch_size=batch_size, seed=seed, device=device)
        self.kind = kind
        self.recommender_name = f"torch-mult{kind}"
        self.beta_cap = float(beta_cap)
        self.anneal_steps = int(anneal_steps)
        self.lr = float(lr)
        self.l2 = float(DEFAULT_L2[kind] if l2 is None else l2)
        self.set_interactions(train)
        self.net = MultVAENet(self.n_items, kind=kind, layers=layers, dropout=dropout,
                              generator=self.gen).to(self.device)   # initialised on the CPU
        self.optimizer = self.build_optimizer("adam", self.lr)
        self.update_count = 0

    def beta(self):
        if self.anneal_steps > 0:
            return min(self.beta_cap, self.update_count / self.anneal_steps)
        return self.beta_cap

    def epoch_order(self):
        return super().epoch_order().numpy()

    def train_batch(self, rows):
        x = csr_to_dense(self.X[rows]).to(self.device)
        logits, mu, logvar = self.net(x, generator=self.sample_gen)
        loss = -(F.log_softmax(logits, dim=1) * x).sum(1).mean()
        if self.kind == "vae":
            kl = (-0.5 * (1.0 + logvar - mu.pow(2) - logvar.exp()).sum(1)).mean()
            loss = loss + self.beta() * kl
        if self.l2:
            loss = loss + self.l2 * sum(w.pow(2).sum() for w in self.net.weights())
        value = self.optimizer_step(loss)   # .item() waits for this step's device work
        self.update_count += 1
        return value

    def scores(self, X):
        """Logits of the fold-in rows: no dropout, z = mu."""
        logits, _, _ = self.net(csr_to_dense(X).to(self.device))
        return logits
