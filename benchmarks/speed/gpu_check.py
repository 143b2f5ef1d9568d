"""Every device path of one model, end to end, small enough for compute-sanitizer.

    compute-sanitizer --tool memcheck --error-exitcode 1 python3 -P benchmarks/speed/gpu_check.py autorec-item
    for m in $(python3 -P benchmarks/speed/gpu_check.py all); do ...; done   # the names, one a line
    python3 -P benchmarks/speed/gpu_check.py multvae --device cpu            # the same checks on the CPU

One process per model (a CUDA error is sticky: it would fail every model after it).
Per model, on small synthetic data (a few hundred users and items) with one user who
has no interactions:

1. what the library does with that user in training (rating models and EASE train on
   it; Mult-VAE/DAE, CDAE and SVAE refuse it with a ValueError, checked, and train
   without it);
2. 2 epochs of training with validation every epoch (EASE: its closed-form fit);
3. score and recommend (top-k with the seen items excluded) on held-out histories plus
   an empty one, checked against a host top-k of the scores; predict and RMSE/MAE for
   the rating models (the empty user included); evaluate with ranking metrics;
4. save, load back onto the same device, and the same recommendations / predictions.

Prints one line per model; on the first failure prints what failed and exits 1.
"""

import argparse
import sys
import tempfile
import time
import traceback
from pathlib import Path

import autorec_fast as af  # before NumPy: it sets OPENBLAS_THREAD_TIMEOUT (see benchmarks/common.py)
import numpy as np
import scipy.sparse as sp

K = 10  # top-k of recommend
BATCH = 32  # rows per score / recommend / evaluate batch: several batches, the last one partial
EPOCHS = 2
RANKING_METRICS = ["recall@20", "ndcg@100", "mrr", "coverage@10"]

# MODEL: (registry name, kind of data, hyper-parameters). Sizes are small and odd on
# purpose (not multiples of a block size; AutoRec's hidden 300 > its 256 threads).
CHECKS = {
    "autorec-item": ("autorec", "ratings", dict(variant="item", hidden=300)),
    "autorec-user": ("autorec", "ratings", dict(variant="user", hidden=40)),
    # corrupted inputs are sliced on the host and uploaded per batch (not the resident matrix)
    "autorec-corrupt": ("autorec", "ratings", dict(variant="item", hidden=100, corruption="dropout", noise=0.2)),
    "cdae-neg": ("cdae", "implicit", dict(hidden=130, negative_ratio=3, batch_size=64)),
    "cdae-full": ("cdae", "implicit", dict(hidden=40, negative_ratio=0, batch_size=64)),
    "multvae": ("multvae", "implicit", dict(layers=[60, 20], batch_size=128)),
    "multdae": ("multdae", "implicit", dict(layers=[50], batch_size=128)),
    # the defaults: one tied layer, bias-centred, output evaluated at the observed ratings only
    "deeprec": ("deeprec", "ratings", dict(layers=[48], batch_size=64)),
    # dense re-feeding (the dense output layer), two untied layers, momentum SGD
    "deeprec-refeed": ("deeprec", "ratings", dict(layers=[48, 24], refeed_steps=1, constrained=False, center=None,
                                                  last_layer_activation=True, optimizer="momentum", lr=0.005,
                                                  batch_size=64)),
    "svae": ("svae", "sequences", dict(embedding=24, gru=20, hidden=18, latent=8, batch_size=32)),
    "ease": ("ease", "implicit", dict(l2=50.0)),
}

_stage = ["start"]  # what the check was doing, for the failure message


def stage(name):
    _stage[0] = name


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def with_empty_user(inter):
    """``inter`` plus one last row without interactions (timestamps and order kept)."""
    m = inter.matrix
    matrix = sp.csr_matrix((m.data, m.indices, np.append(m.indptr, m.indptr[-1])), shape=(m.shape[0] + 1, m.shape[1]))
    return af.Interactions(matrix, item_ids=inter.item_ids, timestamps=inter.timestamps,
                           entry_order=inter.entry_order, has_ratings=inter.has_ratings)


class Device:
    """The device's glue: host copies, a synchronisation after each stage (so an
    asynchronous kernel fault is raised in the stage that caused it)."""

    def __init__(self, name):
        self.name = name
        if name == "cuda":
            import cupy

            self.cupy = cupy

    def host(self, a):
        return self.cupy.asnumpy(a) if self.name == "cuda" else np.asarray(a)

    def sync(self):
        if self.name == "cuda":
            self.cupy.cuda.runtime.deviceSynchronize()

    def check_array(self, a, what):
        """A result of a model on this device lives on it (no silent host fallback)."""
        if self.name == "cuda":
            expect(isinstance(a, self.cupy.ndarray), f"{what} is a {type(a).__name__}, not a CuPy array")


# --------------------------------------------------------------------------- checks
def check_ranking(model, history, dev):
    """score and recommend on ``history`` (an Interactions); returns (items, scores)."""
    seen = history.matrix
    n_rows = seen.shape[0]
    stage("score")
    S = model.score(history, batch_size=BATCH)
    dev.sync()
    dev.check_array(S, "score()")
    S = dev.host(S)
    expect(S.shape == (n_rows, model.n_items), f"score() has shape {S.shape}, expected {(n_rows, model.n_items)}")
    expect(np.isfinite(S).all(), "score() has non-finite values")
    stage("recommend (top-k, seen items excluded)")
    items, scores = model.recommend(history, k=K, batch_size=BATCH)
    dev.sync()
    expect(items.shape == (n_rows, K) and scores.shape == (n_rows, K), f"recommend() shapes {items.shape}, {scores.shape}")
    expect((items >= 0).all() and (items < model.n_items).all(),
           "recommend() returned padding or out-of-range items (every row has more than k unseen items)")
    seen_mask = sp.csr_matrix((np.ones(seen.nnz, bool), seen.indices, seen.indptr), shape=seen.shape).toarray()
    rows = np.arange(n_rows)[:, None]
    expect(not seen_mask[rows, items].any(), "recommend() returned an item from the history (exclusion failed)")
    expect((np.diff(scores, axis=1) <= 0).all(), "recommend() scores are not in descending order")
    np.testing.assert_allclose(scores, S[rows, items], rtol=1e-4, atol=1e-4,
                               err_msg="recommend() scores differ from score() at the recommended items")
    best = -np.sort(-np.where(seen_mask, -np.inf, S), axis=1)[:, :K]
    np.testing.assert_allclose(scores, best, rtol=1e-4, atol=1e-4,
                               err_msg="recommend() did not return the k best unseen items of score()")
    return items, scores


def check_evaluate(model, test, dev):
    stage("evaluate (ranking)")
    result = af.evaluate(model, test, RANKING_METRICS, batch_size=BATCH)
    dev.sync()
    for name in RANKING_METRICS:
        expect(np.isfinite(result[name]) and 0 <= result[name] <= 1, f"evaluate: {name} = {result[name]}")
    return result


def check_ratings(model, test, empty_user, dev):
    """predict on the test pairs and for the user without ratings, RMSE/MAE; returns
    (test predictions, what the empty user got)."""
    stage("predict")
    users, items, _, _ = test.to_coo_arrays()
    pred = model.predict(users, items)
    dev.sync()
    low, high = model.rating_range_
    expect(pred.shape == users.shape and np.isfinite(pred).all(), "predict() has non-finite values")
    expect(((pred >= low) & (pred <= high)).all(), "predict() is outside the training ratings' range (clip=True)")
    stage("predict for the user without ratings")
    some = np.arange(min(20, model.n_items))
    empty = model.predict(np.full(some.size, empty_user), some)
    dev.sync()
    expect(np.isfinite(empty).all(), "predict() for the user without ratings is not finite")
    # U-AutoRec encodes the empty row (the network's output for an empty input, per item);
    # I-AutoRec (the user's output unit never trained) and DeepRec give the training mean
    if model.name == "autorec" and model.variant == "user":
        behaviour = "predicted from an empty input row"
    else:
        expect(np.allclose(empty, model.mean_), f"predict() for the user without ratings is {empty[:3]}, "
                                                f"expected the training mean {model.mean_:.4f}")
        behaviour = "trained on; predicted the training mean"
    stage("evaluate (rmse, mae)")
    result = af.evaluate(model, test, ["rmse", "mae"])
    dev.sync()
    expect(all(np.isfinite(v) and v >= 0 for v in result.values()), f"evaluate: {result}")
    return pred, behaviour


def check_reload(model, dev, compare):
    """Save, load onto the same device, and ``compare(loaded)``."""
    stage("save / load")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.npz"
        model.save(path)
        loaded = af.load(path, device=dev.name)
    dev.sync()
    expect(loaded.device == dev.name, f"loaded onto {loaded.device}, asked for {dev.name}")
    stage("the loaded model's results")
    compare(loaded)
    dev.sync()


def same_recommendations(model, history, items, scores):
    def compare(loaded):
        items2, scores2 = loaded.recommend(history, k=K, batch_size=BATCH)
        np.testing.assert_allclose(scores2, scores, rtol=1e-5, atol=1e-5, err_msg="loaded model: other scores")
        differ = items2 != items  # only where scores tie
        expect(np.allclose(scores2[differ], scores[differ]), "loaded model: other recommendations")
    return compare


# --------------------------------------------------------------------------- models
def run(check, dev):
    """Run one MODEL's checks; returns the summary line's details."""
    name, kind, params = CHECKS[check]
    fit = dict(params, device=dev.name)
    if name != "ease":  # EASE is closed-form: no epochs, no seed
        fit.update(epochs=EPOCHS, seed=0)
    stage("data")
    if kind == "ratings":
        train, test = af.random_split(with_empty_user(af.synthetic("ml-100k", n_users=300, n_items=450, seed=0)),
                                      0.1, seed=0)
        empty_user = train.n_users - 1
        stage("train")
        model = af.train(name, train, validation=test, **fit)
        dev.sync()
        pred, behaviour = check_ratings(model, test, empty_user, dev)
        done = ["predict", "evaluate rmse/mae"]
        if name == "deeprec":  # DeepRec ranks too: the training rows as histories, the empty one included
            items, scores = check_ranking(model, train, dev)
            done.insert(0, "score/recommend")

        def compare(loaded):
            np.testing.assert_allclose(loaded.predict(*test.to_coo_arrays()[:2]), pred, rtol=1e-5, atol=1e-5,
                                       err_msg="loaded model: other predictions")
            if name == "deeprec":
                same_recommendations(model, train, items, scores)(loaded)

        check_reload(model, dev, compare)
        return model, train, behaviour, done + ["save/load"]

    if kind == "sequences":
        data = af.synthetic("ml-1m", n_users=300, n_items=450, implicit=True, seed=0)
        split = af.temporal_heldout_split(data, n_heldout_users=30)
    else:
        data = af.synthetic("ml-1m", n_users=400, n_items=450, implicit=True, seed=0)
        split = af.strong_generalization_split(data, n_heldout_users=40, seed=0)
    train = with_empty_user(split.train)
    if name == "ease":
        behaviour = "trained on (it adds nothing to the Gram)"
        stage("train")
        model = af.train(name, train, **fit)
    else:
        stage("train with a user without interactions (expected: ValueError)")
        try:
            af.train(name, train, **fit)
        except ValueError as exc:
            behaviour = "refused in training (ValueError), scored as an empty history"
            expect("users" in str(exc), f"unexpected ValueError: {exc}")
        else:
            raise AssertionError("training on a user without interactions was accepted")
        stage("train")
        model = af.train(name, split.train, validation=split.validation, **fit)
    dev.sync()
    if name != "ease":
        expect(len(model.history) == EPOCHS and all(np.isfinite(h["loss"]) for h in model.history),
               f"training history: {model.history}")
    history = with_empty_user(split.test.fold_in)  # an empty history among the rows to score
    items, scores = check_ranking(model, history, dev)
    check_evaluate(model, split.test, dev)
    check_reload(model, dev, same_recommendations(model, history, items, scores))
    return model, train if name == "ease" else split.train, behaviour, ["score/recommend", "evaluate", "save/load"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", help=f"one of {', '.join(CHECKS)}; 'all' prints the names, one a line")
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    args = parser.parse_args()
    if args.model == "all":
        print("\n".join(CHECKS))
        return 0
    if args.model not in CHECKS:
        parser.error(f"model must be one of {', '.join(CHECKS)} or all, got {args.model!r}")
    if args.device == "cuda":
        if not af.cuda_available():
            from autorec_fast.backends import cuda_unavailable_reason

            print(f"FAIL {args.model} (cuda): {cuda_unavailable_reason()}", file=sys.stderr)
            return 1
        import cupy

        # Before the first device allocation: no memory pools. Every device (and pinned
        # host) allocation becomes its own cudaMalloc (cudaHostAlloc), so memcheck knows
        # each buffer's exact bounds. With CuPy's pool a buffer is a piece of a larger
        # pooled chunk (and freed blocks are handed out again), so a read or write past
        # its end lands in valid memory and memcheck reports nothing.
        cupy.cuda.set_allocator(None)
        cupy.cuda.set_pinned_memory_allocator(None)
    dev = Device(args.device)
    t0 = time.perf_counter()
    try:
        model, train, behaviour, done = run(args.model, dev)
    except Exception as exc:
        traceback.print_exc()
        print(f"FAIL {args.model} ({args.device}) in {_stage[0]}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    trained = "closed-form fit" if not model.history else f"{len(model.history)} epochs"
    print(f"OK {args.model} ({args.device}): {trained} on {train.n_users} users x {train.n_items} items "
          f"({train.nnz} interactions), {', '.join(done)}; user without interactions: {behaviour}; "
          f"{time.perf_counter() - t0:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
