"""Mult-VAE, Mult-DAE and CDAE: training throughput, autorec_fast against pure PyTorch.

Run (see BENCHMARKS.md):
    pytest benchmarks/speed/test_implicit_bench.py --benchmark-enable --benchmark-json=implicit.json
    python benchmarks/speed/report.py implicit.json

Data (binary implicit feedback, users x items):
(a) ``ml-20m-shape``: ``af.synthetic("ml-20m", n_users=20000, seed=0)``, all
    20,000 users and all 20,108 item columns (~1.46M interactions);
    ``AUTOREC_BENCH_SYNTH_USERS`` changes the number of users;
(b) ``ml-100k``: the train part of
    ``af.strong_generalization_from_ratings(u.data, n_heldout_users=100)``
    (ratings > 3.5 as 1, users with >= 5 of them; 738 users x 1,415 items);
    skipped when ``u.data`` is absent.

Models, the same hyper-parameters for ours and PyTorch (the baselines and their
objectives are in benchmarks/baselines/multvae.py and benchmarks/baselines/cdae.py):
* Mult-VAE I-600-200-600-I, dropout 0.5, beta_cap 0.2, anneal_steps 200000,
  l2 0, batch 500, Adam lr 1e-3;
* Mult-DAE I-200-I, dropout 0.5, l2 0.01/500, batch 500, Adam lr 1e-3;
* CDAE hidden 50, corruption 0.5, sigmoid output, logistic loss, l2 1e-3,
  batch 500, Adam lr 1e-3. Ours runs twice: ``negative_ratio=5`` (sampled
  negatives, the library's way) and ``negative_ratio=0`` (full output, the
  same objective as the baseline); PyTorch always computes the full output.

What is timed (every timing after 1 untimed warm-up round, 3 timed rounds):
* ours: ``af.train(model, train, ..., epochs=1)``; this includes the
  library's per-call set-up. Outside the timing, one ``epochs=2`` run is
  recorded as well (``per_epoch_of_2_epoch_run_s`` and the history's
  per-epoch ``seconds``; the second epoch's is the steady per-epoch time).
* PyTorch: one epoch of its training loop (``run_epoch``: shuffle, densify
  each batch of CSR rows, forward, backward, Adam) on the same model; the
  network and optimizer are built outside the timing (``torch_setup_s``).

extra_info: ``epoch_s`` (median of the timed rounds, our own clock around the
timed call) and ``users_per_s = n_users / epoch_s`` -- throughput in training
users per second; ``steady_users_per_s`` for ours from the 2-epoch run's
second epoch. Floor: ``flops = 2 * 3 * n_users * width * n_items`` is the
dense work of the last (decoder) layer alone over one epoch: the forward
logits GEMM (B x width x I) plus the two backward GEMMs of that layer
(gradient of its weights and of its input), 2 flops per multiply-add; width
= 600 for Mult-VAE, 200 for Mult-DAE, 50 for CDAE. For CDAE with sampled
negatives (``negative_ratio > 0``) that full-output floor does not bind:
ours computes only the sampled columns. ``flops_per_s = flops / epoch_s``.
"""

import functools
import math
import os

import pytest

import autorec_fast as af
from baselines.cdae import TorchCDAE
from baselines.multvae import TorchMultVAE
from common import DEVICE, load_ml100k_or_skip, need_ours, on_device, time_ours_epoch, time_torch_epoch

SYNTH_USERS = int(os.environ.get("AUTOREC_BENCH_SYNTH_USERS", 20000))

MULT = {
    "multvae": dict(layers=[600, 200], dropout=0.5, beta_cap=0.2, anneal_steps=200000,
                    batch_size=500, lr=1e-3, l2=0.0),
    "multdae": dict(layers=[200], dropout=0.5, batch_size=500, lr=1e-3, l2=0.01 / 500),
}
DECODER_WIDTH = {"multvae": 600, "multdae": 200, "cdae": 50}
CDAE = dict(hidden=50, corruption=0.5, output_activation="sigmoid", loss="logistic",
            batch_size=500, lr=1e-3, l2=1e-3)
RATES = {"users_per_s": "n_users", "flops_per_s": "flops"}


@functools.cache
def train_part(dataset):
    if dataset == "ml-20m-shape":
        return af.synthetic("ml-20m", n_users=SYNTH_USERS, seed=0)
    if dataset == "ml-100k":
        return af.strong_generalization_from_ratings(load_ml100k_or_skip(), n_heldout_users=100).train
    raise ValueError(dataset)


def describe(benchmark, dataset, model, train, batch_size):
    n_users, n_items = train.shape
    width = DECODER_WIDTH[model]
    benchmark.group = on_device(f"{model} {dataset}")
    benchmark.extra_info.update(
        model=model, n_users=n_users, n_items=n_items, nnz=int(train.matrix.nnz),
        batch_size=batch_size, steps_per_epoch=math.ceil(n_users / batch_size),
        decoder_width=width, flops=float(2 * 3 * n_users * width * n_items),
    )


DATASETS = ["ml-20m-shape", "ml-100k"]


# ----------------------------------------------------------------- Mult-VAE / Mult-DAE

def ours_mult(model, train, epochs):
    return af.train(model, train, **MULT[model], epochs=epochs, seed=0, device=DEVICE)


@pytest.mark.parametrize("model", ["multvae", "multdae"])
@pytest.mark.parametrize("dataset", DATASETS)
def test_mult_epoch_autorec_fast(benchmark, dataset, model):
    need_ours(model)
    train = train_part(dataset)
    describe(benchmark, dataset, model, train, MULT[model]["batch_size"])
    time_ours_epoch(benchmark, lambda e: ours_mult(model, train, e), rates=RATES)


@pytest.mark.parametrize("model", ["multvae", "multdae"])
@pytest.mark.parametrize("dataset", DATASETS)
def test_mult_epoch_pytorch(benchmark, dataset, model):
    train = train_part(dataset)
    hp = MULT[model]
    describe(benchmark, dataset, model, train, hp["batch_size"])
    time_torch_epoch(benchmark, lambda: TorchMultVAE(train, kind=model[len("mult"):], seed=0, device=DEVICE, **hp),
                     rates=RATES)


# ----------------------------------------------------------------------------- CDAE

def ours_cdae(train, negative_ratio, epochs):
    return af.train("cdae", train, **CDAE, negative_ratio=negative_ratio, optimizer="adam",
                    epochs=epochs, seed=0, device=DEVICE)


@pytest.mark.parametrize("negative_ratio", [5, 0])
@pytest.mark.parametrize("dataset", DATASETS)
def test_cdae_epoch_autorec_fast(benchmark, dataset, negative_ratio):
    need_ours("cdae")
    train = train_part(dataset)
    describe(benchmark, dataset, "cdae", train, CDAE["batch_size"])
    benchmark.extra_info["negative_ratio"] = negative_ratio
    time_ours_epoch(benchmark, lambda e: ours_cdae(train, negative_ratio, e), rates=RATES)


@pytest.mark.parametrize("dataset", DATASETS)
def test_cdae_epoch_pytorch(benchmark, dataset):
    train = train_part(dataset)
    describe(benchmark, dataset, "cdae", train, CDAE["batch_size"])
    benchmark.extra_info["negative_ratio"] = 0  # full output
    time_torch_epoch(benchmark, lambda: TorchCDAE(train, seed=0, device=DEVICE, **CDAE), rates=RATES)
