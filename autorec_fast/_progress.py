"""Progress, logging and callbacks of the training loops (observability).

* ``verbose``: 0 (or False) is silent, the default of every library call; 1 (or
  True) draws a progress bar over the epochs on stderr with the loss, the
  validation metric and tqdm's ETA; 2 adds one line per epoch and a bar over
  each epoch's batches. The bars come from tqdm (a dependency); where tqdm
  cannot be imported, every level above 0 degrades to one line per epoch on
  stderr (with an ETA from the mean epoch time).
* ``logging``: the ``"autorec_fast"`` logger gets one INFO record per epoch
  (the message holds the history entry; ``record.entry`` is the entry itself,
  ``record.model`` the class name) and DEBUG records for the details (start,
  best epoch, why training stopped). The library adds only the standard
  ``NullHandler``; configure handlers in your application.
* ``callbacks``: :func:`run_callbacks` calls each ``f(model, entry)`` after an
  epoch; one returning False stops training.
"""

from __future__ import annotations

import logging
import sys
import time

import numpy as np

logger = logging.getLogger("autorec_fast")

try:  # the standard text bar (tqdm.auto would need ipywidgets in notebooks)
    from tqdm.std import tqdm as _tqdm
except ImportError:  # pragma: no cover - tqdm is a dependency; the fallback is tested by monkeypatching
    _tqdm = None

#: keys of a history entry that are bookkeeping, not metrics
_NOT_METRICS = ("epoch", "seconds")


def check_verbose(verbose) -> int:
    """0, 1 or 2 (False/True are 0/1); anything else is a TypeError or ValueError."""
    if isinstance(verbose, (bool, np.bool_)):
        return int(verbose)
    if not isinstance(verbose, (int, np.integer)):
        raise TypeError(f"verbose must be 0, 1, 2 or a bool, got {verbose!r}")
    if not 0 <= verbose <= 2:
        raise ValueError(f"verbose must be 0, 1 or 2, got {verbose}")
    return int(verbose)


def check_callbacks(callbacks, callback=None) -> list:
    """``callbacks`` (a callable or an iterable of callables, or None) as a list;
    ``callback`` (the single legacy one, which stops on True) is checked too."""
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}")
    if callbacks is None:
        return []
    if callable(callbacks):
        return [callbacks]
    if isinstance(callbacks, (str, bytes)):
        raise TypeError(f"callbacks must be a list of callables, got {callbacks!r}")
    try:
        callbacks = list(callbacks)
    except TypeError:
        raise TypeError(f"callbacks must be a list of callables, got {type(callbacks).__name__}") from None
    bad = [c for c in callbacks if not callable(c)]
    if bad:
        raise TypeError(f"callbacks must be callables, got {bad[0]!r}")
    return callbacks


def _note(exc: BaseException, note: str) -> None:
    """Attach ``note`` to ``exc`` (PEP 678: shown under the traceback, the type kept)."""
    if hasattr(exc, "add_note"):  # Python >= 3.11
        exc.add_note(note)
    else:  # pragma: no cover - Python 3.10: the same attribute (pytest shows it; tracebacks do not)
        try:
            exc.__notes__ = [*getattr(exc, "__notes__", []), note]
        except AttributeError:
            pass


def run_callbacks(model, entry: dict, callbacks, callback=None) -> bool:
    """Call the epoch's callbacks; True when one asks to stop.

    Each of ``callbacks`` is called (all of them, in order) with ``(model, entry)``
    (a copy of the history entry); one returning ``False`` stops training. The
    legacy ``callback`` stops on a true value. An exception from a callback
    propagates unchanged (same type and message) with a note naming the callback
    and the epoch (``exc.add_note``, PEP 678)."""
    stop = False
    for f in ([callback] if callback is not None else []) + list(callbacks):
        try:
            result = f(model, dict(entry))
        except Exception as exc:
            name = getattr(f, "__qualname__", None) or type(f).__name__
            _note(exc, f"autorec_fast: raised by the callback {name} after epoch {entry['epoch']} "
                       f"of {type(model).__name__}")
            raise
        if f is callback:
            stop = stop or bool(result)
        elif result is False or result is np.False_:
            logger.debug("%s: callback %s returned False after epoch %d: stopping", type(model).__name__,
                         getattr(f, "__qualname__", f), entry["epoch"])
            stop = True
    return stop


def format_entry(entry: dict) -> str:
    return "  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in entry.items())


def _format_seconds(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


def write(message: str) -> None:
    """One line on stderr (through tqdm, so that it does not break a bar)."""
    if _tqdm is not None:
        _tqdm.write(message, file=sys.stderr)
    else:
        print(message, file=sys.stderr, flush=True)


def report(model, message: str, verbose: int, *, show_at: int = 1, log: int = logging.INFO) -> None:
    """A model's progress message: logged at ``log`` on the "autorec_fast" logger and
    written to stderr when ``verbose >= show_at``."""
    name = type(model).__name__
    logger.log(log, "%s: %s", name, message)
    if verbose >= show_at:
        write(f"[autorec_fast] {name}: {message}")


class EpochProgress:
    """The epoch loop's progress: bars (tqdm) or fallback lines on stderr, and the log.

    Used as ``with EpochProgress(model, epochs, n_batches, verbose) as progress``;
    ``progress.batch_bar()`` is a per-epoch bar or None (verbose < 2),
    ``progress.end_epoch(entry, metrics)`` after each epoch."""

    def __init__(self, model, epochs: int, n_batches: int, verbose: int):
        self.name = type(model).__name__
        self.epochs, self.n_batches, self.verbose = epochs, n_batches, verbose
        self.t0 = time.perf_counter()
        self.bar = None
        if verbose and _tqdm is not None:
            self.bar = _tqdm(total=epochs, desc=self.name, unit="epoch", file=sys.stderr, dynamic_ncols=True,
                             disable=False)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()
        return False

    def batch_bar(self, epoch: int):
        """A bar over this epoch's batches (verbose=2 with tqdm), else None."""
        if self.verbose < 2 or _tqdm is None:
            return None
        return _tqdm(total=self.n_batches, desc=f"epoch {epoch}", unit="batch", file=sys.stderr,
                     dynamic_ncols=True, leave=False, disable=False)

    def end_epoch(self, entry: dict, metrics) -> None:
        """Log the epoch (INFO, with the entry) and show it: the bar's postfix holds the
        loss and ``metrics`` (the validation keys); verbose=2 also writes the entry."""
        if logger.isEnabledFor(logging.INFO):
            logger.info("%s epoch %d/%d: %s", self.name, entry["epoch"], self.epochs, format_entry(entry),
                        extra={"entry": dict(entry), "model": self.name})
        if not self.verbose:
            return
        if self.bar is not None:
            shown = {k: entry[k] for k in ("loss", *metrics) if k in entry}
            self.bar.set_postfix({k: f"{v:.4g}" if isinstance(v, float) else v for k, v in shown.items()},
                                 refresh=False)
            self.bar.update(1)
            if self.verbose >= 2:
                self.bar.write(self._line(entry), file=sys.stderr)
            return
        # without tqdm: one line per epoch, with an ETA from the mean epoch time
        elapsed = time.perf_counter() - self.t0
        write(f"{self._line(entry)}  ETA {_format_seconds((self.epochs - entry['epoch']) * elapsed / entry['epoch'])}")

    def _line(self, entry: dict) -> str:
        return (f"[autorec_fast] {self.name} epoch {entry['epoch']}/{self.epochs}  "
                f"{format_entry({k: v for k, v in entry.items() if k != 'epoch'})}")

    def stopped(self, reason: str, epoch: int) -> None:
        """Training ended before ``epochs`` (reason: patience, callback, divergence)."""
        logger.debug("%s: stopped after epoch %d (%s)", self.name, epoch, reason)
        if self.bar is not None:
            self.bar.set_description(f"{self.name} (stopped: {reason})", refresh=False)


def history_metrics(history: list[dict], metric=None) -> list[str]:
    """Default curves to plot: the loss and the validation keys (``val_*``, ``x@K``, ``metric``)."""
    keys = []
    for entry in history:
        for k, v in entry.items():
            if k in keys or k in _NOT_METRICS or not isinstance(v, (int, float)) or isinstance(v, bool):
                continue
            if k == "loss" or k.startswith("val_") or "@" in k or k == metric:
                keys.append(k)
    return sorted(keys, key=lambda k: k != "loss")
