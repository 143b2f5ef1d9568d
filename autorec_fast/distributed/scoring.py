"""Batch recommendation and evaluation over Dask DataFrames of user histories.

The fitted model goes to every worker once (``Client.scatter(broadcast=True)``);
each partition, holding whole users, is scored and top-K'd by the same code as
the single-machine ``recommend`` / ``evaluate`` (the native kernels, in batches),
with one OpenMP/BLAS thread per task so that a worker's threads stay its thread
count. Evaluation reduces per-user sums, so its numbers equal the single-machine
``evaluate`` up to the order of the float sums.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._data.original_ids import (UnknownIdsWarning, describe, frame_columns, history_from_frame,
                                  index_of_ids, recommendations_frame)
from .._validation import check_k, check_positive
from ..evaluation import (DEFAULT_METRICS, RATING_METRICS, _frames_to_histories, check_cutoffs,
                          parse_metric, rating_errors, ranking_values, unknown_ratings_message)
from ._cluster import broadcast_model, get_client, tree_reduce, worker_threads
from ._frames import ITEM, RATING, TIMESTAMP, USER, group_by_user, interaction_frame

_FOLD = "_autorec_fold"  # marks fold-in (0) and fold-out (1) rows in the combined frame


def _check_bool(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


# ----------------------------------------------------------------- recommend
def recommend(model, histories, k: int = 10, *, exclude_seen: bool = True, batch_size: int = 4096,
              grouped: bool = False, client=None):
    """Top-``k`` recommendations for every user of a Dask DataFrame of histories.

    Parameters
    ----------
    model
        Any fitted model on the CPU (``autorec_fast.train``, ``load``).
    histories : dask.dataframe.DataFrame
        Rows (user, item[, rating, timestamp]) in original ids, as the single-machine
        ``model.recommend(df)`` takes them: each user is scored from its rows. Rows
        naming items the model never saw are dropped (counted in the worker log, not
        warned about: the result is lazy). SVAE needs the ``timestamp`` column.
    k, exclude_seen, batch_size
        As in ``model.recommend``; ``batch_size`` rows are scored at once per task.
    grouped : bool
        False (default): rows are shuffled by user first. True: each user's rows
        already sit in one partition (checked: users found in several partitions
        are a ValueError when the result is computed).

    Returns
    -------
    dask.dataframe.DataFrame
        Columns ``user``, ``item``, ``score``, ``rank`` (1 to k, best first) in
        original ids, lazily: compute it, or write it with ``.to_parquet(path)``.
        The rows of one user are the rows ``model.recommend`` gives that user.
    """
    client = get_client(client)
    model._check_fitted()
    k = check_k(k, model.n_items)
    batch_size = check_positive(batch_size, "batch_size", integer=True)
    exclude_seen = _check_bool(exclude_seen, "exclude_seen")
    frame = interaction_frame(histories, "histories")
    if model.name == "svae" and TIMESTAMP not in frame.columns:
        raise ValueError("histories: SVAE orders each history by time and needs a 'timestamp' column")
    shuffled, check = group_by_user(frame, grouped)
    shared = broadcast_model(client, model)
    meta = recommendations_frame(frame._meta[USER].to_numpy(), model.item_ids,
                                 np.zeros((0, k), np.int64), np.zeros((0, k), model.dtype))
    return shuffled.map_partitions(_recommend_partition, shared, k, exclude_seen, batch_size, check,
                                   meta=meta, enforce_metadata=False)


def _recommend_partition(part, model, k, exclude_seen, batch_size, _check):
    """One partition's recommendations (``_check``: the grouping check, a dependency only)."""
    if len(part) == 0:
        return recommendations_frame(part[USER].to_numpy(), model.item_ids, np.zeros((0, k), np.int64),
                                     np.zeros((0, k), model.dtype))
    with worker_threads():
        inter, user_ids = history_from_frame(part, model.item_ids, "histories", shard=True)
        dropped, examples = _unknown_items(model, part)
        if dropped:  # the result is lazy: the worker's log is where this can be said
            import logging

            logging.getLogger("autorec_fast").warning(
                "recommend: %d of %d rows of a partition name items the model never saw (%s); dropped",
                dropped, len(part), describe(examples))
        items, scores = model._recommend_csr(model._as_history(inter), k, exclude_seen, batch_size)
    return recommendations_frame(user_ids, model.item_ids, items, scores)


# ------------------------------------------------------------------ evaluate
def evaluate(model, data, metrics=None, *, batch_size: int = 1024, grouped: bool = False,
             split_every: int = 8, client=None) -> dict:
    """``autorec_fast.evaluate`` over Dask DataFrames; returns ``{metric: value}``.

    Parameters
    ----------
    model
        A fitted model on the CPU.
    data
        Ranking metrics: a pair ``(fold_in, fold_out)`` of Dask DataFrames of
        (user, item[, rating, timestamp]) rows in original ids, the held-out users'
        fold-in and fold-out items. ``rmse``/``mae``: one Dask DataFrame of test
        (user, item, rating) rows.
    metrics, batch_size
        As in ``autorec_fast.evaluate`` (same names, same definitions, same
        defaults by model kind).
    grouped : bool
        False (default): the rows are shuffled by user (fold-in and fold-out
        together). True: each user's rows (of both folds) already sit in one
        partition with the same index in both frames; checked.
    split_every : int
        Fan-in of the tree that sums the per-partition results.

    Each partition computes the per-user values with the single-machine code and
    returns their sums (and, for ``coverage@K``, the items it covered); the tree
    sums them and the client divides: the same numbers as ``autorec_fast.evaluate``
    on the whole data, up to float summation order. Rows naming unknown items are
    dropped and unknown ids counted, with one ``UnknownIdsWarning`` here.
    """
    client = get_client(client)
    model._check_fitted()
    if model.device != "cpu":
        raise ValueError(f"model is on device {model.device!r}; the workers score on the CPU: save it and "
                         "load it with autorec_fast.load(path, device='cpu')")
    if metrics is None:
        metrics = RATING_METRICS if getattr(model, "predicts_ratings", False) else DEFAULT_METRICS
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    if not names:
        raise ValueError("metrics must name at least one metric")
    parsed = [parse_metric(m) for m in names]
    batch_size = check_positive(batch_size, "batch_size", integer=True)
    split_every = check_positive(split_every, "split_every", integer=True)
    if split_every < 2:
        raise ValueError(f"split_every must be >= 2, got {split_every}")
    kinds = {base in RATING_METRICS for base, _ in parsed}
    if len(kinds) == 2:
        raise ValueError("metrics: ranking and rating metrics need different data; evaluate them separately")
    rating = kinds == {True}
    if rating:
        if not getattr(model, "predicts_ratings", False):
            raise ValueError(f"metrics: {names} need a rating-prediction model; {type(model).__name__} ranks items")
        frame = interaction_frame(data, "data", ratings="required")
        task, combined = _rating_partition, frame
    else:
        if not (isinstance(data, tuple) and len(data) == 2):
            raise TypeError("data must be a (fold_in, fold_out) pair of Dask DataFrames for ranking metrics")
        check_cutoffs(model, parsed)
        combined = _combine_folds(model, *data)
        task = _ranking_partition
    shuffled, check = group_by_user(combined, grouped)
    shared = broadcast_model(client, model)
    import dask

    parts = [dask.delayed(task)(part, shared, names, parsed, batch_size, check) for part in shuffled.to_delayed()]
    futures = client.compute(parts)
    try:
        total = tree_reduce(client, futures, _merge, split_every, pure=False).result()
    finally:
        for f in futures:
            f.release()
    return _rating_result(names, parsed, total) if rating else _ranking_result(names, parsed, total)


def _combine_folds(model, fold_in, fold_out):
    """One frame holding both folds, marked by ``_FOLD``; fold-out rows get the
    fold-in's extra columns (values unused: fold-out items are only targets)."""
    import dask.dataframe as dd

    fi = interaction_frame(fold_in, "data.fold_in")
    fo = interaction_frame(fold_out, "data.fold_out")
    if model.name == "svae" and TIMESTAMP not in fi.columns:
        raise ValueError("data.fold_in: SVAE orders each history by time and needs a 'timestamp' column")
    fo = fo[[USER, ITEM]]
    if fo[USER].dtype != fi[USER].dtype or fo[ITEM].dtype != fi[ITEM].dtype:
        raise TypeError(f"data: fold_in and fold_out hold ids of different dtypes "
                        f"(users {fi[USER].dtype} / {fo[USER].dtype}, items {fi[ITEM].dtype} / {fo[ITEM].dtype})")
    for col in fi.columns:
        if col == RATING:
            fo = fo.assign(**{RATING: fi._meta[RATING].dtype.type(1)})
        elif col == TIMESTAMP:
            fo = fo.assign(**{TIMESTAMP: fi._meta[TIMESTAMP].dtype.type(0)})
    fo = fo[list(fi.columns)]
    return dd.concat([fi.assign(**{_FOLD: np.int8(0)}), fo.assign(**{_FOLD: np.int8(1)})])


def _unknown_items(model, part):
    """(rows naming items the model never saw, a few of those ids)."""
    _, items, _, _ = frame_columns(part, "data", values=False)
    unknown = index_of_ids(items, model.item_ids) < 0
    return int(unknown.sum()), items[unknown][:5].tolist()


def _ranking_partition(part, model, names, parsed, batch_size, _check):
    """Sums of the per-user metric values of one partition's users."""
    out = {"n": 0, "sums": {}, "covered": {}, "rows": [0, 0], "unknown": [0, 0], "examples": []}
    if len(part) == 0:
        return out
    folds = [part[part[_FOLD] == f].drop(columns=_FOLD) for f in (0, 1)]
    for f, frame in enumerate(folds):
        out["rows"][f] = len(frame)
        if len(frame):
            count, examples = _unknown_items(model, frame)
            out["unknown"][f] = count
            out["examples"] += examples
    if len(folds[1]) == 0:
        return out
    with worker_threads():
        fold_in, fold_out = _frames_to_histories(model, tuple(folds), shard=True)
        fold_in = model._as_history(fold_in, "data.fold_in")
        from .._validation import as_history

        fold_out = as_history(fold_out, model.n_items, np.float32, "data.fold_out", model.item_ids)
        per, covered = ranking_values(model, fold_in, fold_out, names, parsed, batch_size)
    out["n"] = int(next(iter(per.values())).size) if per else int((np.diff(fold_out.indptr) > 0).sum())
    out["sums"] = {name: float(v.sum()) for name, v in per.items()}
    out["covered"] = covered
    return out


def _rating_partition(part, model, names, parsed, batch_size, _check):
    """Sums of squared and absolute errors of one partition's test ratings."""
    out = {"n": 0, "sq": 0.0, "abs": 0.0, "unknown": [0, 0, 0]}
    if len(part) == 0:
        return out
    with worker_threads():
        err, unknown_users, unknown_items, n_unknown = rating_errors(model, part, names)
    out.update(n=int(err.size), sq=float(np.dot(err, err)), abs=float(np.abs(err).sum()),
               unknown=[unknown_users, unknown_items, n_unknown])
    return out


def _merge(*parts):
    """The sum of partition results (dicts of counts, sums and covered-item masks)."""
    out = {}
    for p in parts:
        for key, value in p.items():
            if key not in out:
                out[key] = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in value.items()} \
                    if isinstance(value, dict) else (list(value) if isinstance(value, list) else value)
            elif key == "examples":
                out[key] = (out[key] + value)[:5]
            elif isinstance(value, dict):
                for k, v in value.items():
                    if k not in out[key]:
                        out[key][k] = v.copy() if isinstance(v, np.ndarray) else v
                    elif isinstance(v, np.ndarray):
                        out[key][k] = out[key][k] | v
                    else:
                        out[key][k] += v
            elif isinstance(value, list):
                out[key] = [a + b for a, b in zip(out[key], value)]
            else:
                out[key] += value
    return out


def _ranking_result(names, parsed, total) -> dict:
    for f, name in enumerate(("fold_in", "fold_out")):
        if total["unknown"][f]:
            warnings.warn(f"data.{name}: {total['unknown'][f]:,} of {total['rows'][f]:,} rows name items the model "
                          f"never saw ({describe(total['examples'])}); those rows were dropped",
                          UnknownIdsWarning, stacklevel=3)
    if total["n"] == 0:
        raise ValueError("data: no user has fold-out items to rank")
    return {name: float(total["covered"][name].mean()) if base == "coverage" else total["sums"][name] / total["n"]
            for name, (base, _) in zip(names, parsed)}


def _rating_result(names, parsed, total) -> dict:
    n = total["n"]
    if n == 0:
        raise ValueError("data has no test ratings")
    unknown_users, unknown_items, n_unknown = total["unknown"]
    if n_unknown:
        warnings.warn(unknown_ratings_message(n_unknown, n, unknown_users, unknown_items), UnknownIdsWarning,
                      stacklevel=3)
    return {name: float(np.sqrt(total["sq"] / n)) if base == "rmse" else total["abs"] / n
            for name, (base, _) in zip(names, parsed)}
