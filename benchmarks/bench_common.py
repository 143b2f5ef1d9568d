"""Helpers shared by the benchmark files (imported through the benchmarks folder on sys.path)."""

import os
from pathlib import Path

import pytest

import autorec_fast as af


def ml100k_path() -> Path:
    """``$AUTOREC_FAST_DATA/ml-100k/u.data``, else ``../shared/data/ml-100k/u.data`` beside the
    checkout (the convention of tests/conftest.py)."""
    env = os.environ.get("AUTOREC_FAST_DATA")
    root = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    return root / "ml-100k" / "u.data"


def need_ours(model: str) -> None:
    """Skip with a clear reason when this build of autorec_fast lacks the model."""
    if model not in af.MODELS:
        pytest.skip(f"autorec_fast has no {model!r} model yet (af.MODELS lacks it); "
                    "rebuild with `pip install --no-build-isolation .`")
