"""Held-out-user protocols: strong generalization (Liang et al. 2018), its temporal variant (SVAE).

The users are partitioned into training, validation and test users; the
held-out users' interactions are split into fold-in (model input) and
fold-out (targets), at random (:func:`strong_generalization_split`, the
dawenl/vae_cf recipe, reproduced exactly) or by time
(:func:`temporal_heldout_split`, Sachdeva et al. 2019).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..interactions import Interactions, as_interactions
from .coerce import _check_int
from .csr import _first_per_row, _gather_rows, _indptr_from_rows, _row_of_entries
from .holdout import _check_fraction, _require_timestamps


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
    sub_indptr, gather = _gather_rows(m.indptr, rows_sorted)
    row_of = _row_of_entries(sub_indptr, rows_sorted.size)  # position in rows_sorted
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
        heldout = _first_per_row(
            row_of,
            counts,
            test_prop,
            min_fold_in,
            -data.entry_order[gather],
            -data.timestamps[gather],
        )
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
        return data._rebuild(
            _indptr_from_rows(r, present.size), c, g, user_ids=user_ids, item_ids=vocab
        )

    return FoldInOut(build(~heldout), build(heldout))


def _check_heldout_args(n_heldout_users, test_prop, min_fold_in):
    """Type checks shared by the held-out-user splits; returns ``test_prop, min_fold_in``."""
    _check_int(n_heldout_users, "n_heldout_users")
    test_prop = _check_fraction(test_prop, "test_prop")
    return test_prop, _check_int(min_fold_in, "min_fold_in")


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
    train = train._rebuild(tm.indptr, t_cols[o], o, item_ids=vocab)
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
    _require_timestamps(data, "temporal_heldout_split")
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
