"""Same seed, same thread count, same bits: two identical trainings give
bit-identical parameters and losses, with the library's default threads and
with 2 and 3 OpenMP threads explicitly.

The shapes are small but above the kernels' parallel thresholds (AutoRec/CDAE:
(inputs + targets + outputs) x hidden > 2^16 multiply-adds per batch;
the dense losses: batch x items > 2^16), so the multi-threaded paths run: the
AutoRec and CDAE cases failed here before the sparse kernel's scatter passes had
a fixed partition (they were dynamically scheduled into per-thread partial sums)."""

import numpy as np
import pytest

import autorec_fast as af

# name: (model, explicit data?, options)
CASES = {
    "autorec_item": ("autorec", True, dict(hidden=32, batch_size=128)),
    "autorec_user": ("autorec", True, dict(variant="user", hidden=32, batch_size=128)),
    "autorec_item_dropout": ("autorec", True, dict(hidden=32, batch_size=128, corruption="dropout", noise=0.3)),
    "autorec_user_gaussian": ("autorec", True, dict(variant="user", hidden=32, batch_size=128,
                                                    corruption="gaussian", noise=0.2)),
    "cdae_negatives": ("cdae", False, dict(hidden=32, batch_size=128)),
    "cdae_full_output": ("cdae", False, dict(hidden=32, batch_size=128, negative_ratio=0)),
    "multvae": ("multvae", False, dict(layers=[64, 16], batch_size=128)),
    "multdae": ("multdae", False, dict(layers=[32], batch_size=128)),
    "deeprec": ("deeprec", True, dict(layers=[32, 16], batch_size=128)),
    "svae": ("svae", False, dict(embedding=16, gru=16, hidden=12, latent=8, batch_size=32)),
}


@pytest.fixture(scope="module")
def data():
    ratings = af.synthetic(n_users=700, n_items=600, density=0.04, implicit=False, seed=5)
    implicit = af.synthetic(n_users=700, n_items=600, density=0.04, implicit=True, seed=6)
    return ratings, implicit


@pytest.fixture(params=[None, 2, 3], ids=["default_threads", "2_threads", "3_threads"])
def threads(request):
    if request.param is None:
        yield None
        return
    with af.threads(request.param):  # OpenMP and BLAS, restored afterwards
        yield request.param


def trained(name, data, path, full_output_dense=True):
    model, explicit, options = CASES[name]
    ratings, implicit = data
    fitted = af.train(model, ratings if explicit else implicit, epochs=2, seed=11, **options)
    fitted.save(path)
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files if k != "__metadata__" and f[k].dtype.kind == "f"}
    return arrays, [entry.get("loss") for entry in fitted.history]


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_seed_same_bits(name, data, threads, tmp_path):
    a, loss_a = trained(name, data, tmp_path / "a.npz")
    b, loss_b = trained(name, data, tmp_path / "b.npz")
    assert sorted(a) == sorted(b) and a
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=f"{name}: {key}")
    assert loss_a == loss_b


def test_cdae_sparse_full_output_same_bits(data, threads, monkeypatch):
    """negative_ratio=0 through the sparse kernel (every item a target), the path the dense one replaced."""
    from autorec_fast.models.cdae import CDAE

    monkeypatch.setattr(CDAE, "_dense_full_output", False)
    _, implicit = data
    runs = [af.train("cdae", implicit, epochs=2, seed=11, hidden=32, batch_size=128, negative_ratio=0)
            for _ in range(2)]
    for x, y in zip(runs[0]._params, runs[1]._params):
        np.testing.assert_array_equal(x, y)
    assert [e["loss"] for e in runs[0].history] == [e["loss"] for e in runs[1].history]
