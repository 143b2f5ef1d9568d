"""SVAE: training throughput, autorec_fast against pure PyTorch.

Run (see BENCHMARKS.md):
    pytest benchmarks/speed/test_svae_bench.py --benchmark-enable --benchmark-json=svae.json
    python benchmarks/speed/report.py svae.json

Data (implicit sequences: each user's items ordered by (timestamp, entry order)),
the same preprocessing for both: ratings >= 4 kept as 1 (``binarize(3.5)``;
the ratings are integers), users with 5..1000 of them, item columns left
without any interaction dropped:
(a) ``ml-1m-shape``: ``af.synthetic("ml-1m", n_users=800, seed=0)`` (the
    ML-1M preset's density and rating/timestamp model over 800 users:
    782 users x 3,705 items, 71,552 interactions, 70,770 GRU steps);
    ``AUTOREC_BENCH_SVAE_USERS`` changes the number of users. Sized from
    small runs on 2 cores: one PyTorch epoch took 1.2 s on 100 such users
    (~130 us per GRU step) and 9.0 s on 300 (26,394 steps, ~340 us per step:
    the per-step cost grows with the batches' longest sequences), so about
    25 s at 800 users (not run at full size);
(b) ``ml-100k``: all of ``u.data`` so preprocessed (938 users x 1,447 items,
    55,361 interactions, 54,423 GRU steps); skipped when absent.

Model, the same hyper-parameters for ours and PyTorch (the library defaults;
the baseline and its objective are in benchmarks/baselines/svae.py): embedding 256,
GRU 200, hidden 150, latent 64, next_k 4, beta_cap 0.2, anneal_steps 200000,
batch 32 users, Adam lr 1e-3 with weight_decay 5e-3. Ours gets only
``epochs``, ``batch_size``, ``seed`` and ``device``; where the fitted model
exposes an attribute named as one of the hyper-parameters above (``l2`` for
``weight_decay``) its value is checked against the baseline's
(``hyperparameters_checked`` in extra_info lists them).

What is timed (every timing after 1 untimed warm-up round, 3 timed rounds):
* ours: ``af.train("svae", train, epochs=1, batch_size=32, seed=0)``; this
  includes the library's per-call set-up (ordering the sequences included).
  Outside the timing, one ``epochs=2`` run is recorded as well
  (``per_epoch_of_2_epoch_run_s`` and the history's per-epoch ``seconds``;
  the second epoch's is the steady per-epoch time).
* PyTorch: one epoch of its training loop (``TorchSVAETrainer.run_epoch``:
  shuffle, batch assembly, GRU, dense layers on the valid steps, backward,
  Adam) on the same model, 2 timed rounds, once with the GRU on packed
  sequences and once on the padded batch (``gru_mode``; which is faster
  depends on the length spread: compare against the faster); ordering the
  sequences, building the network and optimizer are outside the timing
  (``torch_setup_s``).

extra_info: ``n_steps`` = GRU steps (= training positions) per epoch,
Σ_u (n_u - 1); ``epoch_s`` (median of the timed rounds, our own clock around
the timed call), ``users_per_s`` and ``steps_per_s``; ``steady_users_per_s``
for ours from the 2-epoch run's second epoch. Floor: ``flops = 2 * 3 *
n_steps * 150 * n_items``, the dense work of the output layer alone (forward
logits GEMM plus its two backward GEMMs, 2 flops per multiply-add);
``flops_per_s = flops / epoch_s``.
"""

import functools
import math
import os

import numpy as np
import pytest

import autorec_fast as af
from baselines.svae import TorchSVAETrainer
from common import DEVICE, load_ml100k_or_skip, need_ours, on_device, time_ours_epoch, time_torch_epoch

SYNTH_USERS = int(os.environ.get("AUTOREC_BENCH_SVAE_USERS", 800))
TORCH_ROUNDS = 2  # a PyTorch epoch takes ~20 s here; two modes x two datasets

SVAE = dict(embedding=256, gru=200, hidden=150, latent=64, next_k=4, beta_cap=0.2,
            anneal_steps=200000, batch_size=32, lr=1e-3, weight_decay=5e-3)
OUTPUT_WIDTH = SVAE["hidden"]
OURS_NAME = {"weight_decay": "l2"}  # our name of the coupled L2 (Adam weight_decay)
RATES = {"users_per_s": "n_users", "steps_per_s": "n_steps", "flops_per_s": "flops"}


def svae_preprocess(data, min_count=5, max_count=1000):
    """Ratings >= 4 (integer ratings: > 3.5) as 1, users with min..max of them, empty items
    dropped; timestamps and entry order carried along."""
    data = af.binarize(data, 3.5)
    counts = np.diff(data.matrix.indptr)
    data = data.subset_users(np.flatnonzero((counts >= min_count) & (counts <= max_count)))
    return af.filter_min_counts(data, min_user_count=min_count)


@functools.cache
def train_part(dataset):
    if dataset == "ml-1m-shape":
        data = af.synthetic("ml-1m", n_users=SYNTH_USERS, seed=0)
    elif dataset == "ml-100k":
        data = load_ml100k_or_skip()
    else:
        raise ValueError(dataset)
    train = svae_preprocess(data)
    assert train.timestamps is not None
    return train


def describe(benchmark, dataset, train):
    n_users, n_items = train.shape
    counts = np.diff(train.matrix.indptr)
    n_steps = int(np.maximum(counts - 1, 0).sum())
    benchmark.group = on_device(f"svae {dataset}")
    benchmark.extra_info.update(
        model="svae", n_users=n_users, n_items=n_items, nnz=int(train.matrix.nnz),
        n_steps=n_steps, max_len=int(counts.max()), batch_size=SVAE["batch_size"],
        batches_per_epoch=math.ceil(int((counts >= 2).sum()) / SVAE["batch_size"]),
        output_width=OUTPUT_WIDTH, flops=float(2 * 3 * n_steps * OUTPUT_WIDTH * n_items),
    )


DATASETS = ["ml-1m-shape", "ml-100k"]


def ours_svae(train, epochs):
    return af.train("svae", train, epochs=epochs, batch_size=SVAE["batch_size"], seed=0,
                    device=DEVICE)


def check_same_hyperparameters(benchmark, fitted):
    """Our defaults must be the baseline's: compare those the fitted model exposes by name."""
    seen = {}
    for name, want in SVAE.items():
        got = getattr(fitted, OURS_NAME.get(name, name), None)
        if isinstance(got, (int, float, np.integer, np.floating)) and not isinstance(got, bool):
            seen[name] = got
            assert math.isclose(float(got), float(want), rel_tol=1e-12), \
                f"ours has {name}={got!r}, the baseline {want!r}"
    benchmark.extra_info["hyperparameters_checked"] = ",".join(sorted(seen)) or "none exposed"


@pytest.mark.parametrize("dataset", DATASETS)
def test_svae_epoch_autorec_fast(benchmark, dataset):
    need_ours("svae")
    train = train_part(dataset)
    describe(benchmark, dataset, train)
    time_ours_epoch(benchmark, lambda e: ours_svae(train, e), rates=RATES,
                    check=lambda fitted: check_same_hyperparameters(benchmark, fitted))


@pytest.mark.parametrize("gru_mode", ["packed", "padded"])
@pytest.mark.parametrize("dataset", DATASETS)
def test_svae_epoch_pytorch(benchmark, dataset, gru_mode):
    train = train_part(dataset)
    describe(benchmark, dataset, train)
    benchmark.extra_info["gru_mode"] = gru_mode
    net = time_torch_epoch(benchmark, lambda: TorchSVAETrainer(train, seed=0, gru_mode=gru_mode, device=DEVICE, **SVAE),
                           rounds=TORCH_ROUNDS, rates=RATES, steps_key="batches_per_epoch")
    assert net.n_steps == benchmark.extra_info["n_steps"]


@pytest.mark.parametrize("gru_mode", ["packed", "padded"])
def test_baseline_has_our_objective(gru_mode):
    """Not a timing: with the same parameters (float64, z = mu) the baseline's loss and
    gradients equal ours, so the two sides of the benchmark train the same model."""
    need_ours("svae")
    import torch

    from autorec_fast.models.svae import PARAM_NAMES, ordered_sequences, pack_batch  # private
    from baselines.svae import FlatSequences, TorchSVAE, batch_loss, sequences_from_interactions

    data = af.synthetic("ml-1m", n_users=40, seed=3)
    ours = af.SVAE(dtype="float64")
    ours.n_items = data.n_items
    ours._init(np.random.default_rng(0), data.n_items)
    P = dict(zip(PARAM_NAMES, ours._params))
    net = TorchSVAE(data.n_items).double()
    with torch.no_grad():
        net.item_embed.weight.copy_(torch.from_numpy(P["embedding"]))
        net.gru.weight_ih_l0.copy_(torch.from_numpy(P["W_ih"].T))
        net.gru.bias_ih_l0.copy_(torch.from_numpy(P["b_ih"]))
        net.gru.weight_hh_l0.copy_(torch.from_numpy(P["W_hh"].T))
        net.gru.bias_hh_l0.copy_(torch.from_numpy(P["b_hh"]))
        for lin, w in ((net.enc, "enc"), (net.enc_out, "lat"), (net.dec, "dec"), (net.dec_out, "out")):
            lin.weight.copy_(torch.from_numpy(P[f"W_{w}"].T))
            lin.bias.copy_(torch.from_numpy(P[f"b_{w}"]))
    indptr, items, _ = ordered_sequences(data)
    n_steps = np.diff(indptr) - 1
    users = np.arange(12)
    batch = pack_batch(indptr, items, users, n_steps, SVAE["next_k"])
    beta = 0.3
    loss, grads = ours._loss_and_grads(batch, np.zeros((batch[0].size, ours.latent)), beta, n_steps)
    theirs = batch_loss(net, FlatSequences(sequences_from_interactions(data)), users, SVAE["next_k"], beta,
                        sample=False, gru_mode=gru_mode)
    theirs.backward()
    assert loss == pytest.approx(theirs.item(), rel=1e-12)
    g = dict(zip(PARAM_NAMES, grads))
    for name, tg in (("W_out", net.dec_out.weight.grad.T), ("W_lat", net.enc_out.weight.grad.T),
                     ("W_hh", net.gru.weight_hh_l0.grad.T), ("W_ih", net.gru.weight_ih_l0.grad.T),
                     ("embedding", net.item_embed.weight.grad)):
        np.testing.assert_allclose(g[name], tg.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
