"""Every model's parameters after 2 epochs (float64, fixed seed) equal those the
pre-redesign build produced (stored in tests/models/reference/params_2epochs.npz
by tests/models/reference/make_reference.py): a refactoring must not change results."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent / "reference"))
from cases import CASES, train_case  # noqa: E402

REFERENCE = Path(__file__).parent / "reference" / "params_2epochs.npz"


@pytest.fixture(scope="module")
def reference():
    with np.load(REFERENCE, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


@pytest.mark.parametrize("name", sorted(CASES))
def test_parameters_equal_the_reference(name, reference, tmp_path):
    path = tmp_path / "model.npz"
    train_case(name).save(path)
    expected = {k.split("/", 1)[1]: v for k, v in reference.items() if k.startswith(name + "/")}
    assert expected, f"no reference arrays for {name}"
    with np.load(path, allow_pickle=False) as f:
        got = {k: f[k] for k in f.files if k != "__metadata__" and f[k].dtype.kind == "f"}
    assert sorted(got) == sorted(expected)
    for key, want in expected.items():
        # summation order may differ with the thread count: float64 rounding only
        np.testing.assert_allclose(got[key], want, rtol=1e-9, atol=1e-12, err_msg=f"{name}: {key}")
