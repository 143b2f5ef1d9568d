"""The one training loop of the gradient-trained models.

:class:`GradientTrained` owns the epoch loop: the seeded permutation, the
batches, the optimizer step counter, the epoch's loss (summed on the device on
the GPU, read once per epoch), validation every epoch, the best epoch with
patience, restoring the best parameters, ``history`` and ``fit_info``, progress
(bars, lines and log records: ``_progress.py``), the per-epoch callbacks and the
check that the loss stays finite. A model supplies
its batch step and its parameters through five small methods (see the class).
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass

import numpy as np

from .._progress import EpochProgress, check_callbacks, check_verbose, logger, run_callbacks
from .._validation import check_dtype, check_positive
from .base import Recommender


#: more epochs than this is a mistake, not a long run (the papers' recipes train 25 to 200,
#: ``epochs="auto"`` at most 100). Every epoch keeps an entry in ``history``, so a count
#: such as 2**63 never finishes and grows the process's memory without bound (the fuzz
#: suite's nightly run: MBs per second until the data limit, then libgomp's abort)
MAX_EPOCHS = 100_000


def check_epochs(value) -> int:
    """A positive integer number of epochs, at most ``MAX_EPOCHS``."""
    epochs = check_positive(value, "epochs", integer=True)
    if epochs > MAX_EPOCHS:
        raise ValueError(f"epochs must be at most {MAX_EPOCHS:,}, got {value!r}")
    return epochs


@dataclass
class TrainingStep:
    """What a batch step needs from the loop."""

    epoch: int
    #: optimizer steps so far; the loop adds 1 before each batch, and a model that
    #: takes more steps on one batch (DeepRec's re-feeding) adds them itself
    step: int
    #: the epoch's number of examples (a batch of ``len(ids)`` is ``len(ids) / n_examples`` of it)
    n_examples: int
    rng: np.random.Generator
    #: batches in the whole run (epochs x batches per epoch), for schedules scaled to the run
    total_batches: int = 0


#: with ``anneal_steps="auto"``, β rises linearly to ``beta_cap`` over this share of the run's
#: batches (Liang et al.'s ML-20M settings, 200,000 steps in a 46,800-step run, reach it at 85 %)
AUTO_ANNEAL_SHARE = 0.8


def check_anneal_steps(value):
    """``"auto"`` or a positive integer."""
    if isinstance(value, str):
        if value != "auto":
            raise ValueError(f"anneal_steps must be 'auto' or a positive integer, got {value!r}")
        return value
    return check_positive(value, "anneal_steps", integer=True)


def kl_weight(beta_cap: float, anneal_steps, ts: TrainingStep) -> float:
    """The KL term's weight β at optimizer step ``ts.step``: min(beta_cap, step / anneal_steps);
    with ``anneal_steps="auto"`` the cap is reached after ``AUTO_ANNEAL_SHARE`` of the run."""
    if anneal_steps == "auto":
        return beta_cap * min(1.0, ts.step / max(1.0, AUTO_ANNEAL_SHARE * ts.total_batches))
    return min(beta_cap, ts.step / anneal_steps)


class BestEpochTracker:
    """Validation bookkeeping: the best score (higher is better: pass −RMSE), its
    epoch and a copy of the parameters, and when patience says stop."""

    def __init__(self, patience):
        self.patience = patience
        self.best = -np.inf
        self.best_epoch = 0
        self.best_state = None
        self.since_best = 0

    def update(self, epoch, value, copy_params) -> bool:
        """Record an epoch's score; returns True when training should stop."""
        if value > self.best:
            self.best, self.best_epoch, self.since_best = value, epoch, 0
            self.best_state = copy_params()
        else:
            self.since_best += 1
        return self.patience is not None and self.since_best >= self.patience


class GradientTrained(Recommender):
    """Base of the models trained by mini-batch gradient steps.

    A subclass implements:

    - ``_parameters()``: its parameter arrays (NumPy or CuPy), updated in place;
    - ``_train_batch(ids, ts)``: one batch of example ids (``ts`` a
      :class:`TrainingStep`); returns the batch's contribution to the epoch's
      loss (a float, or a device scalar on the GPU);
    - ``_epoch_summary(total, n_batches)``: the history entry's loss fields from
      the summed batch losses;
    - ``_validate(validation, entry)``: the validation score (higher is better)
      after an epoch, also written into ``entry``; None without validation
      (the rating and implicit mixins in ``_shared.py`` provide it);
    - optionally ``_begin_epoch(epoch)``: a dict of per-epoch settings (e.g. a
      learning-rate schedule) merged into the history entry.

    Every such model takes ``verbose``: 0/False (the default) is silent; 1/True
    draws a progress bar over the epochs on stderr (loss, validation metric,
    ETA); 2 adds a line per epoch and a bar over each epoch's batches. The bars
    are tqdm's; without tqdm, verbose > 0 writes one line per epoch to stderr
    instead. Each epoch is also an INFO record on the ``"autorec_fast"`` logger.
    After ``fit``, ``history`` has one entry per epoch and ``fit_info`` the
    seconds, the epochs run, the best epoch and why training stopped
    ("epochs", "patience", "callback" or "divergence").
    """

    #: batches hold their example ids sorted (row slices in storage order); SVAE keeps the shuffled order
    _sort_batches = True

    def _set_training_options(self, *, epochs, batch_size, lr, l2, patience, seed, dtype, verbose):
        """Check and set the options every gradient-trained model shares."""
        self.epochs = check_epochs(epochs)
        self.batch_size = check_positive(batch_size, "batch_size", integer=True)
        self.lr = check_positive(lr, "lr")
        self.l2 = check_positive(l2, "l2", allow_zero=True)
        self.patience = None if patience is None else check_positive(patience, "patience", integer=True)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed must be an integer, got {seed!r}")
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        self.seed = int(seed)
        self.dtype = check_dtype(dtype)
        self.verbose = check_verbose(verbose)
        self.history: list[dict] = []
        self.best_epoch = 0

    def _require_memory(self, n_params: int, n_states: int, batch_floats: int, what: str,
                        validation, init_float64: int = 0) -> None:
        """Refuse to train, before anything is allocated, when the parameters, ``n_states``
        parameter-sized arrays more (optimizer states, gradients), the best epoch's copy
        (with ``validation``), ``batch_floats`` values of per-batch buffers and
        ``init_float64`` float64 values drawn at once by the initialisation do not fit
        the device's memory (MemoryError naming the sizes). An estimate, on the safe side."""
        copies = 1 + n_states + (validation is not None)
        nbytes = self.dtype.itemsize * (copies * n_params + batch_floats) + 8 * init_float64
        self._backend.require_memory(
            nbytes, f"{type(self).__name__} ({what}: {n_params:,} parameters, {n_states} optimizer "
                    f"state(s) each, {batch_floats:,} values of batch buffers, {self.dtype.name})")

    def _begin_epoch(self, epoch: int) -> dict:
        return {}

    def _zeros_like_parameters(self, count: int = 1):
        """``count`` lists of zero arrays shaped as the parameters (optimizer state)."""
        xp = self._backend.xp
        return [[xp.zeros_like(p) for p in self._parameters()] for _ in range(count)]

    def _train_loop(self, examples, rng, *, validation=None, callback=None, callbacks=None,
                    on_divergence="raise", batch_size=None, epochs=None):
        """Train epochs over ``examples`` (a count, or an array of example ids).

        Each epoch draws ``rng.permutation(examples)`` and walks it in batches of
        ``batch_size`` (the model's by default), ``epochs`` times (the model's by
        default: a model whose ``epochs`` is derived from the data passes the
        number). ``validation`` is whatever the model's ``_validate`` takes. After every epoch each of ``callbacks`` runs as
        ``f(model, entry)``: returning False stops training; the legacy single
        ``callback`` stops on True instead (see ``_progress.run_callbacks``; an
        exception from either propagates with a note naming the epoch). Keeps the
        best validation epoch's parameters (the last epoch's without validation). A
        loss that turns NaN or infinite raises FloatingPointError
        (``on_divergence="raise"``) or, with ``"stop"``, warns and ends training with
        the best (without validation: the last finite) epoch's parameters; a
        non-finite epoch never becomes the best. Progress: ``self.verbose`` (bars or
        lines on stderr) and the ``"autorec_fast"`` logger (``_progress.py``).
        """
        callbacks = check_callbacks(callbacks, callback)
        if on_divergence not in ("raise", "stop"):
            raise ValueError(f"on_divergence must be 'raise' or 'stop', got {on_divergence!r}")
        last_finite = None  # with "stop" and no validation: the parameters after the last finite epoch
        n_examples = examples if isinstance(examples, (int, np.integer)) else len(examples)
        batch_size = min(batch_size or self.batch_size, n_examples)
        epochs = check_epochs(epochs or self.epochs)  # also an attribute set after __init__
        backend = self._backend
        tracker = BestEpochTracker(self.patience)
        n_batches_per_epoch = -(-n_examples // batch_size)
        ts = TrainingStep(epoch=0, step=0, n_examples=n_examples, rng=rng,
                          total_batches=epochs * n_batches_per_epoch)
        self.history = []
        self.fit_info = {}
        reason = "epochs"
        t_start = time.perf_counter()
        logger.debug("%s: training on %d examples, %d batches of up to %d per epoch, up to %d epochs%s",
                     type(self).__name__, n_examples, n_batches_per_epoch, batch_size, epochs,
                     "" if validation is None else ", validating every epoch")
        with EpochProgress(self, epochs, n_batches_per_epoch, self.verbose) as progress:
            for epoch in range(1, epochs + 1):
                t0 = time.perf_counter()
                ts.epoch = epoch
                settings = self._begin_epoch(epoch)
                order = rng.permutation(examples)
                meter = backend.loss_meter()
                n_batches = 0
                bar = progress.batch_bar(epoch)
                for start in range(0, n_examples, batch_size):
                    ids = order[start : start + batch_size]
                    if self._sort_batches:
                        ids = np.sort(ids)
                    ts.step += 1
                    meter.add(self._train_batch(ids, ts))
                    n_batches += 1
                    if bar is not None:
                        bar.update(1)
                if bar is not None:
                    bar.close()
                entry = {"epoch": epoch, **self._epoch_summary(meter.value(), n_batches), **settings,
                         "seconds": time.perf_counter() - t0}
                # the loss is measured before each step, so a last step that overflowed shows
                # only in the parameters: one pass over them per epoch
                diverged = (f"the training loss is {entry['loss']} in epoch {epoch}"
                            if not math.isfinite(entry["loss"]) else
                            None if self._parameters_finite() else
                            f"the parameters are not finite after epoch {epoch} (its last steps overflowed)")
                if diverged:
                    message = (f"{type(self).__name__}: {diverged}: "
                               f"training diverged (try a smaller lr, or check the data for extreme values)")
                    if validation is None:  # keep the last finite epoch
                        tracker.best_state, tracker.best_epoch = last_finite, epoch - 1
                    if on_divergence == "raise" or tracker.best_state is None:
                        raise FloatingPointError(message if on_divergence == "raise" else
                                                 message + "; no finite epoch to keep")
                    warnings.warn(f"{message}; stopped with the parameters of epoch {tracker.best_epoch}",
                                  RuntimeWarning, stacklevel=3)
                    self.history.append(entry)
                    reason = "divergence"
                    progress.stopped(reason, epoch)
                    break
                keys = set(entry)
                score = self._validate(validation, entry)
                stop = score is not None and tracker.update(epoch, score, self._copy_parameters)
                if score is not None and tracker.best_epoch == epoch:
                    logger.debug("%s: epoch %d is the best so far (%.6g)", type(self).__name__, epoch, score)
                self.history.append(entry)
                progress.end_epoch(entry, [k for k in entry if k not in keys])
                if on_divergence == "stop" and validation is None:
                    last_finite = self._copy_parameters()
                reason = "patience" if stop else reason
                if run_callbacks(self, entry, callbacks, callback) and not stop:
                    stop, reason = True, "callback"
                if stop:
                    if epoch < epochs:
                        progress.stopped(reason, epoch)
                    else:
                        reason = "epochs"
                    break
        if tracker.best_state is not None:
            for p, best in zip(self._parameters(), tracker.best_state):
                p[...] = best
            self.best_epoch = tracker.best_epoch
            logger.debug("%s: restored the parameters of epoch %d", type(self).__name__, self.best_epoch)
        else:
            self.best_epoch = len(self.history)
        self.fit_info = {"seconds": time.perf_counter() - t_start, "epochs": len(self.history),
                         "best_epoch": self.best_epoch, "stopped": reason}
        return self

    def _parameters_finite(self) -> bool:
        """Whether every parameter is finite (Σ p² in float64 per array: one reduction each)."""
        return all(math.isfinite(self._backend.squared_norm(p)) for p in self._parameters())

    def _copy_parameters(self):
        return [p.copy() for p in self._parameters()]
