"""Shared fixtures: the backends to run each model's test body on, and the real data."""

import os
from pathlib import Path

import pytest

from autorec_fast import _backend

DEVICES = ["cpu"] + (["cuda"] if _backend.cuda_available() else [])


@pytest.fixture(params=["cpu", "cuda"])
def device(request):
    """Every backend: CPU always, CUDA where a device (and CuPy) is present."""
    if request.param == "cuda" and not _backend.cuda_available():
        pytest.skip(f"CUDA backend: {_backend.cuda_unavailable_reason()}")
    return request.param
