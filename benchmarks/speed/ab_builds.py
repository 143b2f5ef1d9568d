"""Two builds of autorec_fast, A and B, timed in alternating rounds on the CPU.

Each round runs every case once in a fresh process of A, then of B (two
virtual environments' Pythons), so both see the same machine load; the result
is the median of the per-round ratios B/A. A case's figure is the median
steady-epoch time (history ``seconds`` of epochs 2..n) or, for EASE, the fit
time. Used to show a refactoring costs no speed:

    python benchmarks/speed/ab_builds.py --a /tmp/old/bin/python --b .venv/bin/python --rounds 5

The children run in a temporary directory, so each imports the autorec_fast
installed in its own environment, never the uncompiled source tree.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

# name: (model, data, options); the data are synthetic shapes (see DATA)
CASES = {
    "autorec_item": ("autorec", "ml1m", dict(epochs=6)),
    "autorec_user": ("autorec", "ml1m", dict(epochs=4, variant="user")),
    "cdae_negatives": ("cdae", "implicit", dict(epochs=5)),
    "cdae_full": ("cdae", "implicit", dict(epochs=4, negative_ratio=0)),
    "multvae": ("multvae", "implicit", dict(epochs=4)),
    "multdae": ("multdae", "implicit", dict(epochs=4)),
    # the reference's settings, spelled out (DeepRec's defaults changed in issue 13; builds
    # before it have no center / last_layer_activation / init_scale: their old defaults apply)
    "deeprec": ("deeprec", "ml1m", dict(epochs=3, layers=[512, 512, 1024], dropout=0.8, refeed_steps=1,
                                        optimizer="momentum", lr=0.005, lr_schedule="deeprec")),
    "svae": ("svae", "sequences", dict(epochs=3, batch_size=64)),
    "ease": ("ease", "implicit", dict()),
}
DATA = {
    "ml1m": dict(shape="ml-1m", implicit=False, seed=0),
    "implicit": dict(n_users=6000, n_items=3700, density=0.045, implicit=True, seed=0),
    "sequences": dict(n_users=1500, n_items=1200, density=0.02, implicit=True, seed=0),
}


def child(names):
    """Time the cases in this process; print one JSON line {case: seconds}."""
    import numpy as np

    import autorec_fast as af

    cache, out = {}, {}
    for name in names:
        model, data, options = CASES[name]
        if data not in cache:
            cache[data] = af.synthetic(**DATA[data])
        t0 = time.perf_counter()
        fitted = af.train(model, cache[data], **options)
        if model == "ease":
            out[name] = time.perf_counter() - t0
        else:
            out[name] = float(np.median([h["seconds"] for h in fitted.history[1:]]))
    print(json.dumps(out), flush=True)


def run(python, names):
    with tempfile.TemporaryDirectory() as tmp:  # never the source tree: import the installed build
        res = subprocess.run([python, os.path.abspath(__file__), "--child", *names], cwd=tmp, capture_output=True, text=True,
                             check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", help="Python of build A (e.g. the old build's venv)")
    parser.add_argument("--b", help="Python of build B")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("cases", nargs="*", default=list(CASES), help=f"of {list(CASES)}")
    args = parser.parse_args(argv)
    unknown = set(args.cases) - set(CASES)
    if unknown:
        parser.error(f"unknown cases {sorted(unknown)}")
    if args.child:
        return child(args.cases)
    if not (args.a and args.b):
        parser.error("--a and --b (two Pythons) are required")
    a, b = [], []
    for r in range(args.rounds):
        a.append(run(args.a, args.cases))
        b.append(run(args.b, args.cases))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    print(f"{'case':16} {'A median s':>11} {'B median s':>11} {'B/A median':>11}  per-round B/A")
    for name in args.cases:
        ratios = [y[name] / x[name] for x, y in zip(a, b)]
        print(f"{name:16} {statistics.median(x[name] for x in a):11.4f} {statistics.median(y[name] for y in b):11.4f} "
              f"{statistics.median(ratios):11.3f}  {' '.join(f'{q:.2f}' for q in ratios)}")


if __name__ == "__main__":
    main()
