"""Store every reference case's saved arrays (see cases.py). Run from outside the
source tree with the installed build: python tests/models/reference/make_reference.py"""

import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cases import CASES, train_case  # noqa: E402

out = {}
with tempfile.TemporaryDirectory() as tmp:
    for name in CASES:
        path = os.path.join(tmp, name + ".npz")
        train_case(name).save(path)
        with np.load(path, allow_pickle=False) as f:
            for key in f.files:
                if key != "__metadata__" and f[key].dtype.kind == "f":
                    out[f"{name}/{key}"] = f[key]
target = os.path.join(os.path.dirname(os.path.abspath(__file__)), "params_2epochs.npz")
np.savez_compressed(target, **out)
print(f"{len(out)} arrays -> {target} ({os.path.getsize(target)} bytes)")
