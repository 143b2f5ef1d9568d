"""SVAE (Sachdeva et al., WSDM 2019) in plain PyTorch: the baseline of the SVAE benchmarks.

Written the way a competent PyTorch user ports the reference code
(noveens/svae_cf) to batched training, not tuned against our kernels:
``nn.Embedding`` + ``nn.GRU`` on packed sequences (the GRU never runs on padding),
``nn.Linear`` layers applied to the valid steps only (the packed ``.data``),
``log_softmax`` + ``gather`` on the sparse next-k targets with a mask (no
dense steps x items target matrix), autograd, ``torch.optim.Adam``.

Model and objective (the same as ``autorec_fast.train("svae", ...)``):

* data: per user, the items sorted by (timestamp, entry order) give a sequence
  s_0 .. s_{n-1}; users with n < 2 have no training step and are skipped in
  training. Input steps t = 0 .. n-2 take item s_t; the targets of step t are
  the next up-to-k items s_{t+1} .. s_{min(n-1, t+k)} (k = ``next_k`` = 4).
* network, per step: embedding (n_items x 256) -> GRU(256 -> 200, torch gate
  conventions, h_0 = 0) -> Linear(200 -> 150) + tanh -> Linear(150 -> 2*64)
  split into [mu, logvar] -> z = mu + exp(0.5 logvar) * eps, eps ~ N(0, 1)
  while training, z = mu when scoring -> Linear(64 -> 150) + tanh ->
  Linear(150 -> n_items) logits.
* loss of a batch of B users: (1/B) Σ_u [NLL_u + β KL_u] with
  NLL_u = Σ_t Σ_{j in targets(t)} -log_softmax(logits_t)_j / next_k and
  KL_u = the mean over u's steps of ½ Σ (-logvar + exp(logvar) + mu² - 1);
  β = min(beta_cap = 0.2, step / anneal_steps = 200000), ``step`` counting the
  mini-batches from 1 (the first batch trains with step = 1).
* init: torch defaults (embedding N(0, 1), GRU and biases uniform) except
  ``xavier_normal_`` on the four Linear weights, as the original code;
  ``torch.optim.Adam(lr=1e-3, weight_decay=5e-3)`` over all parameters
  (coupled L2, as the original code); float32; batch 32 users; users shuffled
  every epoch with a seeded numpy generator; the last batch smaller.
* scoring: a user's whole ordered history through the GRU, the last step's
  hidden state -> z = mu -> logits over all items (a user with an empty
  history gets the decoding of h = h_0 = 0). Ranking code excludes the history.

Cost note (torch 2.13 CPU, measured on one batch of 32 synthetic ML-1M-shaped
users, 2,828 steps, longest 403): the packed GRU's backward zero-fills a
(valid steps x 3*200) input-gradient buffer once per time step (profiler:
402 ``aten::fill_`` of [2828, 600]), so its cost grows with longest length x
valid steps. A padded, unpacked ``nn.GRU`` (``gru_mode="padded"``, the obvious
alternative) computes on the padding instead: on 300 synthetic ML-1M-shaped
users (sequences up to ~1,500) one epoch took 19.5 s padded against 17.3 s
packed, while on a lone 32-sequence GRU forward + backward with lengths up to
1,000 padded was far faster (0.69 s against 15.6 s). The benchmarks time both
modes and compare against the faster.

Device: ``TorchSVAETrainer(..., device="cuda")`` (a string or ``torch.device``,
default ``"cpu"``) puts the network, the Adam state and every batch tensor (item ids, targets, masks, gather indices)
on that device; the sequences and the batching arithmetic stay in host numpy,
and the sequence lengths given to ``pack_padded_sequence`` stay on the CPU, as it
requires. The weights are initialised on the CPU after ``torch.manual_seed(seed)``
and then moved, so they are the same on every device; the reparameterisation
noise (``torch.randn_like``) comes from the default generator of the tensor's
device, which ``torch.manual_seed`` also seeds on CUDA. ``batch_loss`` and
``score`` use the device of the model's parameters; scores are host numpy.

Usage (``benchmarks/`` on ``sys.path``, see benchmarks/common.py)::

    from baselines.svae import TorchSVAETrainer
    t = TorchSVAETrainer(split.train, seed=0)  # device="cuda" on a GPU
    t.fit(25)                                 # or t.run_epoch() (timed alone)
    scores = t.score(split.test.fold_in)      # users x items numpy float32

or the functions: ``sequences_from_interactions``, ``batch_loss``, ``score``.
This module imports no pytest; the speed suite and ``svae_accuracy.py`` use it.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from baselines.base import TorchTrainer, eval_mode

__all__ = ["FlatSequences", "TorchSVAE", "TorchSVAETrainer", "batch_loss", "beta_at", "score",
           "sequences_from_interactions"]


def _device_of(model):
    return next(model.parameters()).device


# ----------------------------------------------------------------------------- data

def sequences_from_interactions(inter):
    """One int64 array of item columns per row of ``inter`` (an ``Interactions``), ordered by
    (timestamp, entry_order); by entry_order alone when there are no timestamps."""
    m = inter.matrix
    indptr = np.asarray(m.indptr, dtype=np.int64)
    rows = np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(indptr))
    entry = np.asarray(inter.entry_order, dtype=np.int64)
    ts = inter.timestamps
    keys = (entry, rows) if ts is None else (entry, np.asarray(ts, dtype=np.int64), rows)
    order = np.lexsort(keys)  # last key is the primary one: row, then time, then entry order
    items = np.asarray(m.indices, dtype=np.int64)[order]
    return np.split(items, indptr[1:-1])


class FlatSequences:
    """Sequences concatenated: ``items``, ``offsets`` and ``lengths`` (for vectorised batching)."""

    def __init__(self, sequences):
        self.lengths = np.array([len(s) for s in sequences], dtype=np.int64)
        self.offsets = np.zeros(len(sequences), dtype=np.int64)
        np.cumsum(self.lengths[:-1], out=self.offsets[1:])
        self.items = (np.concatenate([np.asarray(s, dtype=np.int64) for s in sequences])
                      if len(sequences) else np.zeros(0, np.int64))
        if self.items.size == 0:  # keep gathers in range
            self.items = np.zeros(1, np.int64)

    def padded(self, users, steps):
        """(len(users), max steps) int64: the first ``steps[b]`` items of each user, 0-padded."""
        T = int(steps.max())
        cols = np.arange(T, dtype=np.int64)
        pos = self.offsets[users][:, None] + cols
        return np.where(cols < steps[:, None], self.items[np.minimum(pos, self.items.size - 1)], 0)


# ---------------------------------------------------------------------------- model

class TorchSVAE(nn.Module):
    """Embedding -> GRU -> encoder MLP -> (mu, logvar) -> decoder MLP -> item logits.

    Built on the CPU (torch default init from the global seed); move it with
    ``.to(device)``. Inputs go on the parameters' device, except the GRU lengths."""

    def __init__(self, n_items, embedding=256, gru=200, hidden=150, latent=64):
        super().__init__()
        self.n_items = int(n_items)
        self.latent = int(latent)
        self.item_embed = nn.Embedding(self.n_items, embedding)
        self.gru = nn.GRU(embedding, gru, batch_first=True)
        self.enc = nn.Linear(gru, hidden)
        self.enc_out = nn.Linear(hidden, 2 * latent)
        self.dec = nn.Linear(latent, hidden)
        self.dec_out = nn.Linear(hidden, self.n_items)
        for lin in (self.enc, self.enc_out, self.dec, self.dec_out):
            nn.init.xavier_normal_(lin.weight)

    def encode(self, h):
        q = self.enc_out(torch.tanh(self.enc(h)))
        return q[:, :self.latent], q[:, self.latent:]

    def decode(self, z):
        return self.dec_out(torch.tanh(self.dec(z)))

    def steps(self, items, lengths):
        """GRU over padded ``items`` (B x T int64 tensor on the model's device) with ``lengths``
        (B,) steps each (a CPU tensor, as ``pack_padded_sequence`` wants).
        Returns (packed output, h_n): the packed ``.data`` holds the valid steps only (time-major,
        users sorted by length; ``batch_sizes`` on the CPU, ``sorted_indices`` on the device),
        h_n (B x gru) the last hidden state in the input order."""
        packed = pack_padded_sequence(self.item_embed(items), lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)
        out, h_n = self.gru(packed)
        return out, h_n[0]


def beta_at(step, beta_cap=0.2, anneal_steps=200000):
    return min(beta_cap, step / anneal_steps) if anneal_steps > 0 else beta_cap


def batch_loss(model, flat, users, next_k, beta, sample=True, gru_mode="packed"):
    """The loss of one batch (users = indices into ``flat``, each with >= 2 items).

    ``gru_mode``: "padded" runs ``nn.GRU`` on the zero-padded batch and keeps the
    valid steps' outputs (a mask) for the layers above; "packed" runs it on a
    ``PackedSequence``. Both give the same loss (checked to float32 equality);
    which is faster depends on the length spread (see the module docstring),
    so the benchmarks time both. Runs on the device of ``model``'s parameters: the
    index arithmetic is host numpy, its results are copied to that device."""
    device = _device_of(model)
    n = flat.lengths[users]
    L = n - 1  # steps per user
    items = torch.from_numpy(flat.padded(users, L)).to(device)
    if gru_mode == "padded":
        hs, _ = model.gru(model.item_embed(items))  # B x T x gru, padding included
        valid_bt = np.arange(items.shape[1])[None, :] < L[:, None]
        b_idx, t_idx = np.nonzero(valid_bt)
        data = hs[torch.from_numpy(valid_bt).to(device)]  # row-major (b, t) order, as np.nonzero
    elif gru_mode == "packed":
        out, _ = model.steps(items, torch.from_numpy(L))  # lengths stay on the CPU
        data = out.data
        # which (user, t) each packed row is: time-major, batch_sizes[t] users (sorted) at time t
        bs = out.batch_sizes.numpy().astype(np.int64)  # always a CPU tensor
        t_idx = np.repeat(np.arange(bs.size, dtype=np.int64), bs)
        i_idx = np.arange(t_idx.size, dtype=np.int64) - np.repeat(np.cumsum(bs) - bs, bs)
        b_idx = out.sorted_indices.cpu().numpy()[i_idx]  # a B-long copy off the device
    else:
        raise ValueError(f"unknown gru_mode {gru_mode!r}")
    j = np.arange(1, next_k + 1, dtype=np.int64)
    valid = (t_idx[:, None] + j) < n[b_idx][:, None]  # target s_{t+j} exists
    pos = flat.offsets[users][b_idx][:, None] + t_idx[:, None] + j
    targets = np.where(valid, flat.items[np.minimum(pos, flat.items.size - 1)], 0)

    mu, logvar = model.encode(data)
    z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu) if sample else mu
    logp = F.log_softmax(model.decode(z), dim=1)
    picked = logp.gather(1, torch.from_numpy(targets).to(device))
    nll = -(picked * torch.from_numpy(valid).to(device=device, dtype=picked.dtype)).sum() / next_k
    kl_step = 0.5 * (-logvar + logvar.exp() + mu.pow(2) - 1.0).sum(1)
    steps_of_row = torch.from_numpy(L[b_idx]).to(device=device, dtype=kl_step.dtype)
    kl = (kl_step / steps_of_row).sum()  # Σ_u mean_t
    return (nll + beta * kl) / len(users)


@torch.no_grad()
def score(model, sequences, batch_size=256):
    """Logits (users x items, host numpy float32) from each user's whole ordered history,
    z = mu; computed on the device of ``model``."""
    flat = sequences if isinstance(sequences, FlatSequences) else FlatSequences(sequences)
    device = _device_of(model)
    with eval_mode(model):
        n_users = flat.lengths.size
        out = np.empty((n_users, model.n_items), dtype=np.float32)
        for start in range(0, n_users, batch_size):
            users = np.arange(start, min(start + batch_size, n_users))
            n = flat.lengths[users]
            h = torch.zeros(users.size, model.gru.hidden_size, device=device)
            has = np.flatnonzero(n > 0)
            if has.size:
                _, h_n = model.steps(torch.from_numpy(flat.padded(users[has], n[has])).to(device),
                                     torch.from_numpy(n[has]))  # lengths stay on the CPU
                h[torch.from_numpy(has).to(device)] = h_n
            mu, _ = model.encode(h)
            out[users] = model.decode(mu).cpu().numpy()
    return out


# -------------------------------------------------------------------------- trainer

class TorchSVAETrainer(TorchTrainer):
    """The sequences, the network, Adam and the batch counter (the loop: TorchTrainer).

    Construction does the set-up (ordering the sequences included); :meth:`run_epoch` is
    one epoch (the speed benchmarks time it alone); :meth:`fit` runs several;
    :meth:`score` scores fold-in ``Interactions`` from their ordered histories.

    ``device`` (``"cpu"``, ``"cuda"``, ... or a ``torch.device``): where the network, the
    Adam state and the batch tensors live; both GRU modes (``gru_mode="packed"`` and
    ``"padded"``) run there. Unlike the other baselines (the reference code's way): the
    weights are initialised by torch's defaults on the CPU after ``torch.manual_seed(seed)``
    and moved, the users are shuffled by a seeded numpy generator, and the sampling noise
    comes from the device's default generator (seeded by ``torch.manual_seed``).
    """

    def __init__(self, train, embedding=256, gru=200, hidden=150, latent=64, next_k=4,
                 beta_cap=0.2, anneal_steps=200000, batch_size=32, lr=1e-3, weight_decay=5e-3,
                 seed=0, gru_mode="packed", device="cpu"):
        super().__init__(batch_size=batch_size, seed=seed, device=device)
        self.gru_mode = gru_mode
        self.next_k = int(next_k)
        self.beta_cap = float(beta_cap)
        self.anneal_steps = int(anneal_steps)
        self.n_items = int(train.n_items)
        self.item_ids = np.asarray(train.item_ids)
        self.flat = FlatSequences(sequences_from_interactions(train))
        self.n_train_users = self.n_examples = int((self.flat.lengths >= 2).sum())
        self.n_steps = int(np.maximum(self.flat.lengths - 1, 0).sum())
        torch.manual_seed(self.seed)
        self.rng = np.random.default_rng(self.seed)
        self.net = TorchSVAE(self.n_items, embedding, gru, hidden, latent).to(self.device)
        self.optimizer = self.build_optimizer("adam", lr, weight_decay=weight_decay)
        self.step = 0  # mini-batches trained so far

    def epoch_order(self):
        """The users with >= 2 items (a training step), shuffled by ``self.rng``."""
        users = np.flatnonzero(self.flat.lengths >= 2)
        return users[self.rng.permutation(users.size)]

    def train_batch(self, users):
        self.step += 1
        loss = batch_loss(self.net, self.flat, users, self.next_k,
                          beta_at(self.step, self.beta_cap, self.anneal_steps), gru_mode=self.gru_mode)
        return self.optimizer_step(loss)   # .item() waits for this step's device work

    def score(self, fold_in):
        """Dense users x items float32 logits for the rows of ``fold_in`` (Interactions over the
        training items, with timestamps), each from its (timestamp, entry order) history."""
        if fold_in.n_items != self.n_items:
            raise ValueError(f"fold_in has {fold_in.n_items} item columns, the model {self.n_items}")
        return score(self.net, sequences_from_interactions(fold_in))
