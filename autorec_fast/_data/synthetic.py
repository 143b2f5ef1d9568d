"""Synthetic recommendation data with a planted low-rank structure (:func:`synthetic`).

MovieLens / Netflix / MSD-shaped, fast and without a dense users x items
matrix; exposed as :func:`autorec_fast.datasets.synthetic`.
"""

from __future__ import annotations

import numbers

import numpy as np

from .coerce import _check_int
from .container import Interactions
from .csr import _group_starts, _indptr_from_rows

#: name -> (n_users, n_items, approximate number of interactions, implicit)
SYNTHETIC_PRESETS = {
    "ml-100k": (943, 1682, 100_000, False),
    "ml-1m": (6040, 3706, 1_000_209, False),
    "ml-20m": (136_677, 20_108, 10_000_000, True),
    "netflix": (463_435, 17_769, 56_880_037, True),
    "msd": (571_355, 41_140, 33_633_450, True),
}

_BASE_TIME = 946_684_800  # 2000-01-01T00:00:00Z
_TIME_SPAN = 15 * 365 * 86_400
_MEAN_GAP = 6 * 3600
_MIN_PER_USER = 5
_ACTIVITY_SIGMA = 1.0
_ZIPF_EXPONENT = 1.0
_ZIPF_OFFSET = 5.0
_CHUNK_DRAWS = 1 << 21  # users are processed in chunks of about this many draws
_DENSE_ELEMS = 1 << 22  # element budget of a dense users x items block


def _user_activity(rng, n_users, n_items, target):
    """Lognormal per-user counts in [min(5, n_items), n_items] summing ~ target."""
    k_min = min(_MIN_PER_USER, n_items)
    raw = rng.lognormal(0.0, _ACTIVITY_SIGMA, size=n_users)
    if target <= k_min * n_users:
        return np.full(n_users, k_min, dtype=np.int64)
    if target >= n_items * n_users:
        return np.full(n_users, n_items, dtype=np.int64)

    def total(scale):
        return np.clip(np.rint(raw * scale), k_min, n_items).sum()

    lo, hi = 0.0, float(n_items) / raw.min()
    for _ in range(60):  # bisection on the (monotone) scale
        mid = 0.5 * (lo + hi)
        if total(mid) < target:
            lo = mid
        else:
            hi = mid
    return np.clip(np.rint(raw * hi), k_min, n_items).astype(np.int64)


def _segment_first_k(users, items, k, n_items):
    """Keep, per user, the first ``k[user]`` distinct items in draw order.

    ``users`` must be non-decreasing only within rounds, so the draw order is
    the array order. Returns (users, items) of the kept draws, sorted by
    (user, draw position), and the per-user count of kept items.
    """
    n_keys = int(k.size) * int(n_items)
    key_dtype = np.int32 if n_keys < np.iinfo(np.int32).max else np.int64
    key = users.astype(key_dtype) * key_dtype(n_items) + items.astype(key_dtype)
    _, first = np.unique(key, return_index=True)  # first occurrence of each pair
    first.sort()  # back to draw order
    fu = users[first]
    order = np.argsort(fu, kind="stable")  # group by user, keep draw order
    first = first[order]
    fu = fu[order]
    counts = np.bincount(fu, minlength=k.size)
    rank = np.arange(fu.size) - _group_starts(counts)[fu]
    sel = first[rank < k[fu]]
    return users[sel], items[sel], np.minimum(counts, k)


def synthetic(
    shape="ml-1m",
    *,
    n_users=None,
    n_items=None,
    density=None,
    implicit=None,
    rank=16,
    seed=0,
    timestamps=True,
    temperature=0.5,
):
    """Generate a synthetic recommendation data set with planted structure.

    Generative model (deterministic for a given ``seed``, using
    ``np.random.default_rng(seed)``):

    * item popularity: Zipf-like, ``pop_j = 1 / (r_j + 5)`` for a random rank
      permutation ``r``;
    * user activity: lognormal (sigma 1) counts, at least ``min(5, n_items)``
      and at most ``n_items``, scaled so their sum is close to
      ``density * n_users * n_items``;
    * planted low-rank structure: user factors ``U`` (n_users x rank,
      standard normal) and item factors ``V`` (n_items x rank) whose rows
      are one-hot indicators of ``rank`` balanced item groups, so that
      ``u.v_j = U[u, group(j)]`` (a block low-rank model). Each user's items
      are drawn *without replacement* with probability proportional to
      ``pop_j * exp(u.v_j / temperature)`` (successive sampling). The one-hot
      ``V`` makes this factorise as P(group | user) P(item | group), so each
      draw costs O(log n_items) and no users x items matrix is built, except
      for the rare users needing most of the catalogue, who are sampled
      with the Gumbel-top-k trick on their own row;
    * explicit ratings (``implicit=False``): ``rint(clip(2.75 + b_u + b_j +
      0.8 u.v_j + noise, 1, 5))`` with user/item biases and Gaussian noise,
      so low-rank rating models beat the global mean;
    * timestamps: per user, a random start between 2000 and 2015 and
      strictly increasing times in draw order (random gaps, int64 seconds).

    Parameters
    ----------
    shape : {"ml-100k", "ml-1m", "ml-20m", "netflix", "msd"}
        Preset giving ``(n_users, n_items, approx. interactions, implicit)``,
        see :data:`SYNTHETIC_PRESETS`.
    n_users, n_items : int, optional
        Override the preset sizes (the preset density is kept unless
        ``density`` is given, e.g. ``synthetic("ml-20m", n_users=20000)``).
    density : float, optional
        Fraction of the users x items cells to fill, in (0, 1].
    implicit : bool, optional
        ``True``: values 1.0 (``has_ratings=False``); ``False``: ratings 1..5.
        Default: the preset's.
    rank : int, default 16
        Number of latent factors (item groups).
    seed : int, default 0
        Seed of ``np.random.default_rng``.
    timestamps : bool, default True
        Whether to generate timestamps.
    temperature : float, default 0.5
        Lower values make users concentrate on fewer item groups.

    Returns
    -------
    Interactions
        Ids are ``arange``; ``entry_order`` is (user, time) order. Duplicates
        are impossible by construction.

    Raises
    ------
    ValueError
        Unknown ``shape`` or invalid sizes/density/rank/temperature.
    """
    if shape not in SYNTHETIC_PRESETS:
        raise ValueError(
            f"shape must be one of {sorted(SYNTHETIC_PRESETS)}, got {shape!r}"
        )
    p_users, p_items, p_nnz, p_implicit = SYNTHETIC_PRESETS[shape]
    for value, name in ((n_users, "n_users"), (n_items, "n_items")):
        if value is not None:
            _check_int(value, name, 1)
    if isinstance(rank, bool) or not isinstance(rank, numbers.Integral) or rank < 1:
        raise ValueError(f"rank must be a positive int, got {rank!r}")
    if not (isinstance(temperature, numbers.Real) and temperature > 0):
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    if density is None:
        density = p_nnz / (p_users * p_items)
    elif (
        isinstance(density, bool)
        or not isinstance(density, numbers.Real)
        or not (0 < density <= 1)
    ):
        raise ValueError(f"density must be a number in (0, 1], got {density!r}")
    n_users = p_users if n_users is None else int(n_users)
    n_items = p_items if n_items is None else int(n_items)
    implicit = p_implicit if implicit is None else bool(implicit)
    target = density * n_users * n_items

    rng = np.random.default_rng(seed)
    k = _user_activity(rng, n_users, n_items, target)
    pop = 1.0 / (rng.permutation(n_items) + 1.0 + _ZIPF_OFFSET) ** _ZIPF_EXPONENT
    n_groups = min(int(rank), n_items)
    group = rng.permutation(n_items) % n_groups
    U = rng.standard_normal((n_users, n_groups)).astype(np.float32)

    # P(item | group): per-group CDF over the group's items, offset by group id
    by_group = np.argsort(group, kind="stable")
    group_sizes = np.bincount(group, minlength=n_groups)
    group_start = np.zeros(n_groups, dtype=np.int64)
    np.cumsum(group_sizes[:-1], out=group_start[1:])
    pop_sorted = pop[by_group]
    z = np.bincount(group, weights=pop, minlength=n_groups)  # group masses
    cdf = np.cumsum(pop_sorted)
    cdf -= np.repeat(np.cumsum(z) - z, group_sizes)
    cdf /= np.repeat(z, group_sizes)
    cdf += np.repeat(np.arange(n_groups), group_sizes)
    log_z = np.log(z)

    def draw(local_users, user_cdf):
        """One item index per entry of ``local_users`` (rows of ``user_cdf``)."""
        r = local_users + rng.random(local_users.size)
        g = np.searchsorted(user_cdf, r, side="right") - local_users * n_groups
        np.clip(g, 0, n_groups - 1, out=g)
        pos = np.searchsorted(cdf, g + rng.random(local_users.size), side="right")
        np.clip(pos, group_start[g], group_start[g] + group_sizes[g] - 1, out=pos)
        return by_group[pos]

    def dense_finish(users, offset, taken_u, taken_i, need):
        """Gumbel-top-k over full rows of local ``users``, excluding taken items."""
        out_u, out_i = [], []
        log_pop = np.log(pop)
        rows_per_block = max(1, _DENSE_ELEMS // n_items)
        for s in range(0, users.size, rows_per_block):
            blk = users[s : s + rows_per_block]
            scores = log_pop[None, :] + U[blk + offset][:, group] / temperature
            local = np.searchsorted(blk, taken_u)  # blk is sorted
            inblk = (local < blk.size) & (blk[np.minimum(local, blk.size - 1)] == taken_u)
            scores[local[inblk], taken_i[inblk]] = -np.inf
            scores += rng.gumbel(size=scores.shape)
            kb = need[s : s + rows_per_block]
            top = int(kb.max())
            if top < n_items:
                part = np.argpartition(-scores, top - 1, axis=1)[:, :top]
            else:
                part = np.broadcast_to(np.arange(n_items), scores.shape)
            part_scores = np.take_along_axis(scores, part, axis=1)
            order = np.take_along_axis(part, np.argsort(-part_scores, axis=1), axis=1)
            out_u.append(np.repeat(blk, kb))
            out_i.append(order[np.arange(top)[None, :] < kb[:, None]])
        return np.concatenate(out_u), np.concatenate(out_i)

    dense_cut = n_items // 2  # beyond this, sampling with rejection is wasteful
    chunk_of = (np.cumsum(k) - 1) // _CHUNK_DRAWS
    edges = np.concatenate([[0], np.flatnonzero(np.diff(chunk_of)) + 1, [n_users]])
    parts_u, parts_i = [], []
    for a, b in zip(edges[:-1].tolist(), edges[1:].tolist()):
        kc = k[a:b]
        # P(group | user) as row-offset CDFs: row u spans [u, u + 1]
        logits = U[a:b] / temperature + log_z
        logits -= logits.max(axis=1, keepdims=True)
        user_cdf = np.cumsum(np.exp(logits, dtype=np.float64), axis=1)
        user_cdf /= user_cdf[:, -1:]
        user_cdf += np.arange(b - a)[:, None]
        user_cdf = user_cdf.ravel()
        have = np.zeros(b - a, dtype=np.int64)
        drawn = np.zeros(b - a, dtype=np.int64)
        active = kc <= dense_cut  # users sampled by repeated draws
        cand_u = np.empty(0, dtype=np.int64)  # candidates of active users,
        cand_i = np.empty(0, dtype=np.int64)  # per user in draw order
        done_u, done_i = [], []
        for _ in range(5):
            need = np.where(active, kc - have, 0)
            if not need.any():
                break
            # over-draw by the user's observed duplicate rate (x1.2 margin)
            rate = np.where(have > 0, drawn / np.maximum(have, 1), 1.1)
            n_draw = np.where(need > 0, np.ceil(need * rate * 1.2).astype(np.int64) + 4, 0)
            drawn += n_draw
            new_u = np.repeat(np.arange(b - a), n_draw)
            cand_u = np.concatenate([cand_u, new_u])
            cand_i = np.concatenate([cand_i, draw(new_u, user_cdf)])
            cand_u, cand_i, counts = _segment_first_k(cand_u, cand_i, kc, n_items)
            in_round = need > 0
            have = np.where(in_round, counts, have)
            finished = in_round & (have >= kc)
            active &= ~finished
            move = finished[cand_u]
            done_u.append(cand_u[move])
            done_i.append(cand_i[move])
            cand_u, cand_i = cand_u[~move], cand_i[~move]
        need = kc - have
        if need.any():
            rest = np.flatnonzero(need)
            du, di = dense_finish(rest, a, cand_u, cand_i, need[rest])
            # successive sampling continues after the already drawn items
            cand_u = np.concatenate([cand_u, du])
            cand_i = np.concatenate([cand_i, di])
        cand_u = np.concatenate(done_u + [cand_u])
        cand_i = np.concatenate(done_i + [cand_i])
        order = np.argsort(cand_u, kind="stable")  # (user, draw order)
        cand_u, cand_i = cand_u[order], cand_i[order]
        parts_u.append(cand_u + a)
        parts_i.append(cand_i)
    users = np.concatenate(parts_u)
    items = np.concatenate(parts_i)
    nnz = users.size

    ratings = None
    if not implicit:
        b_u = rng.normal(0.0, 0.4, n_users)
        b_i = rng.normal(0.0, 0.3, n_items)
        score = (
            2.75
            + b_u[users]
            + b_i[items]
            + 0.8 * U[users, group[items]]
            + rng.normal(0.0, 0.75, nnz)
        )
        ratings = np.rint(np.clip(score, 1.0, 5.0)).astype(np.float32)

    ts = None
    if timestamps:
        gaps = 1 + rng.exponential(_MEAN_GAP, nnz).astype(np.int64)
        csum = np.cumsum(gaps)
        starts = _group_starts(np.bincount(users, minlength=n_users))
        before = np.where(starts > 0, csum[np.maximum(starts - 1, 0)], 0)
        user_t0 = _BASE_TIME + rng.integers(0, _TIME_SPAN, n_users)
        ts = user_t0[users] + csum - before[users]

    # canonical CSR: sort items within each user (pairs are unique)
    key = users * np.int64(n_items) + items
    order = np.argsort(key)
    return Interactions._unchecked(
        _indptr_from_rows(users, n_users),
        items[order],
        np.ones(nnz, np.float32) if ratings is None else ratings[order],
        (n_users, n_items),
        timestamps=None if ts is None else ts[order],
        entry_order=order,
        has_ratings=not implicit,
    )
