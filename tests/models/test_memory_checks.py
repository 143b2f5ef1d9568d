"""Every model refuses, before allocating, work that does not fit in memory, with
a MemoryError naming the sizes (as EASE always did); so do score and recommend."""

import pytest

import autorec_fast as af
from autorec_fast import _memory

OPTIONS = {
    "autorec": dict(hidden=8), "cdae": dict(hidden=8), "multvae": dict(layers=[8, 4]),
    "multdae": dict(layers=[8]), "deeprec": dict(layers=[8]), "ease": dict(l2=1.0),
    "svae": dict(embedding=4, gru=4, hidden=4, latent=2), "bias": dict(), "itemknn": dict(neighbors=5),
}
RATING = {"autorec", "deeprec", "bias"}
NOT_EPOCHS = {"ease", "bias", "itemknn"}  # closed forms and baselines: no epochs option


@pytest.fixture(scope="module")
def data():
    return (af.synthetic(n_users=50, n_items=40, density=0.2, implicit=False, seed=0),
            af.synthetic(n_users=50, n_items=40, density=0.2, implicit=True, seed=0))


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_training_that_does_not_fit_is_refused_up_front(name, data, monkeypatch):
    train = data[0] if name in RATING else data[1]
    extra = {} if name in NOT_EPOCHS else dict(epochs=1)
    monkeypatch.setattr(_memory, "available_bytes", lambda: 1000)
    with pytest.raises(MemoryError, match="needs .* GiB but only"):
        af.train(name, train, **extra, **OPTIONS[name])
    monkeypatch.setattr(_memory, "available_bytes", lambda: None)  # unknown: no check
    af.train(name, train, **extra, **OPTIONS[name])


def test_score_and_recommend_that_do_not_fit_are_refused(data, monkeypatch):
    model = af.train("multdae", data[1], epochs=1, layers=[8])
    monkeypatch.setattr(_memory, "available_bytes", lambda: 10_000)
    with pytest.raises(MemoryError, match="scoring 50 rows x 40 items"):
        model.score(data[1])
    with pytest.raises(MemoryError, match="lower batch_size"):
        model.recommend(data[1], k=5)
    monkeypatch.setattr(_memory, "available_bytes", lambda: 10**12)
    assert model.recommend(data[1], k=5)[0].shape == (50, 5)
