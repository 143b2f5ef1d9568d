"""README.md stays true: its Python examples run, and CI runs its commands.

``test_readme_examples_run`` executes every fenced ```python block of README.md
in order, in one fresh namespace (later examples use names the earlier ones
define, as a reader would), from an empty temporary folder (``model.save``
writes there). The examples are written to run as they stand, on
``af.synthetic("ml-100k")`` data; the one thing this test changes is the length
of training: ``af.train`` is wrapped so that every model that trains for a
number of epochs trains for at most ``MAX_EPOCHS`` (the examples' own values,
up to 200 epochs, would take minutes).

A block whose first line is a marker comment is treated specially:

* ``# readme-test: skip <reason>``: never run;
* ``# readme-test: requires cuda``: run only where ``af.cuda_available()``;
* ``# readme-test: requires <module>``: run only where that module imports
  (e.g. ``matplotlib`` for ``plot_history``, drawn with the Agg backend).

A skipped block must not define names that later blocks use.
"""

import importlib.util
import inspect
import re
import shlex
import sys
from pathlib import Path

import autorec_fast as af

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CI_RUN = ROOT / ".ci" / "run"
MAX_EPOCHS = 1  # SVAE: ~4-9 s per epoch on the ML-100K shape on 2 cores

_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
_MARKER = re.compile(r"#\s*readme-test:\s*(skip|requires)\b\s*(.*)")


def code_blocks(text, language):
    """``(first code line number, code)`` of each fenced block in ``language``."""
    return [
        (text.count("\n", 0, m.start(2)) + 1, m.group(2))
        for m in _FENCE.finditer(text)
        if m.group(1) == language
    ]


def block_marker(code):
    """``(kind, argument)`` of the block's marker comment, or ``None``."""
    first = code.lstrip("\n").split("\n", 1)[0].strip()
    if not first.startswith("#") or "readme-test" not in first:
        return None
    m = _MARKER.fullmatch(first)
    assert m, f"malformed README test marker: {first!r}"
    return m.group(1), m.group(2).strip()


def why_not_run(marker):
    """Reason to leave a block out here, or ``None`` to run it."""
    if marker is None:
        return None
    kind, arg = marker
    if kind == "skip":
        return f"marked skip: {arg}"
    if arg == "cuda":
        return None if af.cuda_available() else "needs a CUDA device"
    return None if importlib.util.find_spec(arg) is not None else f"needs {arg}"


def _capped_train(original):
    def train(model, data, **params):
        cls = af.MODELS[model.lower()] if isinstance(model, str) else model
        default = inspect.signature(cls).parameters.get("epochs")
        if default is not None:
            epochs = params.get("epochs", default.default)
            params["epochs"] = MAX_EPOCHS if epochs == "auto" else min(epochs, MAX_EPOCHS)
        return original(model, data, **params)

    return train


def test_readme_has_python_examples():
    blocks = code_blocks(README.read_text(encoding="utf-8"), "python")
    assert len(blocks) >= 5
    for _, code in blocks:
        block_marker(code)  # every marker is well formed


def test_readme_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setattr(af, "train", _capped_train(af.train))
    namespace = {"__name__": "readme"}
    ran = 0
    for line, code in code_blocks(README.read_text(encoding="utf-8"), "python"):
        if why_not_run(block_marker(code)) is not None:
            continue
        # padded so that a traceback names the README's own line numbers
        exec(compile("\n" * (line - 1) + code, str(README), "exec"), namespace)
        ran += 1
    assert ran >= 5
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib.pyplot as plt

        plt.close("all")


def _bash_block_after(text, heading):
    """The single command of the first ```bash block after ``heading``."""
    start = text.index(heading)
    (_, code), *_ = code_blocks(text[start:], "bash")
    lines = [ln.strip() for ln in code.strip().splitlines()]
    assert len(lines) == 1, f"{heading}: expected one command, got {lines}"
    return lines[0]


def test_ci_runs_the_readme_install_and_test_commands():
    """.ci/run copies README's install and test commands, so CI tests what the README says."""
    text = README.read_text(encoding="utf-8")
    install = _bash_block_after(text, "**Install**")
    tests = _bash_block_after(text, "**Tests**")
    ci = [ln.strip() for ln in CI_RUN.read_text(encoding="utf-8").splitlines()]
    commands = [ln for ln in ci if ln and not ln.startswith("#")]
    assert install in commands and tests in commands
    assert commands.index(install) < commands.index(tests)
    # the test command builds nothing: the extension is compiled once, by the install
    assert "pip" not in shlex.split(tests)
