"""Fixtures of the split tests (test_splits_*.py): ``data``, 3000 random entries
(non-contiguous user ids, many timestamp ties), and ``legacy_rng_guard``."""

import numpy as np
import pytest

from autorec_fast.interactions import Interactions


@pytest.fixture
def data():
    rng = np.random.default_rng(5)
    n = 3000
    users = rng.integers(0, 120, n) * 3 + 1
    items = rng.integers(0, 200, n)
    ts = rng.integers(0, 50, n)  # many timestamp ties on purpose
    return Interactions.from_arrays(users, items, rng.integers(1, 6, n).astype(float), ts)


@pytest.fixture
def legacy_rng_guard():
    """Save and restore the global legacy numpy RNG around a test."""
    state = np.random.get_state()
    yield
    np.random.set_state(state)
