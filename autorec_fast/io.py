"""Saving and loading fitted models: an .npz of plain arrays plus JSON metadata.

No pickle anywhere: arrays load with ``allow_pickle=False`` and the metadata is
JSON, so loading an untrusted file cannot run code. The metadata carries a
format version; files of a newer format are refused with a clear error.
"""

from __future__ import annotations

import json
import os
import tempfile

import numpy as np

FORMAT = "autorec_fast.model"
FORMAT_VERSION = 1
_META_KEY = "__metadata__"


def save_model(model, path) -> None:
    """Write ``model`` to ``path`` (an .npz file; the suffix is added if missing)."""
    from . import __version__

    arrays, params = model._state()
    for key, arr in arrays.items():
        if key == _META_KEY or not isinstance(arr, np.ndarray) or arr.dtype.hasobject:
            raise TypeError(f"model state {key!r} must be a non-object NumPy array")
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": model.name,
        "library_version": __version__,
        "params": params,
        "arrays": sorted(arrays),
    }
    blob = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    # Written beside the target, flushed to disk, then renamed over it: a save that
    # is killed part-way leaves the previous file at ``path`` intact.
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp",
                               dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **{_META_KEY: blob}, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load(path, *, device: str = "cpu"):
    """Load a model saved with ``model.save(path)``; ``device`` picks where its arrays live."""
    from .models import MODELS

    path = os.fspath(path)
    if not os.path.exists(path) and os.path.exists(path + ".npz"):
        path += ".npz"
    try:
        with np.load(path, allow_pickle=False) as f:
            files = {k: f[k] for k in f.files}
    except ValueError as exc:  # object arrays need pickle: refuse
        raise ValueError(f"{path}: not an autorec_fast model file ({exc})") from None
    if _META_KEY not in files:
        raise ValueError(f"{path}: not an autorec_fast model file (no metadata)")
    try:
        meta = json.loads(files.pop(_META_KEY).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: corrupt metadata ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{path}: not an autorec_fast model file")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(
            f"{path}: format version {version!r} is newer than this autorec_fast reads "
            f"({FORMAT_VERSION}); upgrade the library"
        )
    name = meta.get("model")
    if name not in MODELS:
        raise ValueError(f"{path}: unknown model {name!r}")
    missing = set(meta.get("arrays", [])) - set(files)
    if missing:
        raise ValueError(f"{path}: missing arrays {sorted(missing)}")
    return MODELS[name]._from_state(files, meta.get("params", {}), device)
