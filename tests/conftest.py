"""Shared fixtures: the backends each model's test body runs on, and the real data;
they apply to every folder below (kernels/, models/, data/). This folder is put on
``sys.path`` so that test files can ``import helpers`` (tests/helpers.py).

MovieLens data is never stored in the repository. It is looked up in the
folder named by the ``AUTOREC_FAST_DATA`` environment variable (a folder
containing ``ml-100k/``), else in ``../shared/data`` beside the checkout.
Tests needing it are skipped when it is absent.
"""

import os
import sys
from pathlib import Path

import pytest

from autorec_fast import backends

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/helpers.py


@pytest.fixture(params=["cpu", "cuda"])
def device(request):
    """Every backend: CPU always, CUDA where a device (and CuPy) is present."""
    if request.param == "cuda" and not backends.cuda_available():
        pytest.skip(f"CUDA backend: {backends.cuda_unavailable_reason()}")
    return request.param


def data_root():
    """Folder expected to contain ``ml-100k/`` (env var first, then ../shared/data)."""
    env = os.environ.get("AUTOREC_FAST_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def ml100k_path():
    """Path to MovieLens 100K ``u.data``; skips the test when unavailable."""
    path = data_root() / "ml-100k" / "u.data"
    if not path.is_file():
        pytest.skip(f"MovieLens 100K not found at {path}")
    return path
