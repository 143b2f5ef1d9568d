"""Train/test splitting protocols.

Unless stated otherwise every split returns :class:`Interactions` sharing the
parent's row and column index spaces (same shape, same ``user_ids`` /
``item_ids``), so a model trained on ``train`` can score the other parts.
Users or items whose entries all land on one side simply have empty rows /
columns on the other.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from .datasets import binarize, filter_min_counts
from .interactions import Interactions, _row_of_entries, as_interactions

__all__ = [
    "FoldInOut",
    "StrongGeneralizationSplit",
    "TimeSplit",
    "per_user_split",
    "random_split",
    "sequential_split_from_ratings",
    "strong_generalization_from_ratings",
    "strong_generalization_split",
    "temporal_heldout_split",
    "temporal_split",
    "time_split",
]


def _check_fraction(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not (0.0 < value < 1.0):
        raise ValueError(f"{name} must be in (0, 1), got {value!r}")
    return float(value)


def _split_by_mask(data, test_mask):
    return data._select(~test_mask), data._select(test_mask)


def _rank_within_rows(rows, *keys):
    """Rank of each entry within its row when ordered by ``keys`` (last = primary).

    ``rows`` must be non-decreasing (CSR order).
    """
    order = np.lexsort(keys + (rows,))
    counts = np.bincount(rows)
    starts = np.zeros(counts.size, dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    rank = np.empty(rows.size, dtype=np.int64)
    rank[order] = np.arange(rows.size) - starts[rows[order]]
    return rank


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
    data = as_interactions(data)
    test_fraction = _check_fraction(test_fraction, "test_fraction")
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
    data = as_interactions(data)
    test_fraction = _check_fraction(test_fraction, "test_fraction")
    if isinstance(min_interactions, bool) or not isinstance(
        min_interactions, numbers.Integral
    ):
        raise TypeError(f"min_interactions must be an int, got {min_interactions!r}")
    if min_interactions < 0:
        raise ValueError(f"min_interactions must be >= 0, got {min_interactions}")
    rng = np.random.default_rng(seed)
    m = data.matrix
    counts = np.diff(m.indptr).astype(np.int64)
    n_test = np.floor(test_fraction * counts).astype(np.int64)
    n_test[counts < min_interactions] = 0
    rows = _row_of_entries(m.indptr, data.n_users)
    rank = _rank_within_rows(rows, rng.random(data.nnz))
    return _split_by_mask(data, rank < n_test[rows])


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
    data = as_interactions(data)
    test_fraction = _check_fraction(test_fraction, "test_fraction")
    if data.timestamps is None:
        raise ValueError("data has no timestamps; temporal_split needs them")
    m = data.matrix
    counts = np.diff(m.indptr).astype(np.int64)
    n_test = np.floor(test_fraction * counts).astype(np.int64)
    rows = _row_of_entries(m.indptr, data.n_users)
    # rank from the end: sort by (-timestamp, -entry_order) within each row
    rank = _rank_within_rows(rows, -data.entry_order, -data.timestamps)
    return _split_by_mask(data, rank < n_test[rows])


# ---------------------------------------------------------------------------
# strong generalization (Liang et al. 2018, dawenl/vae_cf)
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class FoldInOut:
    """Held-out users' interactions split into fold-in (input) and fold-out (targets).

    Attributes
    ----------
    fold_in : Interactions
        The interactions given to the model.
    fold_out : Interactions
        The interactions to predict; same rows and columns as ``fold_in``.
    """

    fold_in: Interactions
    fold_out: Interactions

    def __post_init__(self):
        if self.fold_in.shape != self.fold_out.shape or not (
            np.array_equal(self.fold_in.user_ids, self.fold_out.user_ids)
            and np.array_equal(self.fold_in.item_ids, self.fold_out.item_ids)
        ):
            raise ValueError("fold_in and fold_out must share rows and columns")

    @property
    def users_with_targets(self):
        """numpy.ndarray of bool: rows whose ``fold_out`` is non-empty."""
        return np.diff(self.fold_out.matrix.indptr) > 0


@dataclass(frozen=True)
class StrongGeneralizationSplit:
    """Result of :func:`strong_generalization_split` and :func:`temporal_heldout_split`.

    Attributes
    ----------
    train : Interactions
        Training users (rows in ascending original-id order) over the item
        vocabulary (columns).
    validation, test : FoldInOut
        Held-out users (rows in ascending original-id order, only those with
        at least one in-vocabulary interaction) over the same columns.
    item_ids : numpy.ndarray
        The item vocabulary (original ids, in order of first appearance among
        the training users' interactions in input order).
    """

    train: Interactions
    validation: FoldInOut
    test: FoldInOut
    item_ids: np.ndarray


def _fold_in_out(
    data, rows_sorted, col_map, vocab, seed, test_prop, min_fold_in, *, temporal=False
):
    """Fold-in/fold-out of the given rows (ascending original id), recipe order.

    ``temporal=False``: random fold-out rows (vae_cf recipe, ``seed`` used);
    ``temporal=True``: the latest rows by ``(timestamp, entry_order)``
    (``seed`` unused, ``data`` must have timestamps).
    """
    m = data.matrix
    indptr = m.indptr.astype(np.int64)
    lengths = np.diff(indptr)[rows_sorted]
    gather = np.repeat(indptr[rows_sorted] - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    gather += np.arange(lengths.sum(), dtype=np.int64)
    row_of = np.repeat(np.arange(rows_sorted.size), lengths)  # position in rows_sorted
    new_col = col_map[m.indices[gather]]
    keep = new_col >= 0  # drop items outside the vocabulary
    gather, row_of, new_col = gather[keep], row_of[keep], new_col[keep]
    # each user's rows in input (file) order
    order = np.lexsort((data.entry_order[gather], row_of))
    gather, row_of, new_col = gather[order], row_of[order], new_col[order]
    counts = np.bincount(row_of, minlength=rows_sorted.size)

    # users without any in-vocabulary row do not exist for the recipe
    present = np.flatnonzero(counts)
    rows_kept = rows_sorted[present]
    counts_kept = counts[present]

    if temporal:
        # the int(test_prop * n) latest rows of users with n >= min_fold_in:
        # rank from the end by (-timestamp, -entry_order) within each user
        n_out = np.floor(test_prop * counts).astype(np.int64)
        n_out[counts < min_fold_in] = 0
        rank = _rank_within_rows(row_of, -data.entry_order[gather], -data.timestamps[gather])
        heldout = rank < n_out[row_of]
    else:
        heldout = np.zeros(gather.size, dtype=bool)
        rng = np.random.RandomState(seed)
        start = 0
        for n in counts_kept.tolist():  # one loop step per user: exact RNG sequence
            if n >= min_fold_in:
                idx = np.zeros(n, dtype="bool")
                idx[rng.choice(n, size=int(test_prop * n), replace=False).astype("int64")] = True
                heldout[start : start + n] = idx
            start += n

    new_row = np.repeat(np.arange(present.size), counts_kept)
    user_ids = data.user_ids[rows_kept]

    def build(mask):
        r, c, g = new_row[mask], new_col[mask], gather[mask]
        o = np.lexsort((c, r))
        r, c, g = r[o], c[o], g[o]
        ptr = np.zeros(present.size + 1, dtype=np.int64)
        np.cumsum(np.bincount(r, minlength=present.size), out=ptr[1:])
        return Interactions._unchecked(
            ptr,
            c,
            m.data[g],
            (present.size, vocab.size),
            user_ids=user_ids,
            item_ids=vocab,
            timestamps=None if data.timestamps is None else data.timestamps[g],
            entry_order=data.entry_order[g],
            has_ratings=data.has_ratings,
        )

    return FoldInOut(build(~heldout), build(heldout))


def _check_heldout_args(n_heldout_users, test_prop, min_fold_in):
    """Type checks shared by the held-out-user splits; returns ``test_prop, min_fold_in``."""
    if isinstance(n_heldout_users, bool) or not isinstance(
        n_heldout_users, numbers.Integral
    ):
        raise TypeError(f"n_heldout_users must be an int, got {n_heldout_users!r}")
    test_prop = _check_fraction(test_prop, "test_prop")
    if isinstance(min_fold_in, bool) or not isinstance(min_fold_in, numbers.Integral):
        raise TypeError(f"min_fold_in must be an int, got {min_fold_in!r}")
    return test_prop, int(min_fold_in)


def _heldout_users_and_vocab(data, n_heldout_users, seed):
    """Steps 1-2 of :func:`strong_generalization_split` (user partition, vocabulary).

    Returns ``train, vd_rows, te_rows, col_map, vocab``: the training users'
    Interactions over the vocabulary, the validation / test rows of ``data``
    in ascending original-id order, the map from ``data``'s columns to
    vocabulary positions (-1 outside it) and the vocabulary's original ids.
    """
    m = data.matrix
    nonempty = np.flatnonzero(np.diff(m.indptr) > 0)
    n_users = nonempty.size
    n = int(n_heldout_users)
    if not (0 < 2 * n < n_users):
        raise ValueError(
            f"n_heldout_users must satisfy 0 < 2 * n_heldout_users < n_users "
            f"({n_users} users with interactions), got {n_heldout_users}"
        )
    # 1. users sorted by original id, permuted with the legacy RNG
    by_id = nonempty[np.argsort(data.user_ids[nonempty], kind="stable")]
    perm = np.random.RandomState(seed).permutation(n_users)
    permuted = by_id[perm]
    tr_rows = permuted[: n_users - 2 * n]
    vd_rows = permuted[n_users - 2 * n : n_users - n]
    te_rows = permuted[n_users - n :]
    rank_by_id = np.empty(data.n_users, dtype=np.int64)
    rank_by_id[by_id] = np.arange(n_users)  # rows back to ascending-id order
    vd_rows = vd_rows[np.argsort(rank_by_id[vd_rows])]
    te_rows = te_rows[np.argsort(rank_by_id[te_rows])]
    tr_rows = tr_rows[np.argsort(rank_by_id[tr_rows])]

    # 2. vocabulary: first appearance among training rows, in input order
    is_train = np.zeros(data.n_users, dtype=bool)
    is_train[tr_rows] = True
    rows = _row_of_entries(m.indptr, data.n_users)
    train_entries = np.flatnonzero(is_train[rows])
    train_entries = train_entries[np.argsort(data.entry_order[train_entries], kind="stable")]
    items_in_order = m.indices[train_entries]
    uniq, first = np.unique(items_in_order, return_index=True)
    vocab_cols = uniq[np.argsort(first)]
    col_map = np.full(data.n_items, -1, dtype=np.int64)
    col_map[vocab_cols] = np.arange(vocab_cols.size)
    vocab = data.item_ids[vocab_cols]

    train = data.subset_users(tr_rows)
    tm = train.matrix
    t_cols = col_map[tm.indices]
    t_rows = _row_of_entries(tm.indptr, train.n_users)
    o = np.lexsort((t_cols, t_rows))
    train = Interactions._unchecked(
        tm.indptr,
        t_cols[o],
        tm.data[o],
        (train.n_users, vocab.size),
        user_ids=train.user_ids,
        item_ids=vocab,
        timestamps=None if train.timestamps is None else train.timestamps[o],
        entry_order=train.entry_order[o],
        has_ratings=train.has_ratings,
    )
    return train, vd_rows, te_rows, col_map, vocab


def strong_generalization_split(
    data, n_heldout_users, *, seed=98765, test_prop=0.2, min_fold_in=5
):
    """Strong-generalization split of Liang et al. (2018), reproduced exactly.

    Follows the preprocessing notebook of dawenl/vae_cf (the caller
    binarises / filters beforehand, see
    :func:`strong_generalization_from_ratings`):

    1. The users with at least one interaction, sorted by original id, are
       permuted with ``np.random.RandomState(seed).permutation``; the last
       ``2 * n_heldout_users`` become validation then test users, the rest
       training users.
    2. The item vocabulary is the training users' items in order of first
       appearance in input order (``entry_order``), like
       ``pd.unique(train_plays['movieId'])``; held-out interactions on other
       items are dropped.
    3. For validation and for test separately, with a fresh
       ``np.random.RandomState(seed)``, users are visited in ascending
       original-id order, each user's ``n`` rows in input order; if
       ``n >= min_fold_in``, ``int(test_prop * n)`` rows chosen by
       ``rng.choice(n, size, replace=False)`` go to fold-out, the others
       (or all rows, when ``n < min_fold_in``) to fold-in.

    The global ``np.random`` state is not touched. Values are copied as they
    are (binarise beforehand for the original protocol).

    Parameters
    ----------
    data : Interactions or anything :func:`as_interactions` accepts
    n_heldout_users : int
        Number of validation users and of test users; ``0 < 2 N < n_users``
        (users with at least one interaction).
    seed : int, default 98765
        Seed of the legacy ``RandomState`` used for all three random steps.
    test_prop : float, default 0.2
        Fraction of a held-out user's rows in fold-out.
    min_fold_in : int, default 5
        Users with fewer in-vocabulary rows get no fold-out rows.

    Returns
    -------
    StrongGeneralizationSplit
        ``train`` rows: training users in ascending original-id order (not
        the permuted order of the recipe's ``profile2id``); held-out rows:
        ascending original id, only users with at least one in-vocabulary
        row; columns everywhere: the vocabulary in first-appearance order.

    Raises
    ------
    ValueError
        ``n_heldout_users`` out of range, or ``test_prop`` not in (0, 1).
    """
    data = as_interactions(data)
    test_prop, min_fold_in = _check_heldout_args(n_heldout_users, test_prop, min_fold_in)
    train, vd_rows, te_rows, col_map, vocab = _heldout_users_and_vocab(
        data, n_heldout_users, seed
    )
    # 3. fold-in / fold-out, re-seeding before each held-out group
    validation = _fold_in_out(data, vd_rows, col_map, vocab, seed, test_prop, min_fold_in)
    test = _fold_in_out(data, te_rows, col_map, vocab, seed, test_prop, min_fold_in)
    return StrongGeneralizationSplit(train, validation, test, vocab)


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


# ---------------------------------------------------------------------------
# sequential held-out users (SVAE, Sachdeva et al. 2019)
# ---------------------------------------------------------------------------
def temporal_heldout_split(data, n_heldout_users, *, test_prop=0.2, seed=98765, min_fold_in=5):
    """Held-out users whose latest interactions are the targets (SVAE protocol).

    The evaluation protocol of SVAE (Sachdeva et al., WSDM 2019): the users
    are partitioned into training, validation and test users exactly like
    :func:`strong_generalization_split`, but each held-out user's fold-out is
    the temporal end of their sequence instead of a random subset:

    1. The users with at least one interaction, sorted by original id, are
       permuted with ``np.random.RandomState(seed).permutation``; the last
       ``2 * n_heldout_users`` become validation then test users, the rest
       training users.
    2. The item vocabulary is the training users' items in order of first
       appearance in input order (``entry_order``); held-out interactions on
       other items are dropped.
    3. Each held-out user's ``n`` remaining interactions are ordered by
       ``(timestamp, entry_order)`` (ties in time broken by input position,
       later counts as later); if ``n >= min_fold_in`` the last
       ``int(test_prop * n)`` go to fold-out and the others to fold-in,
       otherwise all go to fold-in. This step uses no randomness.

    The global ``np.random`` state is not touched. Values are copied as they
    are (binarise beforehand, see :func:`sequential_split_from_ratings`).
    Every part keeps its timestamps and ``entry_order``, so a sequential
    model can order each user's items by time.

    Parameters
    ----------
    data : Interactions or anything :func:`as_interactions` accepts
        Must have timestamps.
    n_heldout_users : int
        Number of validation users and of test users; ``0 < 2 N < n_users``
        (users with at least one interaction), so at least one training user
        is left.
    test_prop : float, default 0.2
        Fraction in (0, 1) of a held-out user's interactions in fold-out.
    seed : int, default 98765
        Seed of the legacy ``RandomState`` permuting the users.
    min_fold_in : int, default 5
        Non-negative; users with fewer in-vocabulary interactions get no
        fold-out.

    Returns
    -------
    StrongGeneralizationSplit
        Same layout as :func:`strong_generalization_split`: ``train`` rows
        are the training users in ascending original-id order; held-out rows
        are in ascending original id, only users with at least one
        in-vocabulary interaction; columns everywhere are the vocabulary in
        first-appearance order. Timestamps and ``entry_order`` are carried
        along in every part.

    Raises
    ------
    ValueError
        ``data`` has no timestamps, ``n_heldout_users`` out of range,
        ``test_prop`` not in (0, 1) or ``min_fold_in`` negative.
    TypeError
        ``n_heldout_users`` or ``min_fold_in`` not an int, ``test_prop`` not
        a number.
    """
    data = as_interactions(data)
    if data.timestamps is None:
        raise ValueError("data has no timestamps; temporal_heldout_split needs them")
    test_prop, min_fold_in = _check_heldout_args(n_heldout_users, test_prop, min_fold_in)
    if min_fold_in < 0:
        raise ValueError(f"min_fold_in must be >= 0, got {min_fold_in}")
    train, vd_rows, te_rows, col_map, vocab = _heldout_users_and_vocab(
        data, n_heldout_users, seed
    )
    validation, test = (
        _fold_in_out(data, rows, col_map, vocab, None, test_prop, min_fold_in, temporal=True)
        for rows in (vd_rows, te_rows)
    )
    return StrongGeneralizationSplit(train, validation, test, vocab)


def _filter_max_user_count(data, max_user_count):
    """Drop the users with more than ``max_user_count`` interactions (and empty columns)."""
    m = data.matrix
    counts = np.diff(m.indptr)
    keep_rows = counts <= max_user_count
    rows_of = _row_of_entries(m.indptr, data.n_users)
    mask = keep_rows[rows_of]
    if not mask.any():
        raise ValueError(
            f"no interactions left after dropping users with more than "
            f"max_user_count={max_user_count} interactions"
        )
    rows = np.flatnonzero(keep_rows & (counts > 0))
    cols = np.flatnonzero(np.bincount(m.indices[mask], minlength=data.n_items))
    return data._select(mask, rows=rows, cols=cols)


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
    if data.timestamps is None:
        raise ValueError("data has no timestamps; sequential_split_from_ratings needs them")
    if isinstance(min_rating, bool) or not isinstance(min_rating, numbers.Real):
        raise TypeError(f"min_rating must be a number, got {min_rating!r}")
    if not np.isfinite(min_rating):
        raise ValueError(f"min_rating must be finite, got {min_rating!r}")
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


# ---------------------------------------------------------------------------
# date split (the Netflix prize-style protocol of DeepRec)
# ---------------------------------------------------------------------------
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
    if data.timestamps is None:
        raise ValueError("data has no timestamps; time_split needs them")
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
