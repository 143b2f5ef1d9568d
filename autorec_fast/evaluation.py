"""Evaluation with the papers' definitions (see the metric table in the README).

Ranking metrics follow the strong-generalization protocol: a model scores each
held-out user from the fold-in items, fold-in items are excluded from the
ranking, and the fold-out items are the targets. Binary relevance, averaged
over the users that have at least one target:

* ``recall@K``  hits in the top K / min(K, n_out)          (Liang et al. 2018)
* ``recall_nout@K``  hits in the top K / n_out             (SVAE, BARS)
* ``ndcg@K``  Σ_{i<K} rel_i / log2(i+2) / IDCG, IDCG = Σ_{i<min(K, n_out)} 1/log2(i+2)
* ``precision@K``  hits in the top K / K
* ``map@K``  Σ_{i<K} precision@(i+1)·rel_i / min(K, n_out)
* ``mrr@K``  1 / (position of the first hit in the top K), 0 without a hit
* ``mrr``  1 / (full-ranking rank of the best-ranked target)
* ``coverage@K``  fraction of all items in at least one user's top K (not averaged)
* ``rmse``, ``mae``  over test (user, item, rating) triples, for rating models

Scores are computed for batches of users, top-K selection runs in the C++
kernel (partial selection with a bounded heap, OpenMP over users) or on the GPU,
and metrics are vectorised over each batch: no Python loop per user.
"""

from __future__ import annotations

import math
import re
import time
import warnings

import numpy as np

from .backends.cpu import first_hit_rank, hits_at_k
from ._validation import as_history, check_positive

RANKING_METRICS = ("recall", "recall_nout", "ndcg", "precision", "map", "mrr", "coverage")
RATING_METRICS = ("rmse", "mae")
DEFAULT_METRICS = ("recall@20", "recall@50", "ndcg@100")
_METRIC_RE = re.compile(r"^([a-z_]+)(?:@(\d+))?$")


def parse_metric(name: str) -> tuple[str, int | None]:
    """``"ndcg@100"`` -> ``("ndcg", 100)``; unknown names are a ValueError naming ``metrics``."""
    if not isinstance(name, str):
        raise TypeError(f"metrics must be strings like 'ndcg@100', got {name!r}")
    m = _METRIC_RE.match(name.strip().lower())
    if not m or m.group(1) not in RANKING_METRICS + RATING_METRICS:
        raise ValueError(
            f"metrics: unknown metric {name!r}; known: "
            f"{', '.join(x + '@K' for x in RANKING_METRICS if x != 'mrr')}, mrr, mrr@K, rmse, mae"
        )
    base, k = m.group(1), m.group(2)
    k = int(k) if k is not None else None
    if base in RATING_METRICS and k is not None:
        raise ValueError(f"metrics: {base} takes no @K, got {name!r}")
    if base not in RATING_METRICS and base != "mrr" and k is None:
        raise ValueError(f"metrics: {base} needs a cut-off, e.g. '{base}@20', got {name!r}")
    if k is not None and k <= 0:
        raise ValueError(f"metrics: the cut-off must be >= 1, got {name!r}")
    return base, k


def _topk_batches(model, X, k, exclude_seen, batch_size, want_scores=False):
    """Yield (top-k indices, top-k scores, scores or None) per batch of rows of X
    (host arrays for the indices and top-k scores; ``scores`` on the model's device)."""
    backend = model._backend
    rows = min(batch_size, X.shape[0])  # a batch's scores and the top-k selection's workspace
    backend.require_memory(2 * rows * model.n_items * np.dtype(model.dtype).itemsize,
                           f"scoring batches of {rows:,} rows x {model.n_items:,} items (lower batch_size)")
    for start in range(0, X.shape[0], batch_size):
        Xb = X[start : start + batch_size]
        scores = model._finite_scores(Xb)
        top, val = backend.topk(scores, Xb if exclude_seen else None, k)
        yield top, val, (scores if want_scores else None)


def _fold_pair(data):
    if isinstance(data, tuple) and len(data) == 2:
        return data
    if hasattr(data, "fold_in") and hasattr(data, "fold_out"):
        return data.fold_in, data.fold_out
    return None


def evaluate(model, data, metrics=None, *, batch_size: int = 1024,
             per_user: bool = False, verbose: bool = False) -> dict:
    """Evaluate a fitted model; returns ``{metric name: value}``.

    Parameters
    ----------
    model
        A fitted model (from ``autorec_fast.train``).
    data
        For ranking metrics: a ``FoldInOut`` (``split.validation`` /
        ``split.test`` of a strong-generalization split) or a pair
        ``(fold_in, fold_out)`` with the same rows, one per held-out user and
        one column per model item. Users without fold-out items are left out
        of the averages. For ``rmse``/``mae``: test ``Interactions`` with
        ratings, in the training data's user and item index space.
    metrics
        Names such as ``"recall@20"``, ``"ndcg@100"``, ``"mrr"`` (see the
        module docstring for the definitions). Default: ``rmse`` and ``mae``
        for rating-prediction models (``model.predicts_ratings``: AutoRec,
        DeepRec, the bias baseline), ``DEFAULT_METRICS`` (recall@20,
        recall@50, ndcg@100) for the others.
    per_user
        Also return each user's values (key ``"per_user"``: {metric: array}),
        e.g. for standard errors.
    verbose
        Print progress.
    """
    if metrics is None:
        metrics = RATING_METRICS if getattr(model, "predicts_ratings", False) else DEFAULT_METRICS
    if isinstance(metrics, str):
        metrics = [metrics]
    metrics = list(metrics)
    if not metrics:
        raise ValueError("metrics must name at least one metric")
    parsed = [parse_metric(m) for m in metrics]
    batch_size = check_positive(batch_size, "batch_size", integer=True)
    model._check_fitted()
    kinds = {base in RATING_METRICS for base, _ in parsed}
    if len(kinds) == 2:
        raise ValueError("metrics: ranking and rating metrics need different data; evaluate them separately")
    if kinds == {True}:
        return _evaluate_ratings(model, data, metrics, parsed)
    return _evaluate_ranking(model, data, metrics, parsed, batch_size, per_user, verbose)


def _frames_to_histories(model, pair, shard: bool = False):
    """A (fold_in, fold_out) pair of DataFrames in original ids -> two Interactions with
    the same rows (users in order of first appearance, fold-in then fold-out) over the
    model's items; rows naming items the model never saw are dropped with a warning."""
    from ._data.original_ids import first_appearance, frame_columns, history_from_frame, is_frame

    if not (is_frame(pair[0]) and is_frame(pair[1])):
        raise TypeError("data: a (fold_in, fold_out) pair must be two DataFrames in original ids, or two "
                        "matrices in the model's index space, not one of each")
    users = [frame_columns(df, f"data.{name}", values=False)[0] for df, name in zip(pair, ("fold_in", "fold_out"))]
    order = first_appearance(np.concatenate([np.asarray(u, dtype=object) for u in users]))
    return tuple(history_from_frame(df, model.item_ids, f"data.{name}", user_order=order, stacklevel=6,
                                    shard=shard)[0]
                 for df, name in zip(pair, ("fold_in", "fold_out")))


def _evaluate_ranking(model, data, names, parsed, batch_size, per_user, verbose):
    fold_in, fold_out = ranking_inputs(model, data)
    if fold_out.nnz == 0:  # stored entries: the rows' target counts
        raise ValueError("data: no user has fold-out items to rank")
    check_cutoffs(model, parsed)
    per, covered = ranking_values(model, fold_in, fold_out, names, parsed, batch_size, verbose)
    result = {name: float(covered[name].mean()) if name in covered else float(per[name].mean())
              for name in names}
    if per_user:
        result["per_user"] = per
    return result


def ranking_inputs(model, data):
    """``(fold_in, fold_out)``: model-ready CSR histories with the same rows, from a
    ``FoldInOut``, a pair of matrices or a pair of DataFrames in original ids."""
    pair = _fold_pair(data)
    if pair is None:
        raise TypeError("data must be a FoldInOut (fold_in/fold_out) or a (fold_in, fold_out) pair "
                        "for ranking metrics")
    from ._data.original_ids import is_frame

    if is_frame(pair[0]) or is_frame(pair[1]):
        pair = _frames_to_histories(model, pair)
    fold_in = model._as_history(pair[0], "data.fold_in")
    fold_out = as_history(pair[1], model.n_items, np.float32, "data.fold_out", model.item_ids)
    if fold_in.shape[0] != fold_out.shape[0]:
        raise ValueError(f"data: fold_in has {fold_in.shape[0]} rows but fold_out has {fold_out.shape[0]}")
    return fold_in, fold_out


def check_cutoffs(model, parsed) -> None:
    kmax = max((k for _, k in parsed if k is not None), default=1)
    if kmax > model.n_items:
        raise ValueError(f"metrics: cut-off {kmax} exceeds the number of items ({model.n_items})")


def ranking_values(model, fold_in, fold_out, names, parsed, batch_size, verbose=False):
    """Per-user values ``{name: array}`` (users with at least one fold-out item, in row
    order) and, for ``coverage@K``, the items in some top K ``{name: bool array}``.
    No user with fold-out items: empty arrays and no covered item."""
    n_out_all = np.diff(fold_out.indptr)
    keep = np.flatnonzero(n_out_all > 0)
    fold_in, fold_out, n_out_all = fold_in[keep], fold_out[keep], n_out_all[keep]
    kmax = max((k for _, k in parsed if k is not None), default=1)
    full_mrr = any(base == "mrr" and k is None for base, k in parsed)
    discount = 1.0 / np.log2(np.arange(2, kmax + 2))
    idcg = np.cumsum(discount)
    values = {name: [np.zeros(0)] for name, (b, _) in zip(names, parsed) if b != "coverage"}
    covered = {name: np.zeros(model.n_items, bool) for name, (b, _) in zip(names, parsed) if b == "coverage"}
    if keep.size == 0:
        return {name: v[0] for name, v in values.items()}, covered
    n_batches = math.ceil(fold_in.shape[0] / batch_size)
    t0 = time.perf_counter()
    batches = _topk_batches(model, fold_in, kmax, True, batch_size, want_scores=full_mrr)
    for b, (top, _, scores) in enumerate(batches):
        rows = slice(b * batch_size, (b + 1) * batch_size)
        out_b = fold_out[rows]
        n_out = n_out_all[rows].astype(np.float64)
        hits = hits_at_k(top, out_b, model.n_items).astype(np.float64)
        for name, (base, k) in zip(names, parsed):
            h = hits[:, :k] if k is not None else hits
            if base == "recall":
                v = h.sum(1) / np.minimum(k, n_out)
            elif base == "recall_nout":
                v = h.sum(1) / n_out
            elif base == "precision":
                v = h.sum(1) / k
            elif base == "ndcg":
                v = (h * discount[:k]).sum(1) / idcg[np.minimum(k, n_out).astype(np.int64) - 1]
            elif base == "map":
                prec = np.cumsum(h, 1) / np.arange(1, k + 1)
                v = (prec * h).sum(1) / np.minimum(k, n_out)
            elif base == "mrr" and k is not None:
                first = np.argmax(h > 0, axis=1)
                v = np.where(h.any(1), 1.0 / (first + 1), 0.0)
            elif base == "mrr":
                rank = first_hit_rank(model._backend.to_host(scores), fold_in[rows], out_b)
                v = np.where(rank > 0, 1.0 / np.maximum(rank, 1), 0.0)
            else:  # coverage
                t = top[:, :k]
                covered[name][t[t >= 0]] = True
                continue
            values[name].append(v)
        if verbose and (b + 1 == n_batches or (b + 1) % max(1, n_batches // 10) == 0):
            print(f"[autorec_fast] evaluate: {min((b + 1) * batch_size, fold_in.shape[0]):,}/"
                  f"{fold_in.shape[0]:,} users, {time.perf_counter() - t0:.1f} s", flush=True)
    return {name: np.concatenate(v) for name, v in values.items()}, covered


def _evaluate_ratings(model, data, names, parsed):
    err, unknown_users, unknown_items, n_unknown = rating_errors(model, data, names)
    if n_unknown:
        from ._data.original_ids import UnknownIdsWarning

        warnings.warn(unknown_ratings_message(n_unknown, err.size, unknown_users, unknown_items),
                      UnknownIdsWarning, stacklevel=3)
    result = {}
    for name, (base, _) in zip(names, parsed):
        result[name] = float(np.sqrt(np.mean(err**2))) if base == "rmse" else float(np.mean(np.abs(err)))
    return result


def unknown_ratings_message(n_unknown, n, unknown_users, unknown_items) -> str:
    return (f"evaluate: {n_unknown:,} of {n:,} test ratings name users or items the model never saw "
            f"({unknown_users:,} with an unknown user, {unknown_items:,} with an unknown item); they were "
            "predicted with the model's fallback (predict(..., unknown='default'))")


def rating_errors(model, data, names=("rmse",)):
    """``(prediction − rating per test triple (float64), ratings with an unknown user, with an
    unknown item, with either)``; data carrying ids are matched to the model by id."""
    if not getattr(model, "predicts_ratings", False):
        raise ValueError(f"metrics: {list(names)} need a rating-prediction model; "
                         f"{type(model).__name__} ranks items")
    from .interactions import Interactions, as_interactions

    inter = as_interactions(data)
    users, items, ratings, _ = inter.to_coo_arrays()
    counts = (0, 0, 0)
    if isinstance(data, Interactions) or hasattr(data, "columns"):
        # Data that carry their own ids (an Interactions, a DataFrame) are matched to the
        # model's users and items by id, never by position in their own index; pairs
        # whose user or item the model never saw get the training mean.
        from ._data.original_ids import index_of_ids

        users = index_of_ids(inter.user_ids[users], model.user_ids)
        items = index_of_ids(inter.item_ids[items], model.item_ids)
        counts = (int((users < 0).sum()), int((items < 0).sum()), int(((users < 0) | (items < 0)).sum()))
        pred = np.asarray(model.predict(users, items, unknown="default"), dtype=np.float64)
    else:  # a SciPy matrix or index arrays: already the model's index space
        pred = np.asarray(model.predict(users, items), dtype=np.float64)
    return (pred - np.asarray(ratings, dtype=np.float64),) + counts
