"""scikit-learn's estimator conventions on every model: get_params / set_params, clone,
repr; fit_info and history through save/load; evaluate's default metrics per kind."""

import inspect

import numpy as np
import pytest

import autorec_fast as af
from autorec_fast.evaluation import DEFAULT_METRICS
from helpers import RATING_MODELS, SMALL, data_for, small_datasets  # SMALL: every model in MODELS (checked below)

#: a value other than the default for one parameter of each model, and a bad value for it
CHANGE = {
    "ease": ("l2", 123.0, -1.0),
    "autorec": ("hidden", 17, 0),
    "cdae": ("negative_ratio", 2, -1),
    "multvae": ("layers", (30, 10), []),
    "multdae": ("dropout", 0.25, 1.5),
    "deeprec": ("activation", "tanh", "swish"),
    "svae": ("latent", 7, 0),
    "popularity": ("dtype", "float64", "int8"),
    "bias": ("iterations", 4, 0),
    "itemknn": ("neighbors", 9, 0),
}
RATING = RATING_MODELS
ALL = sorted(af.MODELS)

try:
    from sklearn.base import clone as sklearn_clone
except ImportError:  # scikit-learn is not a dependency: the equivalent check runs instead
    sklearn_clone = None


@pytest.fixture(scope="module")
def datasets():
    return small_datasets()


def test_every_model_is_covered():
    assert set(SMALL) == set(af.MODELS) == set(CHANGE)


@pytest.mark.parametrize("name", ALL)
def test_get_params_set_params_round_trip(name):
    cls = af.MODELS[name]
    model = cls(**SMALL[name])
    params = model.get_params()
    expected = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    assert list(params) == expected
    assert model.get_params(deep=False) == params
    for key, value in SMALL[name].items():
        assert params[key] == value
    # the parameters build an equal model, which reports the same parameters
    twin = cls(**params)
    assert twin.get_params() == params and repr(twin) == repr(model)
    # set_params: the constructor's checks, the checked value kept, the model returned
    key, value, bad = CHANGE[name]
    assert model.set_params(**{key: value}) is model
    assert model.get_params()[key] == value
    assert getattr(model, key) == getattr(cls(**{key: value}), key)  # the constructor's converted value
    assert cls(**model.get_params()).get_params() == model.get_params()
    with pytest.raises((ValueError, TypeError)):
        model.set_params(**{key: bad})
    assert model.get_params()[key] == value  # a refused value leaves the model unchanged
    assert model.set_params() is model


@pytest.mark.parametrize("name", ALL)
def test_set_params_rejects_unknown_names(name):
    model = af.MODELS[name]()
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['bogus', 'nope'\]"):
        model.set_params(bogus=1, nope=2)


@pytest.mark.parametrize("name", ALL)
def test_clone_gives_an_unfitted_copy_with_the_same_parameters(name, datasets):
    cls = af.MODELS[name]
    model = af.train(name, data_for(name, datasets), **SMALL[name])
    copy = sklearn_clone(model) if sklearn_clone is not None else cls(**model.get_params())
    assert type(copy) is cls and copy is not model
    assert copy.get_params() == model.get_params()
    with pytest.raises(RuntimeError, match="not fitted"):
        copy.score(np.zeros((1, model.n_items)))
    # the copy trains to the same model (deterministic for a fixed seed)
    data = data_for(name, datasets)
    copy.fit(data)
    np.testing.assert_allclose(outputs(copy, data), outputs(model, data), rtol=1e-6)


def outputs(model, data):
    if isinstance(model, af.AutoRec):  # rating predictions only
        return model.predict(np.arange(10), np.arange(10) % model.n_items)
    return model.score(data)


def test_sklearn_clone_if_available():
    if sklearn_clone is None:
        pytest.skip("scikit-learn is not installed (not a dependency)")
    model = af.MultVAE(layers=[20, 10], dtype=np.float64, verbose=True)
    copy = sklearn_clone(model)
    assert copy.get_params()["layers"] == [20, 10] and copy.dtype == np.float64 and copy.verbose == 1


def test_get_params_follows_attributes_set_directly():
    model = af.AutoRec(hidden=10)
    model.hidden = 12  # as scikit-learn allows
    model.dtype = np.dtype("float64")
    assert model.get_params()["hidden"] == 12 and model.get_params()["dtype"] == "float64"
    assert af.AutoRec(**model.get_params()).hidden == 12


def test_repr_shows_the_class_and_the_parameters_that_differ_from_the_defaults(datasets):
    assert repr(af.AutoRec()) == "AutoRec()"
    assert repr(af.AutoRec(hidden=100, l2=10.0)) == "AutoRec(hidden=100, l2=10.0)"
    assert repr(af.MultVAE(layers=(600, 200))) == "MultVAE()"  # the default as a list or a tuple
    assert repr(af.MultVAE(layers=[100, 50], dtype="float64")) == "MultVAE(layers=[100, 50], dtype='float64')"
    fitted = af.train("ease", datasets[1], l2=10.0)
    assert repr(fitted) == "EASE(l2=10.0)"
    assert repr(af.AutoRec().set_params(hidden=7)) == "AutoRec(hidden=7)"


@pytest.mark.parametrize("name", ALL)
def test_fit_info_and_history_survive_save_and_load(name, datasets, tmp_path):
    model = af.train(name, data_for(name, datasets), **SMALL[name])
    assert isinstance(model.fit_info, dict) and model.fit_info.get("seconds", -1) >= 0
    model.save(tmp_path / name)
    loaded = af.load(tmp_path / f"{name}.npz")
    assert loaded.fit_info == model.fit_info
    assert loaded.history == model.history
    assert loaded.get_params() == {**model.get_params(), "device": "cpu"}
    if name in ("ease", "popularity", "itemknn"):
        assert loaded.history == []
    else:
        assert len(loaded.history) >= 2 and loaded.history[0]["epoch"] == 1


def test_gradient_models_record_why_training_stopped(datasets):
    model = af.train("autorec", datasets[0], **SMALL["autorec"])
    assert model.fit_info["stopped"] == "epochs" and model.fit_info["epochs"] == 2
    assert model.fit_info["best_epoch"] == model.best_epoch == 2
    model = af.train("autorec", datasets[0], callbacks=[lambda m, e: e["epoch"] < 1], **SMALL["autorec"])
    assert model.fit_info["stopped"] == "callback" and model.fit_info["epochs"] == 1


def test_evaluate_defaults_to_rating_metrics_for_rating_models(datasets):
    train, test = af.random_split(datasets[0], test_fraction=0.2, seed=0)
    for name in sorted(RATING):
        model = af.train(name, train, **SMALL[name])
        res = af.evaluate(model, test)
        assert set(res) == {"rmse", "mae"}
        assert res == af.evaluate(model, test, ["rmse", "mae"])


def test_evaluate_defaults_to_ranking_metrics_for_the_others():
    data = af.synthetic(n_users=150, n_items=120, density=0.1, implicit=True, seed=4)
    split = af.strong_generalization_split(data, n_heldout_users=20, seed=0)
    model = af.train("ease", split.train, l2=10.0)
    res = af.evaluate(model, split.test)
    assert list(res) == list(DEFAULT_METRICS)
    assert res == af.evaluate(model, split.test, DEFAULT_METRICS)
