"""SVAE (Sachdeva et al., WSDM 2019): a sequential variational autoencoder for
next-items recommendation.

Per user, the items in time order s_0 … s_{n-1}. Step t reads item s_t:

    item embedding → GRU → dense + tanh → (μ, log σ²) → z = μ + σ·ε
    → dense + tanh → logits over all items

and predicts the next ``next_k`` items s_{t+1} … s_{t+k} with a multinomial
likelihood. Loss for a batch of B users: (1/B) Σ_u [NLL_u + β·KL_u] with
NLL_u = Σ_t Σ_{j ∈ next_k(t)} −log softmax(logits_t)_j / next_k (the reference
divides by k as well) and KL_u the mean over u's steps; β = min(beta_cap,
step / anneal_steps) with one step per batch; Adam with weight decay ``l2``
added to every gradient (PyTorch's ``Adam(weight_decay=...)``, as the
reference). Scoring a history: z = μ at its last step.

Differences from the reference code, on purpose: batches of ``batch_size``
users packed into one set of GRU steps (the reference trains one user per
batch, which its code could not avoid); σ² parameterised as log σ² (the
reference uses log σ for the noise and log σ² in its KL).

Kernels: the GRU forward and backward through time over packed sequences (no
padding is stored or computed) in ``csrc/cpu/gru.cpp`` (``csrc/cuda/gru.cu``
on the GPU); the fused bias + log-softmax + next-k NLL + gradient over the
logits in ``csrc/cpu/loss.cpp``; the embedding gradient scatter in
``dense_ops.cpp``; dense layers through BLAS; Adam in ``csrc/cpu/optim.cpp``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._validation import check_item_labels, check_positive
from ..interactions import Interactions, as_interactions
from ._shared import OPTIMIZERS, ImplicitModel, warn_if_explicit, meta_count
from ._training import GradientTrained, check_anneal_steps, kl_weight

#: parameter names, in the order of the arrays in ``_params``
PARAM_NAMES = ("embedding", "W_ih", "b_ih", "W_hh", "b_hh", "W_enc", "b_enc", "W_lat", "b_lat",
               "W_dec", "b_dec", "W_out", "b_out")
_LOGITS_CHUNK = 1 << 23  # output-layer rows per chunk x items: bounds the logits' memory


# --------------------------------------------------------------------------- sequences
def ordered_sequences(data, name="data"):
    """Each user's items in time order, as ``(indptr, items)``.

    Users are the rows of ``data`` (an ``Interactions`` with timestamps); row
    u's items are ``items[indptr[u]:indptr[u + 1]]`` sorted by timestamp, ties
    by input order (``entry_order``). Only stored entries with a value > 0 count.
    """
    inter = as_interactions(data)
    if inter.timestamps is None:
        raise ValueError(f"{name} has no timestamps: SVAE orders each user's items by time")
    m = inter.matrix
    if m.nnz and (m.data < 0).any():
        raise ValueError(f"{name} has negative values; SVAE needs interactions (counts or 0/1)")
    keep = m.data > 0
    rows = np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr))[keep]
    order = np.lexsort((inter.entry_order[keep], inter.timestamps[keep], rows))
    items = m.indices[keep][order].astype(np.int64)
    indptr = np.zeros(m.shape[0] + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=m.shape[0]), out=indptr[1:])
    return indptr, items, inter


def sequences_to_ordered_csr(sequences, n_items, dtype, name="history"):
    """A list of item-index sequences -> the ordered CSR (values: 1-based position).

    An item repeated in a sequence keeps its last position.
    """
    rows, cols, pos = [], [], []
    for u, seq in enumerate(sequences):
        seq = np.asarray(seq)
        if seq.ndim != 1 or (seq.size and seq.dtype.kind not in "iu"):
            raise TypeError(f"{name}[{u}] must be a 1-D sequence of integer item indices")
        if seq.size and (seq.min() < 0 or seq.max() >= n_items):
            raise ValueError(f"{name}[{u}] has item indices outside [0, {n_items})")
        rows.append(np.full(seq.size, u, np.int64))
        cols.append(seq.astype(np.int64))
        pos.append(np.arange(1, seq.size + 1, dtype=np.float64))
    if not rows:
        return sp.csr_matrix((0, n_items), dtype=dtype)
    rows, cols, pos = np.concatenate(rows), np.concatenate(cols), np.concatenate(pos)
    key = rows * n_items + cols
    order = np.lexsort((pos, key))
    # each (user, item)'s last position (no entries at all: every sequence empty)
    last = order[np.r_[key[order][1:] != key[order][:-1], True]] if key.size else order
    m = sp.csr_matrix((pos[last].astype(dtype), (rows[last], cols[last])), shape=(len(sequences), n_items))
    m.indptr = m.indptr.astype(np.int64)
    m.indices = m.indices.astype(np.int32)
    return m


def _sequences_from_ordered_csr(X):
    """Inverse of the ordered CSR: (indptr, items) with each row in position order."""
    rows = np.repeat(np.arange(X.shape[0], dtype=np.int64), np.diff(X.indptr))
    order = np.lexsort((X.data, rows))
    return X.indptr.astype(np.int64), X.indices[order].astype(np.int64)


def pack_batch(indptr, items, users, n_steps_of, next_k=None):
    """Pack the users' sequences for the GRU (longest first, time-major).

    ``n_steps_of[u]`` steps of user u are used (its first items). Returns
    ``(inputs, batch_sizes, users_sorted, row_user, row_step)`` and, with
    ``next_k``, the CSR targets of every packed row (the next k items, value
    1/next_k) as ``(t_indptr, t_indices)``.
    """
    steps = n_steps_of[users]
    order = np.argsort(-steps, kind="stable")
    users, steps = users[order], steps[order]
    users, steps = users[steps > 0], steps[steps > 0]
    n = steps.size
    max_steps = int(steps[0]) if n else 0
    # batch_sizes[t] = number of sequences longer than t (steps sorted descending)
    batch_sizes = n - np.searchsorted(steps[::-1], np.arange(max_steps), side="right")
    offsets = np.zeros(max_steps + 1, np.int64)
    np.cumsum(batch_sizes, out=offsets[1:])
    seq = np.repeat(np.arange(n, dtype=np.int64), steps)  # per (sequence, step) entry
    first = np.repeat(np.cumsum(steps) - steps, steps)
    t = np.arange(seq.size, dtype=np.int64) - first
    packed_row = offsets[t] + seq
    inputs = np.empty(seq.size, np.int64)
    start = indptr[users][seq]
    inputs[packed_row] = items[start + t]
    row_seq = np.empty(seq.size, np.int64)
    row_seq[packed_row] = seq
    row_step = np.empty(seq.size, np.int64)
    row_step[packed_row] = t
    out = (inputs, batch_sizes.astype(np.int64), users, row_seq, row_step)
    if next_k is None:
        return out
    length = (indptr[users + 1] - indptr[users])[row_seq]  # the whole sequence's length
    count = np.minimum(next_k, length - 1 - row_step)  # targets s_{t+1} .. s_{t+k} that exist
    t_indptr = np.zeros(seq.size + 1, np.int64)
    np.cumsum(count, out=t_indptr[1:])
    r = np.repeat(np.arange(seq.size), count)
    j = np.arange(t_indptr[-1]) - t_indptr[r]
    t_indices = items[indptr[users][row_seq][r] + row_step[r] + 1 + j].astype(np.int32)
    return out + (t_indptr, t_indices)


# --------------------------------------------------------------------------- the model
class SVAE(ImplicitModel, GradientTrained):
    """Sequential VAE for next-items recommendation (Sachdeva et al. 2019).

    Parameters
    ----------
    embedding, gru, hidden, latent : int
        Layer sizes: item embedding (256), GRU state (200), the dense layers
        around the latent code (150) and the latent size (64).
    next_k : int
        Each step predicts the next ``next_k`` items (reference: 4).
    beta_cap, anneal_steps : KL annealing, β = min(beta_cap, step / anneal_steps) with one
        step per batch (reference: 0.2, 200,000). The default ``anneal_steps="auto"``
        reaches ``beta_cap`` after 80 % of the run's batches, as :class:`~autorec_fast.MultVAE`'s.
    epochs, batch_size, lr : Adam schedule (reference: 25 epochs, lr 1e-3; the
        reference trains one user per batch, the default here packs 32).
    l2 : float
        Weight decay added to every parameter's gradient (reference: 5e-3).
    metric, patience : validation (``fit(..., validation=split.validation)``):
        the best epoch by ``metric`` is kept; training stops after ``patience``
        epochs (default 10; None: never) without a better one.
    seed, dtype, device, verbose
        As for the other models.

    Notes
    -----
    Data: an ``Interactions`` with timestamps (see
    :func:`autorec_fast.splits.sequential_split_from_ratings`); every training
    user needs at least 2 interactions. Histories given to ``score`` /
    ``recommend`` / ``evaluate`` are ``Interactions`` with timestamps (rows:
    users, columns: the model's items) or a list of item-index sequences in
    time order.
    """

    name = "svae"
    _optimizer = "adam"  # tests switch to "sgd" to read gradients off a step
    _sort_batches = False  # a batch's users in their shuffled order (packing sorts by length)

    def __init__(self, embedding: int = 256, gru: int = 200, hidden: int = 150, latent: int = 64,
                 next_k: int = 4, beta_cap: float = 0.2, anneal_steps="auto",
                 epochs: int = 25, batch_size: int = 32, lr: float = 1e-3, l2: float = 5e-3,
                 metric: str = "ndcg@100", patience: int | None = 10, seed: int = 0,
                 dtype="float32", device: str = "cpu", verbose: bool = False):
        super().__init__(device)
        self.embedding = check_positive(embedding, "embedding", integer=True)
        self.gru = check_positive(gru, "gru", integer=True)
        self.hidden = check_positive(hidden, "hidden", integer=True)
        self.latent = check_positive(latent, "latent", integer=True)
        self.next_k = check_positive(next_k, "next_k", integer=True)
        self.beta_cap = check_positive(beta_cap, "beta_cap", allow_zero=True)
        self.anneal_steps = check_anneal_steps(anneal_steps)
        self.metric = self._check_metric(metric)
        self._set_training_options(epochs=epochs, batch_size=batch_size, lr=lr, l2=l2,
                                   patience=patience, seed=seed, dtype=dtype, verbose=verbose)
        self._params = None

    # ------------------------------------------------------------ parameters
    def _shapes(self, n_items):
        E, G, Hd, L = self.embedding, self.gru, self.hidden, self.latent
        return {"embedding": (n_items, E), "W_ih": (E, 3 * G), "b_ih": (3 * G,),
                "W_hh": (G, 3 * G), "b_hh": (3 * G,), "W_enc": (G, Hd), "b_enc": (Hd,),
                "W_lat": (Hd, 2 * L), "b_lat": (2 * L,), "W_dec": (L, Hd), "b_dec": (Hd,),
                "W_out": (Hd, n_items), "b_out": (n_items,)}

    def _init(self, rng, n_items):
        """PyTorch's initialisations, Xavier-normal on the dense weights as the reference."""
        shapes = self._shapes(n_items)
        params = {"embedding": rng.standard_normal(shapes["embedding"])}
        bound = 1.0 / np.sqrt(self.gru)
        for k in ("W_ih", "b_ih", "W_hh", "b_hh"):
            params[k] = rng.uniform(-bound, bound, shapes[k])
        for layer in ("enc", "lat", "dec", "out"):
            fan_in, fan_out = shapes[f"W_{layer}"]
            params[f"W_{layer}"] = rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), (fan_in, fan_out))
            b = 1.0 / np.sqrt(fan_in)
            params[f"b_{layer}"] = rng.uniform(-b, b, fan_out)
        self._params = [self._backend.asarray(params[k].astype(self.dtype)) for k in PARAM_NAMES]

    def _p(self, name):
        return self._params[PARAM_NAMES.index(name)]

    # ------------------------------------------------------------ histories
    def _as_history(self, history, name="history"):
        """Ordered CSR (values: 1-based position in time) of the histories."""
        if isinstance(history, Interactions):
            if history.n_items != self.n_items:
                raise ValueError(f"{name} must have {self.n_items} columns (the model's items), "
                                 f"got {history.n_items}")
            check_item_labels(history, self.item_ids, name)
            indptr, items, _ = ordered_sequences(history, name)
            pos = np.arange(items.size) - np.repeat(indptr[:-1], np.diff(indptr)) + 1
            X = sp.csr_matrix((pos.astype(self.dtype), items.astype(np.int32), indptr),
                              shape=(history.n_users, self.n_items))
            X.sort_indices()
            return X
        if isinstance(history, (list, tuple)):
            return sequences_to_ordered_csr(history, self.n_items, self.dtype, name)
        raise TypeError(f"{name}: SVAE needs ordered histories, an Interactions with timestamps or "
                        f"a list of item-index sequences in time order, got {type(history).__name__}")

    # ------------------------------------------------------------ forward
    def _encode_steps(self, inputs, batch_sizes):
        """Embedding → GRU → tanh dense → (μ, log σ²) for the packed steps."""
        p, ops = self._p, self._backend
        X = p("embedding")[ops.asarray(inputs)]
        Xi = ops.mm(X, p("W_ih"))
        Xi += p("b_ih")
        H, cache = ops.gru_forward(Xi, batch_sizes, p("W_hh"), p("b_hh"))
        A1 = ops.xp.tanh(ops.mm(H, p("W_enc")) + p("b_enc"))
        lat = ops.mm(A1, p("W_lat"))
        lat += p("b_lat")
        return X, H, cache, A1, lat

    def _score_csr(self, X):
        """Logits after each row's whole history (z = μ); an empty history scores from h = 0."""
        xp = self._backend.xp
        indptr, items = _sequences_from_ordered_csr(X)
        lengths = np.diff(indptr)
        users = np.arange(X.shape[0])
        inputs, bs, users_sorted, row_seq, row_step = pack_batch(indptr, items, users, lengths)
        Hlast = xp.zeros((X.shape[0], self.gru), self.dtype)
        if inputs.size:
            _, H, _, _, _ = self._encode_steps(inputs, bs)
            last = np.flatnonzero(row_step == lengths[users_sorted][row_seq] - 1)
            Hlast[xp.asarray(users_sorted[row_seq[last]])] = H[xp.asarray(last)]
        p = self._p
        A1 = xp.tanh(Hlast @ p("W_enc") + p("b_enc"))
        mu = A1 @ p("W_lat")[:, : self.latent] + p("b_lat")[: self.latent]
        A2 = xp.tanh(mu @ p("W_dec") + p("b_dec"))
        logits = A2 @ p("W_out")
        logits += p("b_out")
        return logits

    # ------------------------------------------------------------ training
    def fit(self, data, validation=None, callback=None,
            on_divergence: str = "raise", callbacks=None) -> "SVAE":
        """Train on time-stamped interactions (users x items, values > 0 count).

        ``validation``: a FoldInOut of held-out users whose Interactions keep
        their timestamps (``split.validation`` of
        :func:`~autorec_fast.splits.temporal_heldout_split`), scored every
        epoch with ``metric``; the best epoch's parameters are kept.
        ``callbacks``, ``callback`` and ``on_divergence``: as :meth:`MultVAE.fit`'s.
        """
        indptr, items, inter = ordered_sequences(data)
        lengths = np.diff(indptr)
        if inter.n_users == 0 or items.size == 0:
            raise ValueError("data has no interactions")
        short = int(np.sum(lengths < 2))
        if short:
            raise ValueError(f"data has {short} users with fewer than 2 interactions; SVAE learns "
                             "from sequences of length >= 2 (filter them out first, e.g. "
                             "autorec_fast.filter_min_counts(data, min_user_count=2))")
        warn_if_explicit(inter, "SVAE", f"every one of its {items.size:,} ratings, the lowest included, "
                                        "became a step of its user's sequence")
        self.item_ids = np.asarray(inter.item_ids)
        self.n_items = inter.n_items
        shapes = self._shapes(self.n_items)
        steps = int(np.sort(lengths)[::-1][: self.batch_size].sum())  # a batch's packed steps, at most
        per_step = self.embedding + 11 * self.gru + 4 * self.hidden + 6 * self.latent
        # Adam's two states and the gradients; the per-step activations and the logits in chunks
        n_params = sum(int(np.prod(s)) for s in shapes.values())
        self._require_memory(n_params, 3, steps * per_step + 2 * min(_LOGITS_CHUNK, steps * self.n_items),
                             f"{self.n_items:,} items, {steps:,} steps per batch at most", validation,
                             init_float64=n_params)
        rng = np.random.default_rng(self.seed)
        self._init(rng, self.n_items)
        self._state1, self._state2 = self._zeros_like_parameters(2)
        self._sequences = (indptr, items, lengths - 1)  # the last item is only a target
        return self._train_loop(inter.n_users, rng, validation=validation, callback=callback, callbacks=callbacks,
                                on_divergence=on_divergence)

    def _parameters(self):
        return self._params

    def _epoch_summary(self, total, n_batches):
        return {"loss": total / (len(self._sequences[0]) - 1)}

    def _train_batch(self, users, ts):
        indptr, items, n_steps_of = self._sequences
        beta = kl_weight(self.beta_cap, self.anneal_steps, ts)
        batch = pack_batch(indptr, items, users, n_steps_of, self.next_k)
        noise = ts.rng.standard_normal((batch[0].size, self.latent)).astype(self.dtype)
        loss, grads = self._loss_and_grads(batch, noise, beta, n_steps_of)
        opt = dict(optimizer=OPTIMIZERS[self._optimizer], lr=self.lr, step=ts.step)
        for p, g, s1, s2 in zip(self._params, grads, self._state1, self._state2):
            self._backend.step(p, g, s1, s2, self.l2, opt)
        return loss * len(users)

    def _loss_and_grads(self, batch, noise, beta, n_steps_of):
        """The batch's loss (mean over its users of NLL + β·KL) and the gradient of
        every parameter (weight decay not included), in ``PARAM_NAMES`` order."""
        ops, p = self._backend, self._p
        xp = ops.xp
        inputs, bs, users, row_seq, row_step, t_indptr, t_indices = batch
        B = users.size
        L = self.latent
        X, H, cache, A1, lat = self._encode_steps(inputs, bs)
        mu, logvar = lat[:, :L], lat[:, L:]
        eps = ops.asarray(noise)
        std = xp.exp(0.5 * logvar)
        z = mu + eps * std
        A2 = xp.tanh(ops.mm(z, p("W_dec")) + p("b_dec"))
        grads = {}
        # output layer in row chunks: logits -> (in place) d loss / d logits
        W_out, b_out = p("W_out"), p("b_out")
        rows = A2.shape[0]
        chunk = max(1, _LOGITS_CHUNK // self.n_items)
        t_data = np.full(t_indices.size, 1.0 / self.next_k, self.dtype)
        gW_out = xp.zeros_like(W_out)
        gb_out = xp.zeros_like(b_out)
        dA2 = xp.empty_like(A2)
        nll = 0.0
        for lo in range(0, rows, chunk):
            hi = min(rows, lo + chunk)
            logits = ops.mm(A2[lo:hi], W_out)
            a, b = t_indptr[lo], t_indptr[hi]
            nll += ops.nll_grad(logits, b_out, t_indptr[lo : hi + 1] - a, t_indices[a:b],
                                t_data[a:b], 1.0 / B)
            gW_out += ops.mm(A2[lo:hi].T, logits)
            gb_out += logits.sum(axis=0)
            ops.mm(logits, W_out.T, out=dA2[lo:hi])
        grads["W_out"], grads["b_out"] = gW_out, gb_out
        dP2 = dA2 * (1 - A2 * A2)
        grads["W_dec"], grads["b_dec"] = ops.mm(z.T, dP2), dP2.sum(axis=0)
        dz = ops.mm(dP2, p("W_dec").T)
        # KL per step, weighted 1/(B · steps of its user): the mean over steps, then over users
        w = ops.asarray((1.0 / (B * n_steps_of[users][row_seq])).astype(self.dtype))[:, None]
        var = std * std
        kl = ops.scalar(xp.sum(w * 0.5 * (-logvar + var + mu * mu - 1)))
        dlat = xp.concatenate([dz + beta * w * mu, dz * eps * 0.5 * std + beta * w * 0.5 * (var - 1)],
                              axis=1)
        grads["W_lat"], grads["b_lat"] = ops.mm(A1.T, dlat), dlat.sum(axis=0)
        dP1 = ops.mm(dlat, p("W_lat").T) * (1 - A1 * A1)
        grads["W_enc"], grads["b_enc"] = ops.mm(H.T, dP1), dP1.sum(axis=0)
        dH = ops.mm(dP1, p("W_enc").T)
        gW_hh, gb_hh = xp.zeros_like(p("W_hh")), xp.zeros_like(p("b_hh"))
        dXi = ops.gru_backward(dH, H, cache, bs, p("W_hh"), gW_hh, gb_hh)
        grads["W_hh"], grads["b_hh"] = gW_hh, gb_hh
        grads["W_ih"], grads["b_ih"] = ops.mm(X.T, dXi), dXi.sum(axis=0)
        gE = xp.zeros_like(p("embedding"))
        ops.scatter_add_rows(inputs, ops.mm(dXi, p("W_ih").T), gE)
        grads["embedding"] = gE
        return nll + beta * kl, [grads[k] for k in PARAM_NAMES]

    # ------------------------------------------------------------ save/load
    _HYPER = ("embedding", "gru", "hidden", "latent", "next_k", "beta_cap", "anneal_steps", "epochs",
              "batch_size", "lr", "l2", "metric", "patience", "seed")

    def _state(self):
        arrays = {"item_ids": self.item_ids}
        for k, v in zip(PARAM_NAMES, self._params):
            arrays[k] = self._backend.to_host(v)
        meta = {k: getattr(self, k) for k in self._HYPER}
        meta.update(dtype=self.dtype.name, n_items=self.n_items, best_epoch=self.best_epoch,
                    history=self.history)
        return arrays, meta

    @classmethod
    def _from_state(cls, arrays, meta, device):
        model = cls(**{k: meta[k] for k in cls._HYPER}, dtype=meta["dtype"], device=device)
        model.n_items = meta_count(meta, "n_items")
        model.item_ids = arrays["item_ids"]
        shapes = model._shapes(model.n_items)
        params = []
        for k in PARAM_NAMES:
            a = np.ascontiguousarray(arrays[k], dtype=model.dtype)
            if a.shape != shapes[k]:
                raise ValueError(f"model file: {k} has shape {a.shape}, expected {shapes[k]}")
            params.append(model._backend.asarray(a))
        model._params = params
        model.best_epoch = meta_count(meta, "best_epoch")
        model.history = list(meta["history"])
        return model
