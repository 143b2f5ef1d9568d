"""The training loop every PyTorch baseline shares, and the pieces they build their models from.

:class:`TorchTrainer` is the loop a competent PyTorch user writes around a model: set-up of
the device and the seeded generators, a seeded permutation of the examples every epoch,
mini-batches of it, the optimizer (Adam or SGD over the network's parameters), the
per-epoch wall time and loss history, optional validation after each epoch. A baseline
supplies its network (``self.net``), its optimizer (:meth:`TorchTrainer.build_optimizer`),
what one mini-batch does (:meth:`TorchTrainer.train_batch`) and its hyper-parameters.
:class:`RatingTrainer` adds what the explicit-rating baselines (AutoRec, DeepRec) share
(predicting (user, item) pairs, RMSE, ``val_rmse`` per epoch); :class:`RankingTrainer` what
the implicit ones (Mult-VAE/DAE, CDAE) share (scoring fold-in rows, the ``af.evaluate``
adapter, keeping the best validation epoch's weights).

Seeds and devices: the initial weights and the permutations come from ``self.gen``, a CPU
generator seeded with ``seed``, whatever the device, so a seed gives the same start and
example order everywhere; sampling inside the model (dropout masks, VAE noise) draws from
``self.sample_gen``: ``self.gen`` itself on the CPU (one stream draws everything), a
generator on the device seeded with the same ``seed`` otherwise. :meth:`run_epoch` returns
once the device has finished the epoch; scores and predictions are host NumPy arrays.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from collections import defaultdict

import numpy as np
import torch
import torch.nn.functional as F

import autorec_fast as af
from autorec_fast.models.base import Recommender  # af.evaluate needs its internals (see TorchRecommender)

__all__ = ["RankingTrainer", "RatingTrainer", "TorchRecommender", "TorchTrainer", "activation_fn",
           "csr_to_dense", "csr_to_device", "eval_mode", "seeded_dropout", "synchronize"]

ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "identity": lambda t: t,
    "relu": torch.relu,
    "tanh": torch.tanh,
    "elu": F.elu,
    "selu": F.selu,
}


def activation_fn(name):
    """The element-wise function called ``name`` (a key of :data:`ACTIVATIONS`)."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}") from None


def seeded_dropout(x, p, generator=None):
    """Inverted dropout like ``F.dropout(x, p)`` (CPU: a Bernoulli(1-p) mask scaled by
    1/(1-p)) but drawing from ``generator``, so that a seed fixes the whole run.
    ``generator`` (if given) must be on ``x``'s device."""
    if p <= 0.0:
        return x
    if p >= 1.0:
        return torch.zeros_like(x)
    mask = torch.empty_like(x).bernoulli_(1.0 - p, generator=generator)
    return x * mask.div_(1.0 - p)


def csr_to_dense(X):
    """A CSR batch as a dense float32 CPU tensor (the reference notebooks' ``X.toarray()``)."""
    return torch.from_numpy(np.asarray(X.toarray(), dtype=np.float32))


def csr_to_device(X, device):
    """A CSR batch as a dense float32 tensor on ``device``: :func:`csr_to_dense` on the CPU;
    on a GPU only the nonzeros cross over and are scattered into zeros there (how a PyTorch
    user feeds sparse batches to a dense model on a GPU; NVIDIA's ``mb.cuda().to_dense()``)."""
    device = torch.device(device)
    if device.type == "cpu":
        return csr_to_dense(X)
    coo = X.tocoo()
    out = torch.zeros(coo.shape, dtype=torch.float32, device=device)
    rows = torch.from_numpy(coo.row.astype(np.int64)).to(device)
    cols = torch.from_numpy(coo.col.astype(np.int64)).to(device)
    out[rows, cols] = torch.from_numpy(np.asarray(coo.data, dtype=np.float32)).to(device)
    return out


def synchronize(device):
    """Wait for the queued work on ``device`` (a ``torch.device``); a no-op on the CPU."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@contextlib.contextmanager
def eval_mode(net):
    """``net`` in evaluation mode (no dropout, no sampling) inside the block, as it was after."""
    was = net.training
    net.eval()
    try:
        yield net
    finally:
        net.train(was)


class TorchRecommender(Recommender):
    """Adapter so that ``af.evaluate`` scores a torch model with the library's own code.

    ``score_fn(X)`` takes a float32 CSR batch of fold-in rows (one column per training item)
    and returns dense float32 numpy scores. It subclasses the library's private
    ``autorec_fast.models.base.Recommender`` and fills its ``_score_csr``: ``af.evaluate``
    calls the model's internals (``_check_fitted``, ``_as_history``, ``_score_csr``).
    """

    def __init__(self, name, n_items, item_ids, score_fn):
        super().__init__(device="cpu")
        self.name = name
        self.n_items = int(n_items)
        self.item_ids = np.asarray(item_ids)
        self.dtype = np.dtype(np.float32)
        self.device = "cpu"
        self._score_fn = score_fn

    def _score_csr(self, X):
        return np.ascontiguousarray(self._score_fn(X), dtype=np.float32)


class TorchTrainer:
    """One baseline's network, optimizer and epoch loop.

    A subclass's ``__init__`` calls ``super().__init__(batch_size=..., seed=..., device=...)``,
    sets ``self.n_examples`` (the examples of an epoch), builds ``self.net`` (an ``nn.Module``,
    initialised from ``self.gen`` on the CPU, then moved to ``self.device``) and
    ``self.optimizer`` (:meth:`build_optimizer`), and implements :meth:`train_batch`. It may
    override :meth:`epoch_order` (what is permuted and where it lives) and
    :meth:`epoch_summary` (how the batch losses make the epoch's).

    Construction does all the set-up; :meth:`run_epoch` is one epoch of training (the speed
    benchmarks time it alone), :meth:`fit` runs several with optional validation,
    :meth:`trained` builds and fits in one call. ``epoch_seconds`` and ``history`` (one dict per
    epoch: ``epoch``, ``loss``, ``seconds``, and what validation adds) record the epochs.
    """

    #: with validation: keep the best epoch's weights and restore them after :meth:`fit`
    keep_best = False
    #: the validation metric when :meth:`fit` is given none
    default_metric = None

    def __init__(self, *, batch_size, seed, device):
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.device = torch.device(device)
        # init and permutations: a CPU generator on every device; sampling: one on the device
        self.gen = torch.Generator().manual_seed(self.seed)
        self.sample_gen = (self.gen if self.device.type == "cpu" else
                           torch.Generator(device=self.device).manual_seed(self.seed))
        self.epoch_totals = defaultdict(float)
        self.epoch_seconds: list[float] = []
        self.history: list[dict] = []
        self.best_epoch: int | None = None
        self.best_value: float | None = None
        self._best_state = None

    @classmethod
    def trained(cls, train, epochs, *, validation=None, metric=None, verbose=False, **hyperparameters):
        """Build the baseline on ``train`` with ``hyperparameters`` and train it ``epochs`` epochs."""
        model = cls(train, **hyperparameters)
        return model.fit(epochs, validation=validation, metric=metric, verbose=verbose)

    def build_optimizer(self, name, lr, **kwargs):
        """``"adam"`` (betas (0.9, 0.999), eps 1e-8: the PyTorch and TF1 defaults) or ``"sgd"``
        over all of ``self.net``'s parameters; ``kwargs``: momentum, weight_decay."""
        params = self.net.parameters()
        if name == "adam":
            return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), eps=1e-8, **kwargs)
        if name == "sgd":
            return torch.optim.SGD(params, lr=lr, **kwargs)
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {name!r}")

    @property
    def steps_per_epoch(self):
        return math.ceil(self.n_examples / self.batch_size)

    # ------------------------------------------------------------------ one epoch

    def epoch_order(self):
        """This epoch's example order: a seeded permutation (a CPU tensor). Overrides turn it
        into what :meth:`train_batch` slices (host indices, device tensors, or a tuple of
        such, sliced alike)."""
        return torch.randperm(self.n_examples, generator=self.gen)

    def train_batch(self, batch):
        """Train on one mini-batch (a slice of :meth:`epoch_order`); returns its loss (a float).
        Other per-epoch sums go to ``self.epoch_totals``."""
        raise NotImplementedError

    def optimizer_step(self, loss):
        """Backward and one optimizer step on ``loss``; returns its value (``.item()``
        waits for the device)."""
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def epoch_summary(self, totals, n_batches):
        """The history entries of an epoch from the sums of its batches: the mean batch loss."""
        return {"loss": totals["loss"] / max(n_batches, 1)}

    def run_epoch(self):
        """One pass over the shuffled examples; returns the epoch's loss (see
        :meth:`epoch_summary`)."""
        t0 = time.perf_counter()
        self.net.train()
        order = self.epoch_order()
        self.epoch_totals = totals = defaultdict(float)
        n_batches = 0
        for start in range(0, self.n_examples, self.batch_size):
            stop = start + self.batch_size
            batch = (tuple(o[start:stop] for o in order) if isinstance(order, tuple)
                     else order[start:stop])
            totals["loss"] += self.train_batch(batch)
            n_batches += 1
        synchronize(self.device)
        secs = time.perf_counter() - t0
        summary = self.epoch_summary(totals, n_batches)
        self.epoch_seconds.append(secs)
        self.history.append({"epoch": len(self.history) + 1, "loss": summary.pop("loss"),
                             "seconds": secs, **summary})
        return self.history[-1]["loss"]

    # --------------------------------------------------------------------- epochs

    def validate(self, validation, metric):
        """Record ``metric`` on ``validation`` in ``self.history[-1]`` (subclasses)."""
        raise NotImplementedError(f"{type(self).__name__} takes no validation data")

    def fit(self, epochs, validation=None, metric=None, verbose=False):
        """Train ``epochs`` more epochs; with ``validation`` record ``metric`` after each
        (and, where ``keep_best``, restore the best epoch's weights at the end)."""
        metric = metric or self.default_metric
        for _ in range(int(epochs)):
            self.run_epoch()
            if validation is not None:
                self.validate(validation, metric)
            if verbose:
                print(self.history[-1], flush=True)
        if self.keep_best:
            if self._best_state is not None:
                self.net.load_state_dict(self._best_state)
            elif self.history:
                self.best_epoch = self.history[-1]["epoch"]
        return self


class RatingTrainer(TorchTrainer):
    """A baseline predicting explicit ratings (AutoRec, DeepRec).

    :meth:`set_ratings` keeps the facts of the training matrix that prediction needs; the
    subclass implements :meth:`example_pairs` and :meth:`reconstruct`. Validation records
    ``val_rmse`` after each epoch (no early stopping).
    """

    default_metric = "rmse"

    def set_ratings(self, train, clip):
        """The training ratings as a float32 CSR matrix (users x items, sorted indices), its
        shape, mean and observed users and items; ``clip``: (low, high) of the predictions or
        None. Returns the matrix."""
        R = train.matrix.tocsr().astype(np.float32)
        R.sort_indices()
        self.n_users, self.n_items = R.shape
        self.nnz = int(R.nnz)
        self.global_mean = float(R.data.mean()) if R.nnz else 0.0
        self.user_seen = np.diff(R.indptr) > 0
        self.item_seen = np.bincount(R.indices, minlength=self.n_items) > 0
        self.clip = clip
        return R

    def example_pairs(self, users, items):
        """(example, output) index arrays of (user, item) pairs: which example to reconstruct
        and which of its outputs is the prediction."""
        raise NotImplementedError

    def reconstruct(self, examples):
        """The network's output (a device tensor) for the examples (host indices)."""
        raise NotImplementedError

    @torch.no_grad()
    def predict(self, users, items, batch_size=1024):
        """Predicted ratings (numpy float32) of (user, item) pairs: each distinct example
        reconstructed once (no dropout); pairs whose user or item has no training rating get
        the training mean; clipped to ``clip``."""
        users = np.asarray(users, dtype=np.int64).ravel()
        items = np.asarray(items, dtype=np.int64).ravel()
        if users.shape != items.shape:
            raise ValueError("users and items must have the same length")
        pred = np.full(users.shape, self.global_mean, dtype=np.float32)
        known = self.user_seen[users] & self.item_seen[items]
        ex, out = self.example_pairs(users[known], items[known])
        if ex.size:
            with eval_mode(self.net):
                uniq, inv = np.unique(ex, return_inverse=True)
                order = np.argsort(inv, kind="stable")
                bounds = np.searchsorted(inv[order], np.arange(0, uniq.size + batch_size, batch_size))
                vals = np.empty(ex.size, dtype=np.float32)
                for b, start in enumerate(range(0, uniq.size, batch_size)):
                    recon = self.reconstruct(uniq[start:start + batch_size])
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

    def validate(self, validation, metric):
        if metric != "rmse":
            raise ValueError(f"{type(self).__name__} validates on 'rmse' only, got {metric!r}")
        self.history[-1]["val_rmse"] = self.rmse(validation)


class RankingTrainer(TorchTrainer):
    """A baseline ranking items from implicit feedback (Mult-VAE/DAE, CDAE), one example per user.

    :meth:`set_interactions` keeps the binary training matrix (CSR, on the host; batches are
    densified from it); the subclass implements :meth:`scores` and sets ``recommender_name``.
    Validation scores ``metric`` (``ndcg@100`` by default) with ``af.evaluate`` after each epoch
    and keeps the best epoch's weights (``best_epoch``, ``best_value``), restored after
    :meth:`fit`.
    """

    keep_best = True
    default_metric = "ndcg@100"
    recommender_name = "torch"

    def set_interactions(self, train):
        self.X = train.matrix.tocsr().astype(np.float32)  # users x items, binary
        self.n_users, self.n_items = self.X.shape
        self.n_examples = self.n_users
        self.item_ids = np.asarray(train.item_ids)

    def scores(self, X):
        """The network's scores (a device tensor) of a CSR batch of fold-in rows, in eval mode."""
        raise NotImplementedError

    @torch.no_grad()
    def score(self, X):
        """Scores (numpy float32) for a CSR batch of fold-in rows of unseen users."""
        with eval_mode(self.net):
            out = self.scores(X)
        return out.cpu().numpy()

    def as_recommender(self):
        return TorchRecommender(self.recommender_name, self.n_items, self.item_ids, self.score)

    def validate(self, validation, metric):
        value = float(af.evaluate(self.as_recommender(), validation, [metric])[metric])
        self.history[-1][metric] = value
        if self.best_value is None or value > self.best_value:
            self.best_value = value
            self.best_epoch = self.history[-1]["epoch"]
            self._best_state = copy.deepcopy(self.net.state_dict())
