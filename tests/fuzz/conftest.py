"""Fuzz-suite setup: this folder on ``sys.path`` (``import fuzz_harness``) and the
Hypothesis profiles ("ci" by default, ``HYPOTHESIS_PROFILE=nightly`` for the long run)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fuzz_harness  # noqa: E402

fuzz_harness.register_profiles()
