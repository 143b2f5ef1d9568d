"""DeepRec: time per training epoch, autorec_fast against a pure-PyTorch DeepRec.

Run (see BENCHMARKS.md):
    pytest benchmarks/speed/test_deeprec_bench.py --benchmark-enable --benchmark-json=deeprec.json
    python benchmarks/speed/report.py deeprec.json

Data (explicit 1-5 ratings, users x items; the train part of a 90/10
``random_split``, seed 0, in every case):
(a) ``ml-1m-shape``: ``af.synthetic("ml-1m", seed=0)``, 6040 users x 3706 items;
(b) ``netflix-shape``: ``af.synthetic("netflix", n_users=20000, implicit=False,
    seed=0)``, 20,000 users x 17,769 items; ``AUTOREC_BENCH_NETFLIX_USERS``
    changes the number of users;
(c) ``ml-100k``: ``u.data`` (943 x 1682); skipped when absent.

Model, the same hyper-parameters for ours and PyTorch (benchmarks/baselines/deeprec.py
has the baseline and the objective): NVIDIA DeepRec, user-based,
I-512-512-1024-512-512-I, SELU everywhere (last layer included), dropout 0.8 on
the code, constrained (tied) decoder, one dense re-feeding step, masked MSE,
SGD lr 0.005 momentum 0.9, batch 128, l2 0.

What is timed (every timing after 1 untimed warm-up round, 3 timed rounds):
* ours: ``af.train("deeprec", train, ..., epochs=1)``; this includes the
  library's per-call set-up. Outside the timing, one ``epochs=2`` run is
  recorded as well (``per_epoch_of_2_epoch_run_s`` and the history's
  per-epoch ``seconds``; the second epoch's is the steady per-epoch time).
* PyTorch: one epoch of its training loop (``TorchDeepRec.run_epoch``: shuffle,
  densify each batch of CSR rows, forward, masked MSE, backward, SGD step, then
  the re-feeding forward/backward/step) on the same model; the network and the
  optimizer are built outside the timing (``torch_setup_s``). On a quiet
  2-core machine (torch 2.13 CPU, 2 threads) its epochs took 0.46 s
  (ML-100K), 4.47 s (ML-1M shape) and about 57 s (Netflix shape, 20k users;
  a standalone 2-epoch run): the Netflix pair takes several minutes.

extra_info: ``n_users`` (rows of the matrix), ``n_active_users`` (users with a
training rating: the examples of an epoch), ``n_items``, ``nnz``, ``epoch_s``
(median of the timed rounds, our own clock around the timed call),
``users_per_s = n_active_users / epoch_s``.

Floor: the item-wide GEMMs (one dimension n_items, the other 512, over every
training user) dominate; ``flops = 2 * n_active_users * n_items * 512 * g``,
2 flops per multiply-add, where g counts those GEMMs per epoch:
* PyTorch (dense): g = 10. Each of its two passes (ratings, then re-feeding)
  does the forward input GEMM (B x I by I x 512), the forward output GEMM
  (B x 512 by 512 x I) and three backward GEMMs (gradient of the output
  layer's weight and of its input, gradient of the input layer's weight; the
  input's own gradient is not needed): 5 x 2.
* ours: g = 6. The rating pass reads only the observed entries, so its input
  GEMM and its backward are sparse (nnz-wide, not counted); only its forward
  output GEMM is item-wide (the re-feeding input is the whole output). The
  re-feeding pass is dense: forward input, forward output and the three
  backward GEMMs: 1 + 5.
``flops_g10`` (the dense count) is recorded for both, so that the two
implementations can be compared on the same work; ``flops_per_s = flops / epoch_s``.
"""

import functools
import math
import os

import numpy as np
import pytest

import autorec_fast as af
from baselines.deeprec import TorchDeepRec
from common import DEVICE, load_ml100k_or_skip, need_ours, on_device, time_ours_epoch, time_torch_epoch

NETFLIX_USERS = int(os.environ.get("AUTOREC_BENCH_NETFLIX_USERS", 20000))
LAYERS = [512, 512, 1024]
HP = dict(dropout=0.8, constrained=True, refeed_steps=1, lr=0.005, momentum=0.9,
          batch_size=128, l2=0.0)
GEMMS = {"autorec_fast": 6, "pytorch": 10}   # item-wide GEMMs per user per epoch (docstring)
RATES = {"users_per_s": "n_active_users", "flops_per_s": "flops"}


@functools.cache
def train_part(dataset):
    if dataset == "ml-1m-shape":
        data = af.synthetic("ml-1m", seed=0)
    elif dataset == "netflix-shape":
        data = af.synthetic("netflix", n_users=NETFLIX_USERS, implicit=False, seed=0)
    elif dataset == "ml-100k":
        data = load_ml100k_or_skip()
    else:
        raise ValueError(dataset)
    return af.random_split(data, test_fraction=0.1, seed=0)[0]


def describe(benchmark, dataset, impl, train):
    n_users, n_items = train.shape
    R = train.matrix
    n_active = int(np.count_nonzero(np.diff(R.indptr)))
    width = LAYERS[0]
    dense_work = 2.0 * n_active * n_items * width
    benchmark.group = on_device(f"deeprec {dataset}")
    benchmark.extra_info.update(
        n_users=n_users, n_active_users=n_active, n_items=n_items, nnz=int(R.nnz),
        layers="-".join(map(str, LAYERS)), batch_size=HP["batch_size"],
        refeed_steps=HP["refeed_steps"], steps_per_epoch=math.ceil(n_active / HP["batch_size"]),
        item_wide_gemms=GEMMS[impl], flops=dense_work * GEMMS[impl],
        flops_g10=dense_work * GEMMS["pytorch"],
    )


def ours(train, epochs):
    # the reference's schedule and raw ratings in and out (DeepRec's defaults since issue 13
    # are others: af.DeepRec.REFERENCE)
    return af.train("deeprec", train, layers=LAYERS, activation="selu", optimizer="momentum",
                    lr_schedule="deeprec", center=None, last_layer_activation=True, init_scale=1.0,
                    **HP, epochs=epochs, seed=0, device=DEVICE)


DATASETS = ["ml-1m-shape", "netflix-shape", "ml-100k"]


@pytest.mark.parametrize("dataset", DATASETS)
def test_deeprec_epoch_autorec_fast(benchmark, dataset):
    need_ours("deeprec")
    train = train_part(dataset)
    describe(benchmark, dataset, "autorec_fast", train)
    time_ours_epoch(benchmark, lambda e: ours(train, e), rates=RATES, count_key="n_active_users")


@pytest.mark.parametrize("dataset", DATASETS)
def test_deeprec_epoch_pytorch(benchmark, dataset):
    train = train_part(dataset)
    describe(benchmark, dataset, "pytorch", train)
    model = time_torch_epoch(benchmark, lambda: TorchDeepRec(train, layers=LAYERS, activation="selu", seed=0,
                                                             device=DEVICE, **HP), rates=RATES)
    assert model.n_examples == benchmark.extra_info["n_active_users"]
