"""The documentation builds with warnings as errors (docs/build.sh's command).

Skipped unless the docs extra is installed (``pip install '.[docs]'``); CI's
test command does not install it.
"""

import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_docs_build_without_warnings(tmp_path):
    pytest.importorskip("sphinx", reason="the docs extra is not installed")
    pytest.importorskip("myst_parser", reason="the docs extra is not installed")
    out = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), ".", str(tmp_path / "html")],
        cwd=DOCS, capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert (tmp_path / "html" / "api.html").is_file()
