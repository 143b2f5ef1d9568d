"""Split by date: the Netflix prize-style protocol of DeepRec (Kuchaiev & Ginsburg 2017)."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from ..interactions import Interactions, as_interactions
from .csr import _row_of_entries
from .holdout import _require_timestamps


@dataclass(frozen=True)
class TimeSplit:
    """Result of :func:`time_split`: three parts in the parent's index space.

    Attributes
    ----------
    train : Interactions
        Interactions in ``[train_start, train_end)``.
    validation, test : Interactions
        Interactions in ``[train_end, test_end)`` whose user and item both
        occur in ``train``, divided at random between the two
        (``validation`` is empty when ``validation_fraction`` is 0).
    """

    train: Interactions
    validation: Interactions
    test: Interactions


def _as_epoch_seconds(value, name):
    """A date as int64 seconds since the Unix epoch (``None`` passes through)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a date, got {value!r}")
    if isinstance(value, numbers.Integral):
        return int(value)
    try:
        return int(np.datetime64(value, "s").astype(np.int64))
    except (ValueError, TypeError):
        raise ValueError(f"{name} must be a date ('2005-12-01', a datetime64 / datetime or "
                         f"int seconds since the Unix epoch), got {value!r}") from None


def time_split(data, train_end, test_end=None, *, train_start=None, validation_fraction=0.5,
               seed=0):
    """Split by date, as DeepRec's Netflix protocol (Kuchaiev & Ginsburg 2017).

    Training part: interactions with ``train_start <= t < train_end``. Test
    period: ``train_end <= t < test_end``; of it, only interactions whose user
    and item both have a training interaction are kept (the model knows
    nothing of the others), and each kept interaction goes to ``validation``
    with probability ``validation_fraction``, else to ``test``. The reference
    protocol: ``time_split(netflix, "2005-12-01", "2006-01-01",
    train_start="1999-12-01")`` (train December 1999 to November 2005, test
    December 2005 halved into validation and test).

    Parameters
    ----------
    data : Interactions or anything :func:`as_interactions` accepts
        Must have timestamps.
    train_end, test_end, train_start : date
        ``'YYYY-MM-DD'`` strings, ``numpy.datetime64`` / ``datetime``, or int
        seconds since the Unix epoch (the unit of ``Interactions.timestamps``
        for MovieLens and Netflix files). ``None``: unbounded.
    validation_fraction : float, default 0.5
        In [0, 1).
    seed : int, default 0

    Returns
    -------
    TimeSplit
        ``train``, ``validation``, ``test``: same shape and ids as ``data``.

    Raises
    ------
    ValueError
        No timestamps, dates out of order, an empty training part, or a bad
        ``validation_fraction``.
    """
    data = as_interactions(data)
    _require_timestamps(data, "time_split")
    start = _as_epoch_seconds(train_start, "train_start")
    mid = _as_epoch_seconds(train_end, "train_end")
    if mid is None:
        raise ValueError("train_end must be a date, got None")
    end = _as_epoch_seconds(test_end, "test_end")
    if start is not None and start >= mid:
        raise ValueError(f"train_start ({train_start!r}) must be before train_end ({train_end!r})")
    if end is not None and end <= mid:
        raise ValueError(f"test_end ({test_end!r}) must be after train_end ({train_end!r})")
    if isinstance(validation_fraction, bool) or not isinstance(validation_fraction, numbers.Real):
        raise TypeError(f"validation_fraction must be a number, got {validation_fraction!r}")
    if not 0.0 <= validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be in [0, 1), got {validation_fraction!r}")
    t = data.timestamps
    m = data.matrix
    in_train = t < mid
    if start is not None:
        in_train &= t >= start
    if not in_train.any():
        raise ValueError(f"data has no interactions before train_end ({train_end!r})")
    in_test = t >= mid
    if end is not None:
        in_test &= t < end
    rows = _row_of_entries(m.indptr, m.shape[0])
    cols = m.indices
    user_seen = np.bincount(rows[in_train], minlength=m.shape[0]) > 0
    item_seen = np.bincount(cols[in_train], minlength=m.shape[1]) > 0
    in_test &= user_seen[rows] & item_seen[cols]
    to_validation = np.random.default_rng(seed).random(m.nnz) < validation_fraction
    return TimeSplit(
        train=data._select(in_train),
        validation=data._select(in_test & to_validation),
        test=data._select(in_test & ~to_validation),
    )
