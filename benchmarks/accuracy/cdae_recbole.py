"""CDAE peer check (issue 13): autorec_fast's CDAE against RecBole's CDAE at
equal settings, on the same split, scored by ONE metric implementation.

    python benchmarks/accuracy/cdae_recbole.py --recbole-python /work/recbole-venv/bin/python
    python benchmarks/accuracy/cdae_recbole.py --recbole-python /work/recbole-venv/bin/python \
        --seeds 0 1 2 --epochs 300 --threads 2

Run it with the Python that has autorec_fast installed (from outside the source
tree, e.g. ``cd /tmp``); RecBole runs in a child process started with
``--recbole-python`` (default: this interpreter, which must then import recbole). The
child imports only NumPy, PyTorch and RecBole, never autorec_fast.

Setting up the RecBole environment (what was used for the numbers in the
report of issue 13). RecBole 1.2.1 is not NumPy 2 clean: its ``Config``
runs ``np.float = np.float_`` (AttributeError under NumPy 2), so the venv pins
NumPy < 2, and with it pandas < 3 (pandas 3 requires NumPy >= 2; ``pip check``
flags it) and, as a precaution, not tested without, SciPy < 1.15. No RecBole
file is patched. Torch: any CPU wheel (2.13.0+cpu here, from
the local wheel directory pip is configured with)::

    python3 -m venv /work/recbole-venv
    /work/recbole-venv/bin/pip install recbole==1.2.1 torch
    /work/recbole-venv/bin/pip install "numpy<2" "pandas<3" "scipy<1.15"
    /work/recbole-venv/bin/pip check       # No broken requirements found.

Protocol (weak generalization: every test user is a training user, since
RecBole's CDAE has a user embedding and cannot fold in new users)
--------------------------------------------------------------------------
* ``--data`` (default the shared ML-100K ``u.data``), ratings >= 4 kept as
  positives (``af.binarize(data, 3.5)``, the REFERENCE recipe's rating > 3.5),
  binarised.
* for each seed s: ``af.per_user_split(positives, 0.2, seed=s)``: each user's
  floor(0.2 n_u) random positives are test, the rest train. Users without train
  positives and items without train positives are dropped from both sides (so
  both libraries see the same users and the same item vocabulary).
* RecBole gets exactly the train pairs as its ``.inter`` atomic file (no
  filtering, no valid/test part: its own dataloaders and evaluator are not
  used); its trainer's ``_train_epoch`` (RecBole's own epoch loop, Adam, its
  ``UserDataLoader``) runs ``--epochs`` times, then ``full_sort_predict`` scores
  every user; the scores are mapped back to our user and item indices.
* every model is then scored here by one NumPy implementation (``ranking_metrics``):
  train items excluded (-inf), binary relevance, averaged over users with at
  least one test item; Recall@K = hits@K / min(K, n_test); NDCG@K = DCG@K /
  IDCG, IDCG over min(K, n_test) (REFERENCE.md). It is cross-checked against
  ``af.evaluate`` on autorec_fast's own scoring path (printed as a max |diff|).
* no validation and no early stopping for either: fixed ``--epochs`` (default
  300 = RecBole's ``epochs``; RecBole would otherwise early-stop on a
  validation MRR@10).

Settings: RecBole's defaults (recbole/properties/model/CDAE.yaml, overall.yaml)
and their autorec_fast counterparts
-------------------------------------------------------------------------
=====================  ==================================  ===============================  =========
what                   RecBole 1.2.1 (default)             autorec_fast ``train("cdae")``  matched?
=====================  ==================================  ===============================  =========
hidden units           embedding_size 64                   hidden=64                        yes
hidden activation      hid_activation relu                 hidden_activation="relu"         yes
output activation      out_activation sigmoid              output_activation="sigmoid"      yes
loss                   loss_type BCE, BCEWithLogits        loss="logistic" (softplus(z)-yz  yes
                       reduction="sum" over batch x items  summed), negative_ratio=0 (full
                                                           output: every item a target)
corruption             corruption_ratio 0.5, nn.Dropout    corruption=0.5, dropout of the   yes
                       (inverted, 1/(1-q))                 nonzeros, 1/(1-q)
user node              nn.Embedding(n_users, 64) added to  one-hot input column per user    yes
                       the hidden pre-activation           (a row of V)
optimizer              learner adam, lr 1e-3               optimizer="adam", lr=1e-3        yes (both
                                                                                            0.9/0.999/1e-8)
batch                  train_batch_size 2048 users         batch_size=2048                  yes: 1 step
                       (UserDataLoader, shuffled)          (min(2048, n_users))             per epoch
epochs                 300                                 epochs=300                       yes
regularisation         reg_weight_2 0.01 * (||V_user||_F   l2 * share/2 (||V||^2 + ||W||^2) NO (form)
                       + ||V_items||_F), NOT squared,      V incl. user nodes, W = output
                       every batch; output W and biases    weights; share = batch/n_users
                       free; reg_weight_1 (L1) 0           (= 1 here)
initialisation         xavier_normal on V_items, V_user,   Glorot-uniform on [V_items;      NO (close
                       W; zero biases                      V_user] stacked and on W; zero   in scale)
                                                           biases
padding user           internal user 0 ([PAD], empty row)  none                             NO (one
                       is trained as a user                                                 empty row)
scoring a known user   with its user embedding             WITHOUT its user node            NO: see
                                                           (``_score_csr``: every history    below
                                                           is folded in, node = 0)
=====================  ==================================  ===============================  =========

The regularisation: RecBole's gradient on V is reg_weight_2 * V / ||V||_F per
batch. With one batch per epoch that equals autorec_fast's l2 * V when
l2 = 0.01 / ||V||_F; at RecBole's xavier init ||V_items||_F and ||V_user||_F
are both about 11, so ``--equal-l2`` defaults to 1e-3 (RecBole's pull at
init), with the remaining differences that autorec_fast also shrinks the output
weights W and that RecBole's pull does not weaken as V shrinks.

Scoring: autorec_fast scores every history without a user node
(``CDAE._score_csr``; correct for strong generalization, where the user is new),
so ``af.evaluate`` on training users drops the node the model was trained
with. This script therefore reports autorec_fast's CDAE twice: through the
library (``af.evaluate``-equivalent, node = 0) and with the user's trained node
added back (computed here from the fitted parameters: h = g(x V_items +
V_user[u] + mu)). RecBole's CDAE is likewise reported twice: its own
``full_sort_predict`` (with the user embedding) and with the embedding zeroed,
so that the scoring convention and the model are separated.

Rows of the result table: popularity (train item counts), RecBole CDAE (its
defaults), autorec_fast CDAE at the equal settings above, and autorec_fast CDAE
at its own defaults (hidden 50, corruption 0.2, sigmoid/sigmoid, logistic loss,
5 sampled negatives per positive, Adam lr 1e-2, l2 0.01, batch 256, 50 epochs;
``--af-default-epochs``). Per row: NDCG@100, Recall@20, Recall@50 (mean ±
standard error over seeds) and training seconds per epoch (RecBole: its
``_train_epoch``; autorec_fast: ``history[i]["seconds"]``), both with
``--threads`` threads (torch.set_num_threads / af.set_num_threads).

Results (ML-100K, 2 shared CPU cores under load 1.5-3, threads 2; seeds 0 1 2;
mean ± s.e.; the script prints these tables)::

    300 epochs (RecBole's default)        NDCG@100         Recall@20        Recall@50        s/epoch
    popularity                            0.2619 ± 0.0030  0.2029 ± 0.0045  0.3246 ± 0.0041  -
    RecBole CDAE (defaults)               0.3846 ± 0.0026  0.3316 ± 0.0018  0.4914 ± 0.0032  0.056-0.082
      same, user embedding zeroed         0.3893 ± 0.0024  0.3388 ± 0.0013  0.5000 ± 0.0021
    autorec_fast equal (library scoring)  0.3880 ± 0.0016  0.3358 ± 0.0015  0.4967 ± 0.0023  0.018-0.022
      same, with the user node            0.3833 ± 0.0023  0.3322 ± 0.0005  0.4902 ± 0.0026
    autorec_fast own defaults (50 ep)     0.4063 ± 0.0025  0.3607 ± 0.0027  0.5302 ± 0.0018  0.014-0.022

Paired NDCG@100 difference autorec_fast - RecBole at the same scoring
convention: -0.0013 ± 0.0005 with the user node, -0.0013 (0.3880 - 0.3893)
without; the training losses match (seed 0: 925,571 -> 136,018 against
RecBole's 927,153 -> 136,883, which includes its [PAD] user); ``--equal-l2`` 0,
1e-3 and 1e-2 give the same metrics to 4 decimals (one Adam step per epoch
against a loss summed over ~1.3M entries: the penalty is negligible in either
form). At 1000 epochs (seed 0): RecBole 0.4022, autorec_fast with node 0.4018;
without the node 0.4116 and 0.4135. Dropping the user node at scoring (what
autorec_fast's ``_score_csr`` does for every history) helps both
implementations here (+0.005 at 300 epochs, +0.01 at 1000).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DEFAULT_DATA = "/work/shared/data/ml-100k/u.data"
KS = {"ndcg@100": 100, "recall@20": 20, "recall@50": 50}


# --------------------------------------------------------------------------- metrics
def ranking_metrics(scores, train, test):
    """NDCG@100, Recall@20, Recall@50 (REFERENCE.md definitions) of dense
    ``scores`` (users x items) with the ``train`` CSR's items excluded and the
    ``test`` CSR's items as targets; averaged over users with >= 1 target.
    Returns {metric: mean}, {metric: per-user array}."""
    S = np.array(scores, dtype=np.float64)
    rows = np.repeat(np.arange(train.shape[0]), np.diff(train.indptr))
    S[rows, train.indices] = -np.inf
    n_out = np.diff(test.indptr)
    keep = np.flatnonzero(n_out > 0)
    S, n_out = S[keep], n_out[keep].astype(np.float64)
    kmax = max(KS.values())
    part = np.argpartition(-S, kmax - 1, axis=1)[:, :kmax]
    order = np.argsort(-np.take_along_axis(S, part, 1), axis=1, kind="stable")
    top = np.take_along_axis(part, order, 1)
    rel = np.asarray(test[keep].todense() > 0)
    hits = np.take_along_axis(rel, top, 1).astype(np.float64)
    disc = 1.0 / np.log2(np.arange(2, kmax + 2))
    idcg = np.cumsum(disc)
    per = {}
    for name, k in KS.items():
        h = hits[:, :k]
        m = np.minimum(k, n_out)
        if name.startswith("ndcg"):
            per[name] = (h * disc[:k]).sum(1) / idcg[m.astype(np.int64) - 1]
        else:
            per[name] = h.sum(1) / m
    return {k: float(v.mean()) for k, v in per.items()}, per


def mean_se(values):
    v = np.asarray(values, dtype=np.float64)
    if v.size < 2:
        return float(v.mean()), float("nan")
    return float(v.mean()), float(v.std(ddof=1) / np.sqrt(v.size))


# --------------------------------------------------------------------------- RecBole child
def recbole_worker(args):
    """Runs in the RecBole venv: trains RecBole's CDAE on each split's train pairs
    and writes its full-sort scores in our index space."""
    import logging

    import torch
    from recbole.config import Config
    from recbole.data import create_dataset
    from recbole.data.dataloader.user_dataloader import UserDataLoader
    from recbole.data.interaction import Interaction
    from recbole.model.general_recommender.cdae import CDAE
    from recbole.trainer import Trainer
    from recbole.utils import init_seed

    torch.set_num_threads(args.threads)
    work = Path(args.worker)
    for seed in args.seeds:
        split = np.load(work / f"split_{seed}.npz")
        users, items = split["users"], split["items"]
        n_users, n_items = int(split["n_users"]), int(split["n_items"])
        ds_dir = work / f"recbole_{seed}" / "afsplit"
        ds_dir.mkdir(parents=True, exist_ok=True)
        with open(ds_dir / "afsplit.inter", "w") as f:
            f.write("user_id:token\titem_id:token\n")
            for u, i in zip(users.tolist(), items.tolist()):
                f.write(f"{u}\t{i}\n")
        config = Config(model="CDAE", dataset="afsplit", config_dict={
            "data_path": str(work / f"recbole_{seed}"), "checkpoint_dir": str(work / f"recbole_{seed}" / "saved"),
            "load_col": {"inter": ["user_id", "item_id"]}, "use_gpu": False, "seed": seed,
            "reproducibility": True, "show_progress": False, "epochs": args.epochs, "state": "WARNING",
        })
        init_seed(config["seed"], config["reproducibility"])
        torch.set_num_threads(args.threads)  # init_seed may not touch it; set again to be sure
        logging.getLogger().setLevel(logging.WARNING)
        dataset = create_dataset(config)
        assert dataset.inter_num == len(users), (dataset.inter_num, len(users))
        # data_preparation's dataset.build() would split it; the whole file is the training
        # set here, so only its conversion to RecBole's Interaction is done
        dataset._change_feat_format()
        init_seed(config["seed"] + config["local_rank"], config["reproducibility"])
        train_data = UserDataLoader(config, dataset, None, shuffle=True)
        init_seed(config["seed"] + config["local_rank"], config["reproducibility"])
        model = CDAE(config, dataset).to(config["device"])
        trainer = Trainer(config, model)
        seconds, losses = [], []
        t_all = time.perf_counter()
        for epoch in range(args.epochs):
            t0 = time.perf_counter()
            loss = trainer._train_epoch(train_data, epoch, show_progress=False)
            seconds.append(time.perf_counter() - t0)
            losses.append(float(loss if not isinstance(loss, tuple) else sum(loss)))
        fit_seconds = time.perf_counter() - t_all
        # map back to our indices: internal id -> token (= our index as a string)
        uid_tok = dataset.field2id_token["user_id"]
        iid_tok = dataset.field2id_token["item_id"]
        ours_of_internal_item = np.full(len(iid_tok), -1, np.int64)
        for j, t in enumerate(iid_tok):
            if t != "[PAD]":
                ours_of_internal_item[j] = int(t)
        internal_of_user = np.array([dataset.field2token_id["user_id"][str(u)] for u in range(n_users)])
        assert (ours_of_internal_item[1:] >= 0).all() and len(iid_tok) == n_items + 1
        model.eval()
        with torch.no_grad():
            uid = torch.as_tensor(internal_of_user, dtype=torch.long)
            raw = model.full_sort_predict(Interaction({"user_id": uid})).view(len(uid), -1).numpy()
            # the same model with the user embedding zeroed (the convention autorec_fast scores with)
            x = model.get_rating_matrix(uid)
            raw0 = model.o_act(model.out_layer(model.h_act(model.h_item(x)))).numpy()
        scores = np.full((n_users, n_items), -np.inf, np.float32)
        scores0 = np.full((n_users, n_items), -np.inf, np.float32)
        scores[:, ours_of_internal_item[1:]] = raw[:, 1:]
        scores0[:, ours_of_internal_item[1:]] = raw0[:, 1:]
        np.savez(work / f"recbole_{seed}.npz", scores=scores, scores_no_user=scores0,
                 seconds=np.array(seconds), losses=np.array(losses), fit_seconds=fit_seconds)
        print(f"[recbole] seed {seed}: {args.epochs} epochs, {np.median(seconds):.3f} s/epoch median, "
              f"loss {losses[0]:.1f} -> {losses[-1]:.1f}, {len(uid_tok) - 1} users "
              f"(+[PAD]), {len(iid_tok) - 1} items", flush=True)


# --------------------------------------------------------------------------- autorec_fast side
def act(name, z):
    if name == "relu":
        return np.maximum(z, 0)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "identity":
        return z
    raise ValueError(name)


def af_scores_with_user_node(model, train):
    """Scores of the training users WITH their trained user node: g(x V_items +
    V_user[u] + mu) W^T + b (output pre-activations, monotone in the output)."""
    Vt, mu, W, b = (np.asarray(model._backend.to_host(p), np.float64) for p in model._params)
    n_items = model.n_items
    H = act(model.hidden_activation, train @ Vt[:n_items] + Vt[n_items:n_items + train.shape[0]] + mu)
    return H @ W.T + b


def af_scores_library(model, train):
    """autorec_fast's own scoring path (what af.evaluate and recommend use)."""
    return np.asarray(model._backend.to_host(model._score_csr(train)), np.float64)


def make_split(af, data, seed):
    import scipy.sparse as sp

    tr, te = af.per_user_split(data, 0.2, seed=seed)
    Xtr = sp.csr_matrix(tr.matrix, dtype=np.float32)
    Xte = sp.csr_matrix(te.matrix, dtype=np.float32)
    Xtr.data[:] = 1
    Xte.data[:] = 1
    users = np.flatnonzero(np.diff(Xtr.indptr) > 0)
    items = np.flatnonzero(np.asarray((Xtr > 0).sum(0)).ravel() > 0)
    Xtr, Xte = Xtr[users][:, items].tocsr(), Xte[users][:, items].tocsr()
    Xtr.sort_indices()
    Xte.sort_indices()
    return Xtr, Xte


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=DEFAULT_DATA)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=300, help="both CDAEs at equal settings (RecBole's default 300)")
    p.add_argument("--af-default-epochs", type=int, default=None,
                   help="epochs of autorec_fast's CDAE at its own defaults (default: its default, 50)")
    p.add_argument("--equal-l2", type=float, nargs="+", default=[1e-3],
                   help="autorec_fast l2 standing in for RecBole's reg_weight_2=0.01 (see the docstring); "
                        "several values: one row each (a sensitivity check)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--recbole-python", default=sys.executable)
    p.add_argument("--json", default=None, help="write every number to this file")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return recbole_worker(args)

    import autorec_fast as af

    af.set_num_threads(args.threads)
    data = af.binarize(af.load_movielens(args.data), 3.5)
    rows = {}  # name -> list over seeds of {metric: value, "s_per_epoch": ...}

    def add(name, seed, scores, train, test, s_per_epoch=float("nan")):
        m, _ = ranking_metrics(scores, train, test)
        m["s_per_epoch"] = s_per_epoch
        rows.setdefault(name, {})[seed] = m
        print(f"  seed {seed} {name:<44} " + "  ".join(f"{k} {v:.4f}" for k, v in m.items()), flush=True)

    with tempfile.TemporaryDirectory(prefix="cdae_recbole_") as work:
        splits = {}
        for seed in args.seeds:
            Xtr, Xte = make_split(af, data, seed)
            splits[seed] = (Xtr, Xte)
            u, i = Xtr.nonzero()
            np.savez(Path(work) / f"split_{seed}.npz", users=u, items=i, n_users=Xtr.shape[0], n_items=Xtr.shape[1])
            print(f"split seed {seed}: {Xtr.shape[0]} users x {Xtr.shape[1]} items, train {Xtr.nnz}, "
                  f"test {Xte.nnz} positives", flush=True)

        cmd = [args.recbole_python, str(Path(__file__).resolve()), "--worker", work, "--epochs", str(args.epochs),
               "--threads", str(args.threads), "--seeds", *map(str, args.seeds)]
        print("RecBole:", " ".join(cmd), flush=True)
        env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, env=env, cwd=work)
        print(f"RecBole child: {time.perf_counter() - t0:.1f} s", flush=True)

        for seed in args.seeds:
            Xtr, Xte = splits[seed]
            counts = np.asarray(Xtr.sum(0)).ravel()
            add("popularity", seed, np.tile(counts, (Xtr.shape[0], 1)), Xtr, Xte)

            rb = np.load(Path(work) / f"recbole_{seed}.npz")
            sec = float(np.median(rb["seconds"]))
            add("RecBole CDAE (defaults)", seed, rb["scores"], Xtr, Xte, sec)
            add("RecBole CDAE, user embedding zeroed", seed, rb["scores_no_user"], Xtr, Xte, sec)

            for li, l2 in enumerate(args.equal_l2):
                tag = "" if len(args.equal_l2) == 1 else f" l2={l2:g}"
                equal = dict(hidden=64, corruption=0.5, hidden_activation="relu", output_activation="sigmoid",
                             loss="logistic", negative_ratio=0, optimizer="adam", lr=1e-3, l2=l2,
                             epochs=args.epochs, batch_size=2048, seed=seed)
                model = af.train("cdae", Xtr, **equal)
                sec = float(np.median([h["seconds"] for h in model.history]))
                print(f"  [autorec_fast{tag}] loss {model.history[0]['loss']:.1f} -> {model.history[-1]['loss']:.1f}"
                      f" (RecBole's: {rb['losses'][0]:.1f} -> {rb['losses'][-1]:.1f})")
                lib = af_scores_library(model, Xtr)
                add(f"autorec_fast CDAE equal{tag} (library scoring)", seed, lib, Xtr, Xte, sec)
                add(f"autorec_fast CDAE equal{tag}, with user node", seed, af_scores_with_user_node(model, Xtr),
                    Xtr, Xte, sec)
                if seed == args.seeds[0] and li == 0:  # the shared metric code against af.evaluate
                    ref = af.evaluate(model, (Xtr, Xte), ["ndcg@100", "recall@20", "recall@50"])
                    ours, _ = ranking_metrics(lib, Xtr, Xte)
                    print(f"  check vs af.evaluate: max |diff| {max(abs(ref[k] - ours[k]) for k in KS):.2e}")

            own = {"seed": seed}
            if args.af_default_epochs:
                own["epochs"] = args.af_default_epochs
            model = af.train("cdae", Xtr, **own)
            sec = float(np.median([h["seconds"] for h in model.history]))
            add(f"autorec_fast CDAE own defaults ({model.epochs} ep)", seed, af_scores_library(model, Xtr),
                Xtr, Xte, sec)
            add("autorec_fast CDAE own defaults, with user node", seed, af_scores_with_user_node(model, Xtr),
                Xtr, Xte, sec)

    print(f"\nML-100K ratings >= 4, per-user 80/20, seeds {args.seeds}; equal settings: {args.epochs} epochs;"
          f" {args.threads} threads; mean ± s.e. over seeds\n")
    print("| model | NDCG@100 | Recall@20 | Recall@50 | s / epoch (median) |")
    print("| --- | --- | --- | --- | --- |")
    for name, by_seed in rows.items():
        cells = []
        for k in [*KS, "s_per_epoch"]:
            m, se = mean_se([v[k] for v in by_seed.values()])
            cells.append("–" if np.isnan(m) else (f"{m:.4f} ± {se:.4f}" if k in KS else f"{m:.3f}"))
        print(f"| {name} | " + " | ".join(cells) + " |")
    base = rows["RecBole CDAE (defaults)"]
    print("\npaired differences against RecBole CDAE (defaults), NDCG@100, mean ± s.e.:")
    for name, by_seed in rows.items():
        d = [by_seed[s]["ndcg@100"] - base[s]["ndcg@100"] for s in args.seeds]
        m, se = mean_se(d)
        print(f"  {name:<50} {m:+.4f} ± {se:.4f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "rows": rows}, indent=1, default=float))


if __name__ == "__main__":
    main()
