"""Holdout of individual interactions: random, per user, latest per user.

Every split returns :class:`Interactions` sharing the parent's row and column
index spaces (same shape, same ``user_ids`` / ``item_ids``).
"""

from __future__ import annotations

import numbers

import numpy as np

from ..interactions import as_interactions
from .coerce import _check_int
from .csr import _first_per_row, _row_of_entries


def _check_fraction(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not (0.0 < value < 1.0):
        raise ValueError(f"{name} must be in (0, 1), got {value!r}")
    return float(value)


def _data_and_fraction(data, test_fraction, name="test_fraction"):
    """``as_interactions(data)`` and the checked fraction in (0, 1)."""
    return as_interactions(data), _check_fraction(test_fraction, name)


def _require_timestamps(data, caller):
    if data.timestamps is None:
        raise ValueError(f"data has no timestamps; {caller} needs them")


def _split_by_mask(data, test_mask):
    return data._select(~test_mask), data._select(test_mask)


def _split_first_per_user(data, test_fraction, min_count, *keys):
    """Train / test: each user's ``floor(test_fraction * n)`` first entries by ``keys`` are test.

    Users with fewer than ``min_count`` entries stay in train; ``keys`` as in
    :func:`~autorec_fast._data.csr._rank_within_rows` (last = primary).
    """
    m = data.matrix
    counts = np.diff(m.indptr).astype(np.int64)
    rows = _row_of_entries(m.indptr, data.n_users)
    return _split_by_mask(data, _first_per_row(rows, counts, test_fraction, min_count, *keys))


def random_split(data, test_fraction=0.1, *, seed=0):
    """Random holdout of individual interactions (AutoRec protocol, 90/10).

    Parameters
    ----------
    data : Interactions or anything :func:`as_interactions` accepts
    test_fraction : float, default 0.1
        Fraction in (0, 1); exactly ``round(test_fraction * nnz)`` entries go
        to the test part.
    seed : int, default 0
        Seed of ``np.random.default_rng``.

    Returns
    -------
    train, test : Interactions
        Disjoint, together exactly ``data``; same shape and ids as ``data``.
    """
    data, test_fraction = _data_and_fraction(data, test_fraction)
    rng = np.random.default_rng(seed)
    n_test = round(test_fraction * data.nnz)
    mask = np.zeros(data.nnz, dtype=bool)
    mask[rng.choice(data.nnz, size=n_test, replace=False)] = True
    return _split_by_mask(data, mask)


def per_user_split(data, test_fraction=0.2, *, seed=0, min_interactions=1):
    """Hold out a random fraction of every user's interactions.

    User ``u`` with ``n_u >= min_interactions`` interactions gets
    ``floor(test_fraction * n_u)`` random test entries (so users with
    ``n_u < 1 / test_fraction`` get none); users with fewer than
    ``min_interactions`` interactions stay entirely in train.

    Parameters
    ----------
    data : Interactions or anything :func:`as_interactions` accepts
    test_fraction : float, default 0.2
        Fraction in (0, 1).
    seed : int, default 0
        Seed of ``np.random.default_rng``.
    min_interactions : int, default 1
        Users with fewer interactions are not split.

    Returns
    -------
    train, test : Interactions
        Disjoint, together exactly ``data``; same shape and ids as ``data``.
    """
    data, test_fraction = _data_and_fraction(data, test_fraction)
    min_interactions = _check_int(min_interactions, "min_interactions", 0)
    rng = np.random.default_rng(seed)
    return _split_first_per_user(data, test_fraction, min_interactions, rng.random(data.nnz))


def temporal_split(data, test_fraction=0.2):
    """Hold out the latest fraction of every user's history.

    User ``u`` with ``n_u`` interactions gets its ``int(test_fraction * n_u)``
    (floor) latest interactions by timestamp in the test part; ties are
    broken by ``entry_order`` (later input position counts as later).

    Parameters
    ----------
    data : Interactions or anything :func:`as_interactions` accepts
        Must have timestamps.
    test_fraction : float, default 0.2
        Fraction in (0, 1).

    Returns
    -------
    train, test : Interactions
        Disjoint, together exactly ``data``; same shape and ids as ``data``.

    Raises
    ------
    ValueError
        ``data`` has no timestamps.
    """
    data, test_fraction = _data_and_fraction(data, test_fraction)
    _require_timestamps(data, "temporal_split")
    # rank from the end: sort by (-timestamp, -entry_order) within each row
    return _split_first_per_user(data, test_fraction, 0, -data.entry_order, -data.timestamps)
