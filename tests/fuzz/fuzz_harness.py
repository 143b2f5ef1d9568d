"""The fuzz suite's machinery: Hypothesis profiles, the crash-isolating child
process, and the oracle every example goes through.

Each fuzz test (``test_fuzz_*.py``) runs ONE child Python per test function
(``run_in_child``): the child cds to a temporary directory (so it imports the
installed package, never the source tree), enables ``faulthandler``, runs that
test's Hypothesis search in-process and prints a one-line JSON summary. The
parent fails the test when the child dies on a signal (segfault, abort: the
faulthandler traceback is in the failure message), exits non-zero (Hypothesis
found a failing example: its report is in the message), runs past its time
limit (a hang: faulthandler dumps every thread's stack first), or ran fewer
examples than asked.

The oracle (``attempt``): a call either succeeds, and the property then checks
its output, or raises exactly ``ValueError`` / ``TypeError`` (plus, where the
property allows them, ``FloatingPointError``, ``FileNotFoundError``, or
the library's own ``MemoryError``, refusing an absurd size before allocating) with a
non-empty message. NumPy's "Unable to allocate" fails the example: the child runs under
a data-segment limit (``CHILD_MEMORY_LIMIT``) and the library must check sizes first. Any other exception
type, subclasses of the allowed ones included (``IndexError``, ``KeyError``,
``RuntimeError``, ``UnicodeDecodeError``, ``zipfile.BadZipFile``...), fails.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings

FUZZ_DIR = Path(__file__).resolve().parent
PROFILE_ENV = "HYPOTHESIS_PROFILE"
#: examples per test are the test's CI count times this factor
SCALE = {"ci": 1, "nightly": 25}
#: wall-clock limit of one child (one test function's whole search), seconds
CHILD_TIMEOUT = {"ci": 300, "nightly": 3 * 3600}
SUMMARY = "FUZZ-SUMMARY "


def register_profiles():
    common = dict(deadline=None, database=None, print_blob=True,
                  suppress_health_check=list(HealthCheck))
    settings.register_profile("ci", derandomize=True, **common)
    settings.register_profile("nightly", derandomize=False, **common)


def profile_name() -> str:
    name = os.environ.get(PROFILE_ENV, "ci")
    if name not in SCALE:
        raise ValueError(f"{PROFILE_ENV} must be one of {sorted(SCALE)}, got {name!r}")
    return name


# ------------------------------------------------------------------- oracle
OUTCOMES: collections.Counter = collections.Counter()
REJECTED = object()
BASE = (ValueError, TypeError, MemoryError)


def attempt(fn, *args, allowed=BASE, **kwargs):
    """``fn(*args, **kwargs)``, or ``REJECTED`` when it raised one of ``allowed``
    (exact types, non-empty message); anything else propagates and fails the example."""
    try:
        result = fn(*args, **kwargs)
    except BaseException as exc:
        # exact types; a MemoryError must be the library's own refusal ("... needs X GiB but
        # only ..."), raised before allocating, not NumPy's failure to allocate part-way
        if isinstance(exc, MemoryError) and MemoryError in allowed and "Unable to allocate" in str(exc):
            raise AssertionError(
                f"{getattr(fn, '__qualname__', fn)} allocated past the memory limit without "
                f"checking first: {exc!r}") from exc
        if type(exc) not in allowed:
            raise AssertionError(
                f"{getattr(fn, '__qualname__', fn)} raised {type(exc).__module__}.{type(exc).__name__} "
                f"(allowed: {[t.__name__ for t in allowed]}): {exc!r}") from exc
        if not str(exc).strip():
            raise AssertionError(f"{type(exc).__name__} without a message from {fn}") from exc
        OUTCOMES[type(exc).__name__] += 1
        return REJECTED
    OUTCOMES["ok"] += 1
    return result


# ------------------------------------------------------------- child process
_CHILD = """
import faulthandler, json, os, sys
faulthandler.enable()
sys.path.insert(0, {fuzz_dir!r})
import fuzz_harness
fuzz_harness.child_main({module!r}, {prop!r}, {examples!r}, {timeout!r})
"""


def child_main(module: str, prop: str, examples: int, timeout: float):
    """In the child: run ``module.prop`` (a ``@given`` test) for ``examples`` examples."""
    import faulthandler
    import importlib

    faulthandler.dump_traceback_later(timeout, exit=True)  # a hang: every thread's stack, then exit 1
    cap_memory()
    register_profiles()
    name = profile_name()
    settings.load_profile(name)
    test = getattr(importlib.import_module(module), prop)
    n = {"calls": 0}
    inner = test.hypothesis.inner_test

    def counted(*a, **kw):
        n["calls"] += 1
        return inner(*a, **kw)

    test.hypothesis.inner_test = counted
    settings(settings.get_profile(name), max_examples=examples)(test)()
    print(SUMMARY + json.dumps({"examples": n["calls"], "outcomes": dict(OUTCOMES)}), flush=True)


#: the child's data-segment limit (RLIMIT_DATA): an input that makes the library allocate
#: beyond it fails the example with NumPy's MemoryError instead of summoning the OOM
#: killer on the whole machine; the library's own checks read the limit and refuse first
CHILD_MEMORY_LIMIT = 6 << 30


def cap_memory():
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    cap = CHILD_MEMORY_LIMIT if hard == resource.RLIM_INFINITY else min(CHILD_MEMORY_LIMIT, hard)
    if soft == resource.RLIM_INFINITY or soft > cap:
        resource.setrlimit(resource.RLIMIT_DATA, (cap, hard))


def run_in_child(module: str, prop: str, examples: int) -> dict:
    """Run ``module.prop``'s Hypothesis search in a child Python; fail on crash/hang/failure.

    ``examples`` is the CI count; other profiles scale it (``SCALE``).
    """
    import pytest

    name = profile_name()
    n = examples * SCALE[name]
    timeout = CHILD_TIMEOUT[name]
    code = _CHILD.format(fuzz_dir=str(FUZZ_DIR), module=module, prop=prop, examples=n,
                         timeout=timeout)
    env = dict(os.environ, PYTHONFAULTHANDLER="1", OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
    env.pop("PYTHONPATH", None)
    with tempfile.TemporaryDirectory(prefix="autorec_fuzz_") as tmp:
        try:
            proc = subprocess.run([sys.executable, "-c", code], cwd=tmp, env=env, capture_output=True,
                                  text=True, timeout=timeout + 30)
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"{module}.{prop}: child hung past {timeout + 30} s\n{exc.stderr or ''}")
    tail = (proc.stdout[-4000:] + "\n--- stderr ---\n" + proc.stderr[-12000:])
    if proc.returncode < 0:
        pytest.fail(f"{module}.{prop}: child crashed with signal {-proc.returncode}\n{tail}")
    if proc.returncode != 0:
        pytest.fail(f"{module}.{prop}: child exited {proc.returncode}\n{tail}")
    lines = [x for x in proc.stdout.splitlines() if x.startswith(SUMMARY)]
    assert lines, f"{module}.{prop}: no summary from the child\n{tail}"
    summary = json.loads(lines[-1][len(SUMMARY):])
    assert summary["examples"] >= n // 2, f"{module}.{prop}: only {summary['examples']} of {n} examples ran"
    print(f"{module}.{prop}: {summary}")
    return summary
