"""The layering the redesign set up, checked on the source: models stand on their
own (no model module imports another), never branch on the device and never
call the compiled extensions; only ``autorec_fast/backends/`` does."""

import ast
from pathlib import Path

import pytest

# the source tree beside the tests (the installed copy has no csrc/)
ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "autorec_fast"
MODELS = sorted(p for p in (PACKAGE / "models").glob("*.py") if not p.name.startswith("_") and p.name not in
                ("base.py", "__init__.py"))
MODEL_NAMES = {p.stem for p in MODELS}


def imports_of(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            yield node.level, node.module or "", [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield 0, a.name, []


def test_the_models_are_found():
    assert {"autorec", "bias", "cdae", "deeprec", "ease", "itemknn", "multvae", "popularity", "svae"} <= MODEL_NAMES


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_no_model_imports_another_model(path):
    for level, module, names in imports_of(path):
        if level == 1:  # from .x import ...
            assert module not in MODEL_NAMES, f"{path.name} imports models/{module}.py"
            assert not (module == "" and set(names) & MODEL_NAMES), f"{path.name} imports {names}"


@pytest.mark.parametrize("path", sorted((PACKAGE / "models").glob("*.py")), ids=lambda p: p.name)
def test_models_do_not_touch_devices_or_extensions(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value == "cuda":
            pytest.fail(f"{path.name}:{node.lineno}: a device branch ('cuda') inside models/")
        if isinstance(node, (ast.Name, ast.Attribute)):
            name = node.id if isinstance(node, ast.Name) else node.attr
            assert name not in ("_cpu", "_cuda", "cupy", "cp"), f"{path.name}:{node.lineno}: {name}"
    for _level, module, names in imports_of(path):
        assert "cupy" not in module and "_cpu" not in names and "_cuda" not in names, path.name


def test_only_the_backends_call_the_extensions():
    for path in PACKAGE.rglob("*.py"):
        if "backends" in path.parts or path.name.endswith(".pyi"):
            continue
        source = path.read_text()
        for needle in ("_cpu.", "_cuda."):
            assert needle not in source, f"{path.relative_to(PACKAGE)} calls {needle[:-1]} directly"


def test_one_epoch_loop_in_the_package():
    loops = [p.relative_to(PACKAGE) for p in PACKAGE.rglob("*.py") if "for epoch in" in p.read_text()]
    assert [str(p) for p in loops] == ["models/_training.py"]


def test_no_source_file_over_600_lines():
    sources = [*PACKAGE.rglob("*.py"), *(ROOT / "csrc").rglob("*.c*"), *(ROOT / "csrc").rglob("*.h")]
    long = {str(p.relative_to(ROOT)): n for p in sources if (n := len(p.read_text().splitlines())) > 600}
    assert not long, long


def test_the_core_never_imports_the_distributed_layer():
    """``autorec_fast.distributed`` (Dask) is an optional extra: nothing outside it
    imports it or Dask, and ``import autorec_fast`` loads neither."""
    import subprocess
    import sys

    for path in PACKAGE.rglob("*.py"):
        if "distributed" in path.relative_to(PACKAGE).parts:
            continue
        for _level, module, names in imports_of(path):
            bad = module.split(".")[0] in ("dask", "distributed") or "distributed" in module.split(".") \
                or "distributed" in names
            assert not bad, f"{path.relative_to(PACKAGE)} imports {module or names}"
    code = "import sys, autorec_fast; print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT.parent, check=True)
    assert out.stdout.strip() == "[]", out.stdout
