"""Saving and loading fitted models: an .npz of plain arrays plus JSON metadata.

No pickle anywhere: arrays load with ``allow_pickle=False`` and the metadata is
JSON, so loading an untrusted file cannot run code. The metadata carries a
format version; files of a newer format are refused with a clear error.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import zipfile
import zlib

import numpy as np

from ._memory import require

FORMAT = "autorec_fast.model"
FORMAT_VERSION = 1
_META_KEY = "__metadata__"


def save_model(model, path) -> None:
    """Write ``model`` to ``path`` (an .npz file; the suffix is added if missing)."""
    from . import __version__

    arrays, params = model._state()
    arrays = {**arrays, **model._kept_history_state()}  # fit(..., keep_history=True): the training rows
    for key, arr in arrays.items():
        if isinstance(arr, np.ndarray) and arr.dtype.hasobject and _all_strings(arr):
            arrays[key] = arr = arr.astype(str)  # string ids from a DataFrame (object columns)
        if key == _META_KEY or not isinstance(arr, np.ndarray) or arr.dtype.hasobject:
            raise TypeError(f"model state {key!r} must be a non-object NumPy array")
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": model.name,
        "library_version": __version__,
        "params": params,
        "arrays": sorted(arrays),
        # every model's last fit: kept through load whatever the model's own state holds
        "fit_info": getattr(model, "fit_info", {}) or {},
        "history": getattr(model, "history", []) or [],
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


def _all_strings(arr) -> bool:
    return all(isinstance(v, str) for v in arr.ravel().tolist())


_MAX_METADATA_BYTES = 64 << 20  # the JSON metadata (history included) is small; refuse more
_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


#: what zipfile raises on a corrupt archive; RuntimeError covers its NotImplementedError
#: (a version, compression method or encryption flag flipped in a header) and bad passwords
_ZIP_ERRORS = (zipfile.BadZipFile, EOFError, OSError, zlib.error, RuntimeError)


def _open_members(path):
    """The file's .npy members as {name: (ZipInfo, dtype, shape)} from the zip directory
    and each member's header only: nothing large is decompressed before the sizes are
    known. Raises ValueError naming the file for anything that is not such a container."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such model file")
    if not os.path.isfile(path):  # a FIFO, a device or a folder would block or fail later
        raise ValueError(f"{path}: not a regular file")
    if os.path.getsize(path) == 0:
        raise ValueError(f"{path}: empty file, not an autorec_fast model")
    try:
        zf = zipfile.ZipFile(path)
    except _ZIP_ERRORS as exc:
        raise ValueError(f"{path}: not an autorec_fast model file (not a readable .npz: {exc})") from None
    members = {}
    try:
        for info in zf.infolist():
            if not info.filename.endswith(".npy") or info.is_dir():
                raise ValueError(f"{path}: not an autorec_fast model file (unexpected member {info.filename!r})")
            # save() stores members uncompressed; a member that inflates a thousandfold is
            # a decompression bomb, not model weights (which barely compress)
            if info.file_size > (1 << 20) and info.file_size > 1000 * info.compress_size:
                raise ValueError(f"{path}: member {info.filename!r} would inflate from {info.compress_size} "
                                 f"to {info.file_size} bytes; refused")
            with zf.open(info) as f:
                version = np.lib.format.read_magic(f)
                if version not in _HEADER_READERS:
                    raise ValueError(f"unsupported .npy version {version}")
                shape, _, dtype = _HEADER_READERS[version](f)
            if dtype.hasobject:
                raise ValueError(f"{path}: not an autorec_fast model file: member {info.filename!r} holds "
                                 "Python objects (would need pickle); refused")
            nbytes = dtype.itemsize * math.prod(shape)
            if nbytes > info.file_size:  # the header claims more data than the member holds
                raise ValueError(f"{path}: member {info.filename!r} is truncated or corrupt "
                                 f"({shape} {dtype} in {info.file_size} bytes)")
            members[info.filename[:-4]] = (info, dtype, shape)
    except ValueError as exc:
        zf.close()
        if str(exc).startswith(path):
            raise
        raise ValueError(f"{path}: corrupt member header ({exc})") from None
    except _ZIP_ERRORS as exc:
        zf.close()
        raise ValueError(f"{path}: corrupt model file ({type(exc).__name__}: {exc})") from None
    return zf, members


def _read_member(zf, path, info):
    try:
        with zf.open(info) as f:
            return np.lib.format.read_array(f, allow_pickle=False)
    except (*_ZIP_ERRORS, ValueError) as exc:
        raise ValueError(f"{path}: member {info.filename!r} is corrupt ({type(exc).__name__}: {exc})") from None


def load(path, *, device: str = "cpu"):
    """Load a model saved with ``model.save(path)``; ``device`` picks where its arrays live.

    The file is untrusted input: no pickle, sizes checked from the zip directory and
    the array headers before anything large is read (and against the memory
    available), and every way a file can be wrong is a ValueError naming it."""
    from .models import MODELS

    path = os.fspath(path)
    if not os.path.exists(path) and os.path.exists(path + ".npz"):
        path += ".npz"
    zf, members = _open_members(path)
    with zf:
        if _META_KEY not in members:
            raise ValueError(f"{path}: not an autorec_fast model file (no metadata)")
        info, dtype, shape = members.pop(_META_KEY)
        if dtype != np.uint8 or len(shape) != 1 or shape[0] > _MAX_METADATA_BYTES:
            raise ValueError(f"{path}: corrupt metadata member")
        try:
            meta = json.loads(_read_member(zf, path, info).tobytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise ValueError(f"{path}: corrupt metadata ({type(exc).__name__}: {exc})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError(f"{path}: not an autorec_fast model file")
        version = meta.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= FORMAT_VERSION:
            raise ValueError(f"{path}: format version {version!r} is not one this autorec_fast reads "
                             f"(1 to {FORMAT_VERSION}); a newer file needs a newer library")
        name = meta.get("model")
        if not isinstance(name, str) or name not in MODELS:
            raise ValueError(f"{path}: unknown model {name!r}")
        params, listed = meta.get("params"), meta.get("arrays")
        if not isinstance(params, dict) or not isinstance(listed, list):
            raise ValueError(f"{path}: corrupt metadata (params or arrays missing)")
        missing = {a for a in listed if not isinstance(a, str) or a not in members}
        if missing:
            raise ValueError(f"{path}: missing arrays {sorted(map(str, missing))}")
        total = sum(d.itemsize * math.prod(s) for _, d, s in members.values())
        try:
            require(total, f"loading {path} ({len(members)} arrays)")
        except MemoryError as exc:
            raise ValueError(f"{path}: {exc}; refused before reading") from None
        files = {k: _read_member(zf, path, member[0]) for k, member in members.items()}
    for key, arr in files.items():  # save() writes real, finite arrays only
        if arr.dtype.kind == "c" or (arr.dtype.kind == "f" and not np.isfinite(arr).all()):
            raise ValueError(f"{path}: array {key!r} holds complex or non-finite values")
    fit_info, history = meta.get("fit_info", {}), meta.get("history")
    if not isinstance(fit_info, dict) or not (history is None or (isinstance(history, list) and
                                                               all(isinstance(e, dict) for e in history))):
        raise ValueError(f"{path}: corrupt metadata ('fit_info' must be an object, 'history' a list of objects)")
    kept = {k: files.pop(k) for k in list(files) if k.startswith("kept_history_")}
    try:
        model = MODELS[name]._from_state(files, params, device)
        if kept:
            model._restore_kept_history(kept)
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
        if isinstance(exc, ValueError) and str(exc).startswith(path):
            raise
        raise ValueError(f"{path}: inconsistent {name} model file ({type(exc).__name__}: {exc})") from exc
    model.fit_info = fit_info
    if history is not None:  # files written before it was stored here keep what the model restored
        model.history = history
    return model
