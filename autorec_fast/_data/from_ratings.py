"""Rating preprocessing followed by a held-out-user split, as the reference recipes do it.

:func:`strong_generalization_from_ratings` (dawenl/vae_cf) and
:func:`sequential_split_from_ratings` (SVAE) binarise and filter explicit
ratings, then call the splits of :mod:`.heldout_users`.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..datasets import binarize, filter_min_counts
from ..interactions import as_interactions
from .coerce import _check_finite_number
from .csr import _row_of_entries
from .heldout_users import strong_generalization_split, temporal_heldout_split
from .holdout import _require_timestamps


def strong_generalization_from_ratings(
    data,
    n_heldout_users,
    threshold=3.5,
    min_user_count=5,
    min_item_count=0,
    seed=98765,
):
    """Preprocess ratings like dawenl/vae_cf, then :func:`strong_generalization_split`.

    Keeps ratings ``> threshold`` as 1.0 (:func:`~autorec_fast.datasets.binarize`),
    then applies the one-pass :func:`~autorec_fast.datasets.filter_min_counts`
    (items to ``>= min_item_count`` users only if ``min_item_count > 0``,
    then users to ``>= min_user_count`` items).

    Parameters
    ----------
    data : Interactions or anything :func:`as_interactions` accepts
        Explicit ratings.
    n_heldout_users : int
        Validation and test users each.
    threshold : float, default 3.5
    min_user_count : int, default 5
    min_item_count : int, default 0
    seed : int, default 98765

    Returns
    -------
    StrongGeneralizationSplit
    """
    filtered = filter_min_counts(
        binarize(data, threshold), min_user_count=min_user_count, min_item_count=min_item_count
    )
    return strong_generalization_split(filtered, n_heldout_users, seed=seed)


def _filter_max_user_count(data, max_user_count):
    """Drop the users with more than ``max_user_count`` interactions (and empty columns)."""
    m = data.matrix
    keep_rows = np.diff(m.indptr) <= max_user_count
    mask = keep_rows[_row_of_entries(m.indptr, data.n_users)]
    if not mask.any():
        raise ValueError(
            f"no interactions left after dropping users with more than "
            f"max_user_count={max_user_count} interactions"
        )
    return data._compact(mask)


def sequential_split_from_ratings(
    data,
    n_heldout_users=750,
    *,
    min_rating=4.0,
    min_user_count=5,
    max_user_count=1000,
    test_prop=0.2,
    seed=98765,
):
    """Preprocess ratings like SVAE, then :func:`temporal_heldout_split`.

    The SVAE protocol (Sachdeva et al., WSDM 2019) on ML-1M: ratings
    ``>= min_rating`` (inclusive, unlike :func:`strong_generalization_from_ratings`'
    strict ``> threshold``) are kept as 1.0, then, in one pass over the
    per-user counts of the kept ratings, users with fewer than
    ``min_user_count`` or more than ``max_user_count`` interactions are
    dropped (items are not filtered); finally 750 validation and 750 test
    users are held out with the temporal last 20% of their sequence as
    targets. Timestamps and ``entry_order`` survive every step.

    Parameters
    ----------
    data : Interactions or anything :func:`as_interactions` accepts
        Explicit ratings with timestamps.
    n_heldout_users : int, default 750
        Validation and test users each.
    min_rating : float, default 4.0
        Ratings ``>= min_rating`` are kept.
    min_user_count : int, default 5
        Users with fewer kept ratings are dropped.
    max_user_count : int or None, default 1000
        Users with more kept ratings are dropped; ``None``: no maximum.
        Must be ``>= min_user_count``.
    test_prop : float, default 0.2
        Fraction of a held-out user's sequence in fold-out.
    seed : int, default 98765
        Seed of the user permutation.

    Returns
    -------
    StrongGeneralizationSplit
        See :func:`temporal_heldout_split` (``min_fold_in=5``).

    Raises
    ------
    ValueError
        ``data`` has no timestamps, a threshold out of range, nothing left
        after filtering, or an invalid split argument.
    TypeError
        An argument of the wrong type.
    """
    data = as_interactions(data)
    _require_timestamps(data, "sequential_split_from_ratings")
    _check_finite_number(min_rating, "min_rating")
    if max_user_count is not None:
        if isinstance(max_user_count, bool) or not isinstance(max_user_count, numbers.Integral):
            raise TypeError(f"max_user_count must be an int or None, got {max_user_count!r}")
        if (
            isinstance(min_user_count, numbers.Integral)
            and not isinstance(min_user_count, bool)
            and max_user_count < min_user_count
        ):
            raise ValueError(
                f"max_user_count must be >= min_user_count, got max_user_count="
                f"{max_user_count} < min_user_count={min_user_count}"
            )
    mask = data.matrix.data >= min_rating  # inclusive, so not datasets.binarize
    if not mask.any():
        raise ValueError(f"no rating >= min_rating={min_rating!r}")
    kept = data._select(mask, binary=True)
    # one pass: the max filter removes whole users, so the counts it sees are
    # the same kept-rating counts as the min filter's
    filtered = filter_min_counts(kept, min_user_count=min_user_count)
    if max_user_count is not None:
        filtered = _filter_max_user_count(filtered, max_user_count)
    return temporal_heldout_split(filtered, n_heldout_users, test_prop=test_prop, seed=seed)
