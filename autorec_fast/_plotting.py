"""``model.plot_history()``: the training curves with matplotlib (the ``plot`` extra)."""

from __future__ import annotations

from ._progress import history_metrics


def plot_history(model, metrics=None, ax=None):
    """Loss on ``ax`` and the other ``metrics`` on a twin y axis, per epoch; the best epoch
    dashed. Returns ``ax``."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError("plot_history needs matplotlib: pip install 'autorec_fast[plot]' "
                          "(or pip install matplotlib)") from exc
    history = list(getattr(model, "history", []) or [])
    if not history:
        raise ValueError(f"{type(model).__name__} has no training history to plot "
                         "(fit it first; closed-form models such as EASE have none)")
    if metrics is None:
        metrics = history_metrics(history, getattr(model, "metric", None))
    elif isinstance(metrics, str):
        metrics = [metrics]
    metrics = list(metrics)
    known = {k for entry in history for k in entry}
    unknown = [m for m in metrics if m not in known]
    if unknown or not metrics:
        raise ValueError(f"metrics: {unknown or metrics} not in the history; it has {sorted(known)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    left = [m for m in metrics if m == "loss"] or metrics[:1]
    right = [m for m in metrics if m not in left]
    lines = []
    for axis, keys, styles in ((ax, left, ("C0",)), (ax.twinx() if right else None, right, ("C1", "C2", "C3", "C4"))):
        for n, key in enumerate(keys):
            points = [(e["epoch"], e[key]) for e in history if isinstance(e.get(key), (int, float))]
            if points:
                x, y = zip(*points)
                lines += axis.plot(x, y, color=styles[n % len(styles)], marker="." if len(x) < 30 else None,
                                   label=key)
        if axis is not None:
            axis.set_ylabel(", ".join(keys))
    best = getattr(model, "best_epoch", 0)
    if best:
        lines.append(ax.axvline(best, color="grey", linestyle="--", linewidth=1, label=f"best epoch ({best})"))
    ax.set_xlabel("epoch")
    ax.set_title(type(model).__name__)
    ax.legend(lines, [line.get_label() for line in lines], loc="best")
    return ax
