"""Regressions for bugs the Hypothesis fuzz suite (tests/fuzz) found."""

import io
import zipfile

import numpy as np
import pytest
import scipy.sparse as sp

import autorec_fast as af
from autorec_fast.models._training import MAX_EPOCHS
from helpers import GRADIENT_SMALL, data_for, small_datasets


def test_values_beyond_float32_are_rejected_not_stored_as_inf():
    with pytest.raises(ValueError, match="float32 range"):
        af.as_interactions(sp.csr_matrix(np.array([[1e300]])))
    with pytest.raises(ValueError, match="float32 range"):
        af.Interactions.from_arrays([0], [0], [1e39])


def _rewrite(path, key, arr):
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    buf = io.BytesIO()
    np.save(buf, arr)
    members[key + ".npy"] = buf.getvalue()
    with zipfile.ZipFile(path, "w") as zf:
        for k, v in members.items():
            zf.writestr(k, v)


@pytest.mark.parametrize("name, options", [("autorec", {"hidden": 2, "epochs": 1}),
                                           ("cdae", {"hidden": 2, "epochs": 1})])
@pytest.mark.parametrize("key", ["mu", "b"])
def test_load_rejects_bias_of_wrong_size(tmp_path, name, options, key):
    data = af.Interactions.from_arrays([0, 0, 1, 1], [0, 1, 1, 2], [1.0, 2.0, 3.0, 4.0])
    path = tmp_path / "m.npz"
    af.train(name, data, **options).save(path)
    _rewrite(path, key, np.zeros(1, np.float32))
    with pytest.raises(ValueError, match="parameter shapes"):
        af.load(path)


@pytest.mark.parametrize("bad", [np.full((3, 3), np.nan, np.float32), np.zeros((3, 3), np.complex64)])
def test_load_rejects_non_finite_or_complex_arrays(tmp_path, bad):
    data = af.Interactions.from_arrays([0, 0, 1, 1, 2], [0, 1, 1, 2, 0])
    path = tmp_path / "m.npz"
    af.train("ease", data, l2=1.0).save(path)
    with zipfile.ZipFile(path) as zf:
        key = next(n[:-4] for n in zf.namelist() if n != "__metadata__.npy" and n.startswith("w"))
    _rewrite(path, key, bad)
    with pytest.raises(ValueError, match="complex or non-finite"):
        af.load(path)


def test_load_rejects_unsupported_zip_versions(tmp_path):
    """A flipped 'version needed to extract' byte in the central directory makes zipfile
    raise NotImplementedError (a RuntimeError), not a BadZipFile."""
    data = af.Interactions.from_arrays([0, 0, 1, 1], [0, 1, 1, 2], [1.0, 2.0, 3.0, 4.0])
    path = tmp_path / "m.npz"
    af.train("autorec", data, hidden=2, epochs=1).save(path)
    raw = bytearray(path.read_bytes())
    for at in range(len(raw)):  # every central directory entry
        if raw[at:at + 4] == b"PK\x01\x02":
            raw[at + 6] = 0x6D  # version 10.9
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=str(path)):
        af.load(path)


def test_duplicates_last_keeps_the_latest_timestamp_then_the_last_position():
    """The fuzz oracle, not the library, was wrong here: 'last' with timestamps picks the
    latest timestamp (ties: the last in input order), as documented."""
    inter = af.Interactions.from_arrays([0, 0, 0], [0, 0, 0], [0.0, 0.0, 1.0], [0, 0, -1])
    assert inter.matrix.toarray().tolist() == [[0.0]]
    inter = af.Interactions.from_arrays([0, 0, 0], [0, 0, 0], [2.0, 3.0, 1.0], [5, 5, -1])
    assert inter.matrix.toarray().tolist() == [[3.0]]


@pytest.mark.parametrize("bad", ["float16", [1.0], [5.0, 1.0], [1.0, float("nan")], [True, 5], None])
@pytest.mark.parametrize("name", ["deeprec", "autorec", "bias"])
def test_load_rejects_a_broken_rating_range(tmp_path, name, bad):
    """Found by the nightly fuzz run: rating_range "float16" loaded, then scoring failed."""
    import json

    data = af.Interactions.from_arrays([0, 0, 1, 1, 2], [0, 1, 1, 2, 0], [1.0, 2.0, 3.0, 4.0, 5.0])
    path = tmp_path / "m.npz"
    af.train(name, data, **({} if name == "bias" else {"epochs": 1})).save(path)
    with zipfile.ZipFile(path) as zf:
        meta = json.loads(np.load(io.BytesIO(zf.read("__metadata__.npy"))).tobytes())
    meta["params"]["rating_range"] = bad
    _rewrite(path, "__metadata__", np.frombuffer(json.dumps(meta).encode(), np.uint8))
    with pytest.raises(ValueError, match="rating_range"):
        af.load(path)


def test_recommend_refuses_an_empty_history_when_score_does():
    """Found by the nightly fuzz run: AutoRec's recommend returned an empty result for a
    history of zero rows, where score (AutoRec predicts ratings, it does not rank) refuses."""
    data = af.Interactions.from_arrays([0, 0, 1, 1], [0, 1, 1, 2], [1.0, 2.0, 3.0, 4.0])
    model = af.train("autorec", data, hidden=2, epochs=1)
    empty = np.zeros((0, model.n_items))
    with pytest.raises(ValueError, match="predicts ratings"):
        model.score(empty)
    with pytest.raises(ValueError, match="predicts ratings"):
        model.recommend(empty, k=2)
    ease = af.train("ease", af.binarize(data, 0.0), l2=1.0)
    items, scores = ease.recommend(empty, k=2)  # a model that ranks: an empty result
    assert items.shape == scores.shape == (0, 2)


@pytest.mark.parametrize("name, options", [("cdae", {"hidden": 2, "epochs": 1, "negative_ratio": 1}),
                                           ("multvae", {"layers": [4, 2], "epochs": 1}),
                                           ("itemknn", {}), ("popularity", {})])
def test_implicit_models_score_histories_binarised_as_in_training(name, options):
    """Found by the nightly fuzz run: CDAE scored a history value of 2**62 as given (training
    binarises) and returned non-finite scores."""
    data = af.Interactions.from_arrays([0, 0, 1, 1, 2], [0, 1, 1, 2, 0])
    model = af.train(name, data, **options)
    huge = sp.csr_matrix(np.array([[2.0**62, 0.0, 3.0]]))
    S = model.score(huge)
    assert np.isfinite(S).all()
    np.testing.assert_array_equal(S, model.score(sp.csr_matrix(np.array([[1.0, 0.0, 1.0]]))))
    with pytest.raises(ValueError, match="negative"):
        model.score(sp.csr_matrix(np.array([[-1.0, 0.0, 1.0]])))


@pytest.mark.parametrize("name", sorted(GRADIENT_SMALL))
def test_absurd_epoch_counts_are_refused_not_trained_forever(name):
    """``epochs=2**63`` was accepted: the fit never ended and its ``history`` (an entry per
    epoch) grew by MBs a second until the nightly fuzz child hit its 6 GiB data limit and
    libgomp aborted the process, so Hypothesis could not report the example. (The callback
    stops a fit after one epoch, so that a regression fails here instead of hanging.)"""
    data = data_for(name, small_datasets())
    stop = [lambda model, entry: False]
    for epochs in (2**63, MAX_EPOCHS + 1):
        with pytest.raises(ValueError, match="epochs must be at most"):
            af.train(name, data, **{**GRADIENT_SMALL[name], "epochs": epochs}, callbacks=stop)
    model = af.MODELS[name](**GRADIENT_SMALL[name])
    assert model.set_params(epochs=MAX_EPOCHS).epochs == MAX_EPOCHS  # the bound itself is allowed
    with pytest.raises(ValueError, match="epochs must be at most"):
        model.set_params(epochs=2**63)
    model.epochs = 2**63  # set past the constructor's check: the training loop checks again
    with pytest.raises(ValueError, match="epochs must be at most"):
        model.fit(data, callbacks=stop)


def test_extreme_history_values_and_a_diverging_last_step_give_finite_outputs():
    """Found by the nightly models fuzz once the epochs bound let it run on: DeepRec
    scored a history value of 2**62 as NaN, and AutoRec after one step with lr=1e10
    predicted NaN; both from the float32 ELU/SELU/sigmoid exp, whose int32 exponent
    overflowed below -2**31·ln2 (now clamped; tests/kernels/test_dense_ops.py)."""
    X = sp.csr_matrix(np.array([[3.0, 0.0], [0.0, 4.0], [5.0, 0.0]]))
    deeprec = af.train("deeprec", X)
    for value in (2.0**62, 1e30, -1e30):
        assert np.isfinite(deeprec.score(np.array([[value, 0.0]]))).all()
    autorec = af.train("autorec", sp.csr_matrix(np.array([[4.0]])), lr=1e10, epochs=1)
    assert np.isfinite(autorec.predict([0], [0])).all()


def test_negative_ratio_out_of_range_names_the_argument():
    """negative_ratio=2**63 reached the sampler's binding and failed with pybind11's
    'incompatible function arguments' TypeError."""
    for ratio in (2**63, 10**6, -1):
        with pytest.raises(ValueError, match="negative_ratio must be between 0 and 100,000"):
            af.CDAE(negative_ratio=ratio)


@pytest.mark.parametrize("name", ["deeprec", "autorec", "cdae", "multvae"])
def test_a_last_step_that_overflows_raises(name):
    """The loss is measured before each step: DeepRec with lr=1e300 on one rating had a
    finite loss, then inf weights and non-finite scores (nightly fuzz). The parameters
    are checked after every epoch."""
    data = sp.csr_matrix(np.array([[4.0, 0.0], [0.0, 2.0]]))
    if name in ("cdae", "multvae"):
        data.data[:] = 1.0
    with pytest.raises(FloatingPointError, match=f"(?i){name}.*(not finite after epoch 1|loss is)"):
        af.train(name, data, lr=1e300, epochs=1, batch_size=1)


def test_non_finite_scores_are_refused_not_returned():
    """Weights that overflow on a history (a fit diverged in its last step, or values far
    outside the training scale) gave NaN/inf scores that ranked and evaluated silently."""
    X = sp.csr_matrix(np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]))
    model = af.train("ease", X, l2=1.0)
    model.weights[0, 1] = np.inf
    for call in (lambda: model.score(X), lambda: model.recommend(X, k=1),
                 lambda: af.evaluate(model, (X, X), ["ndcg@2"])):
        with pytest.raises(FloatingPointError, match="scores are not finite"):
            call()
    model.weights[0, 1] = 0.0
    assert np.isfinite(model.score(X)).all()


def test_non_finite_predictions_are_refused_and_bad_counts_in_files():
    """Nightly: DeepRec with lr=5e12 predicted NaN (clipping passes NaN through), so rmse
    was NaN; a model file with "best_epoch": Infinity raised OverflowError in load."""
    X = sp.csr_matrix(np.array([[3.0, 0.0], [0.0, 4.0], [5.0, 1.0]]))
    model = af.train("deeprec", X)
    model._parameters()[0][...] = np.nan
    with pytest.raises(FloatingPointError, match="predictions are not finite"):
        model.predict([0, 1], [0, 1])
    with pytest.raises(FloatingPointError):
        af.evaluate(model, X, ["rmse"])
    from autorec_fast.models._shared import meta_count

    for bad in (float("inf"), float("nan"), -1, 2.5, "3", True, None):
        with pytest.raises(ValueError, match="best_epoch must be a non-negative integer"):
            meta_count({"best_epoch": bad}, "best_epoch")
    assert meta_count({"best_epoch": 4.0}, "best_epoch") == 4


def test_deeprec_file_with_huge_layers_is_refused_before_allocating(tmp_path):
    """Nightly: a DeepRec file whose metadata said layers=2**40 made load allocate
    (5, 2**40) parameters from the metadata before comparing them with the arrays."""
    import json

    X = sp.csr_matrix(np.array([[3.0, 0.0, 1.0], [0.0, 4.0, 2.0]]))
    path = tmp_path / "deeprec.npz"
    af.train("deeprec", X, layers=[4], epochs=1).save(path)
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(bytes(arrays["__metadata__"]).decode())
    meta["params"]["layers"] = 2**40
    arrays["__metadata__"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    bad = tmp_path / "bad.npz"
    np.savez(bad, **arrays)
    with pytest.raises(ValueError, match="need .* weights but the file holds"):
        af.load(bad)
