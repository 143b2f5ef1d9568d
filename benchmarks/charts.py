"""The charts of BENCHMARKS.md, drawn from pytest-benchmark JSON files.

    pytest benchmarks/speed/test_ease_bench.py --benchmark-enable --benchmark-json=ease.json
    pytest benchmarks/speed/test_autorec_bench.py --benchmark-enable --benchmark-json=autorec.json
    ...
    python benchmarks/charts.py ease.json autorec.json ... [--out benchmarks/charts] [--note TEXT]

Needs matplotlib (``pip install autorec_fast[plot]``). Writes, under ``--out``:

* ``speedup.png``: for every benchmark group holding both an autorec_fast row
  (``test_*_autorec_fast``) and a PyTorch row (``test_*_pytorch``), the ratio
  PyTorch median / autorec_fast median (pytest-benchmark's ``stats.median``).
  A group with several rows of ours (CDAE with sampled negatives and with the
  full output) gets one bar per row of ours; a group with several PyTorch rows
  (SVAE's packed and padded GRU) is compared against the fastest of them.
* ``ease_time.png``: EASE fit time against the catalogue size n (groups
  ``ease n=<n>``): ours, PyTorch and the LAPACK floor, log-log.
* ``ease_memory.png``: EASE peak extra memory against n (group
  ``ease peak memory``, ``extra_info["peak_extra_bytes"]``), with one n x n
  float32 matrix for reference. The suite measures it at its largest n only:
  pass several JSON files (runs with different ``AUTOREC_BENCH_ITEMS``) for a curve.

A chart without data is skipped (with a message). Each chart's footnote names
the machine(s) (from ``machine_info``), the JSON files, their dates, ``--note``
and this command. Rows of the same group in two files: the later file wins.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

OURS, TORCH, FLOOR = "autorec_fast", "PyTorch", "LAPACK floor"
CAVEAT = ("Medians of pytest-benchmark rounds; the machine is shared (load 3-10 on 2 cores): "
          "absolute times are noisy, read the ratios.")


def kind(bench):
    """'ours', 'torch', 'floor' or None, from the test function's name."""
    base = bench["name"].split("[", 1)[0]
    if base.endswith("_autorec_fast"):
        return "ours"
    if base.endswith("_pytorch"):
        return "torch"
    if base.endswith("_lapack_floor"):
        return "floor"
    return None


def params_label(bench, skip=()):
    params = bench.get("params") or {}
    return ", ".join(f"{k}={v}" for k, v in params.items() if k not in skip)


def load(paths):
    """Benchmarks keyed by (group, name), the later file winning; and the files' facts."""
    rows, sources = {}, []
    for path in paths:
        with open(path) as f:
            doc = json.load(f)
        for b in doc["benchmarks"]:
            rows[(b["group"], b["name"])] = b
        sources.append((Path(path).name, doc.get("datetime", "")[:10], machine_line(doc["machine_info"])))
    return list(rows.values()), sources


def machine_line(m):
    line = (f"{m.get('cpu_model') or m.get('processor')}, {m.get('cpu_count')} cores, "
            f"OpenMP threads {m.get('omp_threads')}, torch threads {m.get('torch_threads')}, "
            f"torch {m.get('torch_version')}, Python {m.get('python_version')}, "
            f"device {m.get('bench_device', 'cpu')}")
    return line + (f", GPU {m['gpu']}" if m.get("gpu") else "")


def footnote(fig, sources, note, command):
    """The caveat, machine(s), files, note and command under the axes; returns the fraction
    of the figure's height they take (for ``tight_layout(rect=...)``)."""
    import textwrap

    machines = sorted({m for _, _, m in sources})
    files = ", ".join(f"{name} ({date})" for name, date, _ in sources)
    parts = [CAVEAT] + [f"Machine: {m}" for m in machines] + [f"Data: {files}"]
    if note:
        parts.append(note)
    parts.append(f"Drawn by: {command}")
    width_in, height_in = fig.get_size_inches()
    lines = [w for part in parts for w in textwrap.wrap(part, int(width_in * 16.5), subsequent_indent="  ")]
    fig.text(0.01, 0.01, "\n".join(lines), fontsize=6.5, va="bottom", ha="left", color="0.3")
    return (0.115 * len(lines) + 0.12) / height_in


def speedups(rows):
    """[(label, ratio, ours_median, torch_median)] per group with both kinds."""
    groups = defaultdict(lambda: defaultdict(list))
    for b in rows:
        k = kind(b)
        if k in ("ours", "torch"):
            groups[b["group"]][k].append(b)
    out = []
    for group, by in groups.items():
        if not by["ours"] or not by["torch"]:
            continue
        torch_best = min(by["torch"], key=lambda b: b["stats"]["median"])
        t = torch_best["stats"]["median"]
        group_params = set((by["ours"][0].get("params") or {}).keys())
        for ours in sorted(by["ours"], key=lambda b: b["name"]):
            label = group
            # what tells this row of ours apart (e.g. negative_ratio), not the group's own parameters
            extra = params_label(ours, skip=_shared_params(by["ours"], group_params))
            if len(by["ours"]) > 1 and extra:
                label += f" ({extra})"
            if len(by["torch"]) > 1:
                label += f" vs PyTorch {params_label(torch_best, skip=_shared_params(by['torch'], set()))}"
            o = ours["stats"]["median"]
            out.append((label, t / o, o, t))
    return sorted(out, key=lambda r: _natural(r[0]))


def _shared_params(benches, keys):
    """Parameter names whose value is the same across ``benches``."""
    keys = set().union(*((b.get("params") or {}).keys() for b in benches)) | set(keys)
    return {k for k in keys if len({str((b.get("params") or {}).get(k)) for b in benches}) == 1}


def _natural(s):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def chart_speedup(rows, sources, out, note, command, plt):
    data = speedups(rows)
    if not data:
        print("speedup: no group with both an autorec_fast and a PyTorch row; skipped")
        return None
    labels = [d[0] for d in data]
    ratios = [d[1] for d in data]
    height = 1.6 + 0.32 * len(data)
    fig, ax = plt.subplots(figsize=(10, height + 1.0))
    ys = range(len(data))[::-1]
    colors = ["#2a7ab0" if r >= 1 else "#c0504d" for r in ratios]
    ax.barh(list(ys), ratios, color=colors, height=0.65)
    ax.set_xscale("log")
    ax.axvline(1.0, color="k", lw=1)
    ax.set_yticks(list(ys))
    ax.set_yticklabels(labels, fontsize=8)
    lo, hi = min(ratios + [1.0]), max(ratios + [1.0])
    ax.set_xlim(lo / 1.6, hi * 4)
    for y, (r, o, t) in zip(ys, [(d[1], d[2], d[3]) for d in data]):
        ax.text(r * 1.06, y, f"{r:.2f}x  ({t:.3g} s / {o:.3g} s)", va="center", fontsize=7)
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
    ax.set_xlabel("PyTorch median / autorec_fast median (log scale; > 1x: ours faster)")
    ax.set_title("Speed-up of autorec_fast over pure-PyTorch baselines\n"
                 "(one training epoch, or one EASE fit; same data, settings and threads)", fontsize=11)
    ax.grid(axis="x", which="both", alpha=0.3)
    bottom = footnote(fig, sources, note, command)
    fig.tight_layout(rect=(0, bottom, 1, 1))
    return save(fig, out / "speedup.png", plt)


def chart_ease_time(rows, sources, out, note, command, plt):
    series = defaultdict(dict)
    for b in rows:
        m = re.fullmatch(r"ease n=(\d+)", b["group"] or "")
        k = kind(b)
        if m and k:
            series[k][int(m.group(1))] = b["stats"]["median"]
    if not series.get("ours"):
        print("ease_time: no 'ease n=<n>' groups; skipped")
        return None
    fig, ax = plt.subplots(figsize=(7, 5.2))
    style = {"ours": (OURS, "o-", "#2a7ab0"), "torch": (TORCH, "s-", "#c0504d"),
             "floor": (FLOOR + " (potrf + potri alone)", "^--", "0.4")}
    for k, (label, fmt, color) in style.items():
        if series.get(k):
            ns = sorted(series[k])
            ax.plot(ns, [series[k][n] for n in ns], fmt, color=color, label=label)
    ns = sorted(series["ours"])
    if series.get("torch"):
        for n in ns:
            if n in series["torch"]:
                mid = (series["torch"][n] * series["ours"][n]) ** 0.5
                ax.annotate(f"{series['torch'][n] / series['ours'][n]:.1f}x", (n, mid), ha="center",
                            va="center", fontsize=8, color="k",
                            bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="0.7", lw=0.5))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(ns)
    ax.set_xticklabels([f"{n:,}" for n in ns])
    ax.minorticks_off()
    log_ticks(ax.yaxis)
    ax.set_xlabel("catalogue size n (items)")
    ax.set_ylabel("fit time, median (s, log scale)")
    ax.set_title("EASE fit time against catalogue size (float32, l2=500)\n"
                 "annotations: PyTorch / autorec_fast")
    ax.grid(which="both", alpha=0.3)
    ax.legend()
    bottom = footnote(fig, sources, note, command)
    fig.tight_layout(rect=(0, bottom, 1, 1))
    return save(fig, out / "ease_time.png", plt)


def chart_ease_memory(rows, sources, out, note, command, plt):
    series = defaultdict(dict)
    for b in rows:
        if (b["group"] or "") != "ease peak memory":
            continue
        info = b.get("extra_info", {})
        impl = (b.get("params") or {}).get("impl")
        if "peak_extra_bytes" in info and impl:
            series[impl][int(info["n_items"])] = info["peak_extra_bytes"]
    if not series:
        print("ease_memory: no 'ease peak memory' rows; skipped")
        return None
    fig, ax = plt.subplots(figsize=(7, 5.2))
    style = {"autorec_fast": (OURS, "o-", "#2a7ab0"), "torch": (TORCH + " (dense X not counted)", "s-", "#c0504d")}
    allns = sorted(set().union(*(s.keys() for s in series.values())))
    for impl, (label, fmt, color) in style.items():
        if series.get(impl):
            ns = sorted(series[impl])
            mb = [series[impl][n] / 1e6 for n in ns]
            ax.plot(ns, mb, fmt, color=color, label=label)
            for n, v in zip(ns, mb):
                ax.annotate(f"{v * 1e6 / (4.0 * n * n):.2f} x n²·4 B", (n, v), textcoords="offset points",
                            xytext=(6, 4 if impl == "torch" else -11), fontsize=7, color=color)
    ref = [4.0 * n * n / 1e6 for n in allns]
    ax.plot(allns, ref, "x:", color="0.4", label="one n x n float32 matrix (n²·4 B)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(allns)
    ax.set_xticklabels([f"{n:,}" for n in allns])
    ax.minorticks_off()
    log_ticks(ax.yaxis)
    ax.set_xlim(allns[0] / 1.3, allns[-1] * 1.6)
    ax.set_xlabel("catalogue size n (items)")
    ax.set_ylabel("peak memory above the loaded data (MB, log scale)")
    ax.set_title("EASE peak memory of the fit against catalogue size\n"
                 "(fresh process per point; VmHWM minus RSS before the fit)")
    ax.grid(which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    bottom = footnote(fig, sources, note, command)
    fig.tight_layout(rect=(0, bottom, 1, 1))
    return save(fig, out / "ease_memory.png", plt)


def log_ticks(axis):
    """Ticks at 1, 2, 5 x 10^k labelled as plain numbers, on a log axis (and no minor ticks)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_locator(NullLocator())


def save(fig, path, plt):
    # no Software/date metadata: the same data gives the same file
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB)")
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("json", nargs="+", type=Path, help="pytest-benchmark JSON files")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "charts",
                        help="output folder (default: benchmarks/charts)")
    parser.add_argument("--note", default="", help="a line for the footnotes (e.g. the environment variables used)")
    args = parser.parse_args(argv)
    try:
        import matplotlib
    except ImportError:
        sys.exit("benchmarks/charts.py needs matplotlib: pip install 'autorec_fast[plot]'")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, sources = load(args.json)
    args.out.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/charts.py " + " ".join(p.name for p in args.json) + (" --note ..." if args.note else "")
    for chart in (chart_speedup, chart_ease_time, chart_ease_memory):
        chart(rows, sources, args.out, args.note, command, plt)


if __name__ == "__main__":
    main()
