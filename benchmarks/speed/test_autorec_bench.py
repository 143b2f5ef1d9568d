"""AutoRec: time per training epoch, autorec_fast against a pure-PyTorch AutoRec.

Run (see BENCHMARKS.md):
    pytest benchmarks/speed/test_autorec_bench.py --benchmark-enable --benchmark-json=autorec.json
    python benchmarks/speed/report.py autorec.json

Data: (a) synthetic ML-1M-shaped explicit ratings (``af.synthetic("ml-1m", seed=0)``,
6040 users x 3706 items, ~1M ratings), train part of a 90/10 ``random_split``
(seed 0); (b) ML-100K (``u.data``; skipped when absent), the same split.
Model: I-AutoRec and U-AutoRec, hidden 500, sigmoid / identity, batch 256,
Adam lr 1e-3 (benchmarks/baselines/autorec.py has the baseline and the objective).

What is timed (every timing after 1 untimed warm-up round):
* ours: ``af.train("autorec", train, ..., epochs=1)``, 3 rounds; this includes
  the library's per-call set-up. Outside the timing, one ``epochs=2`` run is
  recorded as well (``per_epoch_of_2_epoch_run_s`` and the history's
  per-epoch ``seconds``).
* PyTorch: one epoch of its training loop (``TorchAutoRec.run_epoch``), 3
  rounds on the same model; the dense tensors, mask, network and optimizer
  are built outside the timing (``torch_setup_s`` records how long that took).
  On a busy 2-core machine single torch epochs (ML-1M shape) ranged from
  1.05 s to 7.9 s between runs while a quiet standalone loop gave 1.07-1.41 s
  including its first epoch: compare medians, and rerun on a quiet machine.

extra_info floors: ``flops = 2 * 6 * nnz * hidden`` (forward + backward of
both layers restricted to the observed entries, the sparse work) and
``optimizer_bytes = 2 * n_inputs * hidden * 4 * 6 * steps_per_epoch`` (Adam
reads p, m, v and writes p, m, v of W and V every step, float32).
"""

import functools
import math
import os

import pytest

import autorec_fast as af
from baselines.autorec import TorchAutoRec
from common import DEVICE, load_ml100k_or_skip, need_ours, on_device, time_ours_epoch, time_torch_epoch

HIDDEN = int(os.environ.get("AUTOREC_BENCH_HIDDEN", 500))
BATCH = 256
LR = 1e-3
L2 = 1.0
VARIANTS = ["item", "user"]


@functools.cache
def train_part(dataset):
    if dataset == "ml-1m-shape":
        data = af.synthetic("ml-1m", seed=0)
    elif dataset == "ml-100k":
        data = load_ml100k_or_skip()
    else:
        raise ValueError(dataset)
    return af.random_split(data, test_fraction=0.1, seed=0)[0]


def describe(benchmark, dataset, variant, train):
    n_examples, n_inputs = ((train.n_items, train.n_users) if variant == "item"
                            else (train.n_users, train.n_items))
    nnz = int(train.matrix.nnz)
    steps = math.ceil(n_examples / BATCH)
    benchmark.group = on_device(f"autorec {dataset} {variant} h={HIDDEN}")
    benchmark.extra_info.update(
        variant=variant, n_examples=n_examples, n_inputs=n_inputs, nnz=nnz, hidden=HIDDEN,
        batch_size=BATCH, steps_per_epoch=steps,
        flops=float(2 * 6 * nnz * HIDDEN),
        optimizer_bytes=float(2 * n_inputs * HIDDEN * 4 * 6 * steps),
    )


def ours(train, variant, epochs):
    return af.train("autorec", train, variant=variant, hidden=HIDDEN,
                    hidden_activation="sigmoid", output_activation="identity", l2=L2,
                    epochs=epochs, batch_size=BATCH, lr=LR, optimizer="adam", seed=0,
                    device=DEVICE)


DATASETS = ["ml-1m-shape", "ml-100k"]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("dataset", DATASETS)
def test_autorec_epoch_autorec_fast(benchmark, dataset, variant):
    need_ours("autorec")
    train = train_part(dataset)
    describe(benchmark, dataset, variant, train)
    time_ours_epoch(benchmark, lambda e: ours(train, variant, e), count_key=None)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("dataset", DATASETS)
def test_autorec_epoch_pytorch(benchmark, dataset, variant):
    train = train_part(dataset)
    describe(benchmark, dataset, variant, train)
    time_torch_epoch(benchmark, lambda: TorchAutoRec(train, variant=variant, hidden=HIDDEN, l2=L2,
                                                     batch_size=BATCH, lr=LR, seed=0, device=DEVICE))
