"""The one training loop (models/_training.py), on every gradient-trained model:
callbacks, early stop, the non-finite-loss check, restoring the best epoch."""

import numpy as np
import pytest

import autorec_fast as af
from helpers import GRADIENT_SMALL, data_for, small_datasets

SMALL = GRADIENT_SMALL


@pytest.fixture(scope="module")
def datasets():
    return small_datasets()


@pytest.mark.parametrize("name", sorted(SMALL))
def test_callback_sees_every_epoch_and_can_stop(name, datasets):
    seen = []

    def callback(model, entry):
        seen.append((model, entry))
        return entry["epoch"] == 2

    model = af.train(name, data_for(name, datasets), epochs=5, callback=callback, **SMALL[name])
    assert [e["epoch"] for _, e in seen] == [1, 2]
    assert all(m is model for m, _ in seen)
    assert [h["epoch"] for h in model.history] == [1, 2]
    assert model.best_epoch == 2  # without validation: the last epoch
    assert all(np.isfinite(h["loss"]) and h["seconds"] >= 0 for h in model.history)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_callback_must_be_callable(name, datasets):
    with pytest.raises(TypeError, match="callback"):
        af.train(name, data_for(name, datasets), epochs=1, callback=3, **SMALL[name])


def test_diverging_training_raises_instead_of_returning_nan(datasets):
    ratings = datasets[0]
    with pytest.raises(FloatingPointError, match="diverged"):
        af.train("autorec", ratings, epochs=5, optimizer="sgd", lr=1e6, hidden=8, batch_size=16)


def test_best_epoch_parameters_are_restored(datasets):
    """With validation the parameters after training are those of the best epoch:
    evaluating them reproduces the best validation score exactly."""
    train, val = af.random_split(datasets[0], 0.2, seed=3)
    model = af.train("autorec", train, validation=val, epochs=12, lr=0.05, hidden=16, batch_size=8, seed=1)
    best = min(h["val_rmse"] for h in model.history)
    assert model.history[model.best_epoch - 1]["val_rmse"] == best
    assert af.evaluate(model, val, ["rmse"])["rmse"] == pytest.approx(best, rel=1e-6)


def test_divergence_can_stop_with_the_last_finite_epoch(datasets):
    """on_divergence="stop": a warning, training ends, and the parameters are those
    after the last finite epoch (bit for bit: a callback copies them each epoch)."""
    ratings = datasets[0]
    kept = {}

    def remember(model, entry):
        kept[entry["epoch"]] = [p.copy() for p in model._parameters()]

    options = dict(epochs=30, optimizer="sgd", lr=0.3, hidden=8, batch_size=16, seed=0)  # NaN after ~6 epochs
    with pytest.warns(RuntimeWarning, match="diverged.*stopped with the parameters of epoch"):
        model = af.train("autorec", ratings, on_divergence="stop", callback=remember, **options)
    last = model.best_epoch
    assert not np.isfinite(model.history[-1]["loss"]) and len(model.history) == last + 1
    assert all(np.isfinite(h["loss"]) for h in model.history[:-1])
    if last == 0:  # diverged in the first epoch: nothing to keep is an error, not a NaN model
        pytest.fail("use a learning rate that diverges after the first epoch")
    for got, want in zip(model._parameters(), kept[last]):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(FloatingPointError, match="diverged"):
        af.train("autorec", ratings, **options)
    with pytest.raises(ValueError, match="on_divergence"):
        af.train("autorec", ratings, on_divergence="ignore", **options)


def test_divergence_with_validation_keeps_the_best_finite_epoch(datasets):
    train, val = af.random_split(datasets[0], 0.2, seed=3)
    options = dict(epochs=30, optimizer="sgd", lr=0.3, hidden=8, batch_size=16, seed=0)  # NaN after ~6 epochs
    with pytest.warns(RuntimeWarning, match="diverged"):
        model = af.train("autorec", train, validation=val, on_divergence="stop", **options)
    finite = [h for h in model.history if np.isfinite(h["loss"])]
    best = min(h["val_rmse"] for h in finite)
    assert model.history[model.best_epoch - 1]["val_rmse"] == best
    assert af.evaluate(model, val, ["rmse"])["rmse"] == pytest.approx(best, rel=1e-6)


def test_auto_annealing_reaches_the_cap_at_80_percent_of_the_run(monkeypatch):
    """anneal_steps="auto": β rises linearly to beta_cap over 80 % of the run's batches,
    whatever the data's size; a fixed anneal_steps keeps the reference's formula."""
    from autorec_fast.models import _training
    from autorec_fast.models.multvae import MultVAE

    seen = []
    original = _training.kl_weight

    def spy(beta_cap, anneal_steps, ts):
        beta = original(beta_cap, anneal_steps, ts)
        seen.append((ts.step, ts.total_batches, beta))
        return beta

    monkeypatch.setattr("autorec_fast.models.multvae.kl_weight", spy)
    data = af.synthetic(n_users=50, n_items=30, density=0.2, implicit=True, seed=1)
    af.train("multvae", data, layers=[8, 4], batch_size=16, epochs=5, beta_cap=0.3)
    steps, totals, betas = map(np.array, zip(*seen))
    assert (totals == 5 * 4).all() and steps.tolist() == list(range(1, 21))  # 50 users: 4 batches
    np.testing.assert_allclose(betas, 0.3 * np.minimum(1, steps / 16))
    assert betas[-1] == 0.3 and betas[14] < 0.3
    seen.clear()
    af.train("multvae", data, layers=[8, 4], batch_size=16, epochs=2, beta_cap=0.3, anneal_steps=100)
    np.testing.assert_allclose([b for *_, b in seen], np.minimum(0.3, np.arange(1, 9) / 100))
    with pytest.raises(ValueError, match="anneal_steps must be 'auto' or a positive integer"):
        MultVAE(anneal_steps="fast")
    with pytest.raises(ValueError, match="anneal_steps"):
        MultVAE(anneal_steps=0)
