"""Fuzzing the file readers: ``autorec_fast.load`` on mutated model files (truncation,
byte flips, members removed / renamed / replaced / added, altered JSON metadata) and
``load_movielens`` on mutated rating files."""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile

import numpy as np
from hypothesis import given, strategies as st

from fuzz_harness import BASE, REJECTED, attempt, run_in_child

LOAD_ALLOWED = BASE + (FileNotFoundError,)
_SAVED: dict = {}
_TMP = tempfile.mkdtemp(prefix="autorec_fuzz_files_")

_OPTIONS = {"ease": {"l2": 10.0}, "autorec": {"hidden": 2, "epochs": 1}, "deeprec": {"layers": [2], "epochs": 1},
            "cdae": {"hidden": 2, "epochs": 1}, "multvae": {"layers": [2], "epochs": 1},
            "multdae": {"layers": [2], "epochs": 1},
            "svae": {"embedding": 2, "gru": 2, "hidden": 2, "latent": 2, "epochs": 1, "next_k": 1},
            "popularity": {}, "bias": {"iterations": 3}, "itemknn": {"neighbors": 2}}


def _saved(name):
    """(file bytes, model, history) of a tiny fitted model, trained once per child."""
    if name not in _SAVED:
        import autorec_fast as af

        rng = np.random.default_rng(0)
        users = np.repeat(np.arange(4), 3)
        items = np.r_[0, 1, 2, 1, 2, 3, 0, 3, 4, 2, 4, 0]
        data = af.Interactions.from_arrays(users, items, rng.integers(1, 6, 12).astype(float), np.arange(12))
        model = af.train(name, data, **_OPTIONS[name])
        path = os.path.join(_TMP, f"{name}.npz")
        model.save(path)
        with open(path, "rb") as f:
            blob = f.read()
        history = data if name == "svae" else data.matrix
        _SAVED[name] = blob, model, history
    return _SAVED[name]


def _members(blob):
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _zip(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for k, v in members.items():
            zf.writestr(k, v)
    return buf.getvalue()


def _npy(arr):
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    return buf.getvalue()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 2**70) | st.floats() | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6)


@st.composite
def mutated_model_file(draw):
    name = draw(st.sampled_from(sorted(_OPTIONS)))
    blob, _, _ = _saved(name)
    kind = draw(st.sampled_from(["truncate", "flip", "flip", "member", "meta", "meta", "garbage", "none"]))
    if kind == "truncate":
        return name, kind, blob[: draw(st.integers(0, len(blob) - 1))]
    if kind == "flip":
        out = bytearray(blob)
        for _ in range(draw(st.integers(1, 4))):
            out[draw(st.integers(0, len(out) - 1))] ^= draw(st.integers(1, 255))
        return name, kind, bytes(out)
    if kind == "garbage":
        return name, kind, draw(st.binary(max_size=64))
    if kind == "none":
        return name, kind, blob
    members = _members(blob)
    meta = json.loads(np.load(io.BytesIO(members["__metadata__.npy"])).tobytes())
    if kind == "meta":
        target = draw(st.sampled_from(["top", "params"]))
        d = meta if target == "top" else meta["params"]
        key = draw(st.sampled_from(sorted(d) + ["extra"]))
        if draw(st.booleans()) and key in d:
            del d[key]
        else:
            d[key] = draw(JSON_VALUES | st.sampled_from([[], {}, -1, 0, 10**6, 2**40, "float16", "svae", 1.5]))
        text = json.dumps(meta) if draw(st.integers(0, 9)) else draw(st.sampled_from(['[', '{"a": 1e999}',
                                                                                      '[' * 100000, '\xff']))
        members["__metadata__.npy"] = _npy(np.frombuffer(text.encode("utf-8", "surrogatepass"), np.uint8))
        return name, kind, _zip(members)
    # member-level changes
    key = draw(st.sampled_from(sorted(members)))
    op = draw(st.sampled_from(["drop", "rename", "replace", "add", "object", "dtype", "shape"]))
    if op == "drop":
        del members[key]
    elif op == "rename":
        members[draw(st.sampled_from(["x.npy", "dir/", "x.txt", key + ".npy"]))] = members.pop(key)
    elif op == "replace":
        members[key] = draw(st.binary(max_size=200))
    elif op == "add":
        members[draw(st.sampled_from(["extra.npy", "extra.bin"]))] = _npy(np.zeros(3))
    else:
        arr = np.load(io.BytesIO(members[key]))
        if op == "object":
            arr = np.array([None, 1], dtype=object)
        elif op == "dtype":
            arr = arr.astype(draw(st.sampled_from([np.float16, np.int8, np.complex64, np.float64, "U3", bool])))
        else:
            arr = draw(st.sampled_from([arr.reshape(-1), arr[..., :1], np.zeros((0,) + arr.shape[1:], arr.dtype),
                                        np.zeros((1,) * 3, arr.dtype), np.full(arr.shape, np.nan), arr.T]))
        members[key] = _npy(np.ascontiguousarray(arr) if arr.dtype != object else arr)
    return name, kind, _zip(members)


def _infer(model, history):
    """Scores (users x items) of the training users: ``score``, or ``predict`` of every pair."""
    if model.predicts_ratings:
        users, items = np.divmod(np.arange(history.shape[0] * model.n_items), model.n_items)
        return model.predict(users, items, unknown="default").reshape(history.shape[0], model.n_items)
    return np.asarray(model.score(history))


@given(mutated_model_file(), st.sampled_from(["file.npz"] * 4 + ["file", "missing.npz"]))
def prop_load(case, filename):
    import autorec_fast as af

    name, kind, blob = case
    path = os.path.join(_TMP, filename)
    if filename != "missing.npz":
        with open(path, "wb") as f:
            f.write(blob)
    model = attempt(af.load, path, allowed=LOAD_ALLOWED)
    if model is REJECTED:
        return
    _, original, history = _saved(name)
    assert type(model) is type(original) and model.n_items == original.n_items
    # a model that loads must score (rating models: predict): no crash, the right shape, finite values
    S = attempt(_infer, model, history)
    assert S is not REJECTED, "a loaded model cannot score a valid history"
    assert S.shape == (history.shape[0], model.n_items)
    if kind == "none":
        np.testing.assert_array_equal(S, _infer(original, history))
    elif not np.isfinite(S).all():
        raise AssertionError("load accepted a model file whose scores are not finite")


LINES = {
    "u.data": ["1\t10\t5\t881250949", "2\t10\t3\t891717742", "1\t20\t4\t878887116", "3\t30\t1\t880606923"],
    "ratings.dat": ["1::10::5::978300760", "2::10::3::978302109", "1::20::4::978301968"],
    "ratings.csv": ["userId,movieId,rating,timestamp", "1,10,4.0,1112486027", "2,10,3.5,1112484676",
                    "1,20,0.5,1112484819"],
    "ratings.txt": ["1\t10\t5\t881250949", "2\t10\t3\t891717742"],
}
TOKENS = [b"\t", b"::", b",", b"\n", b"\r\n", b"nan", b"inf", b"-1", b"1e400", b"99999999999999999999", b"1.5",
          b" ", b"\x00", b"\xff", b"userId", b"0x10", b"", b"--", b"1e5", b"-0"]


@given(st.sampled_from(sorted(LINES)), st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(TOKENS),
                                                          st.sampled_from(["insert", "replace", "delete"])),
                                                max_size=4),
       st.none() | st.sampled_from([0, 3, 4.5, np.nan, "4", True, 10]), st.booleans(), st.booleans())
def prop_load_movielens(filename, edits, min_rating, binarize, as_dir):
    import autorec_fast as af

    raw = bytearray("\n".join(LINES[filename]).encode() + b"\n")
    for pos, token, op in edits:
        pos = pos % (len(raw) + 1)
        if op == "insert":
            raw[pos:pos] = token
        elif op == "replace":
            raw[pos:pos + len(token) or pos + 1] = token
        else:
            del raw[pos:pos + 3]
    folder = tempfile.mkdtemp(dir=_TMP)
    path = os.path.join(folder, filename)
    with open(path, "wb") as f:
        f.write(bytes(raw))
    inter = attempt(af.load_movielens, folder if as_dir else path, min_rating=min_rating, binarize=binarize,
                    allowed=LOAD_ALLOWED)
    os.unlink(path)
    os.rmdir(folder)
    if inter is REJECTED:
        return
    from test_fuzz_data import check_interactions

    check_interactions(inter)
    assert inter.nnz <= raw.count(b"\n") + 1
    assert np.issubdtype(inter.user_ids.dtype, np.integer) and np.issubdtype(inter.item_ids.dtype, np.integer)
    if min_rating is not None and not binarize:
        assert (inter.matrix.data >= np.float32(min_rating)).all()


def test_fuzz_load_model_files():
    run_in_child(__name__.rpartition(".")[2], "prop_load", 1200)


def test_fuzz_load_movielens():
    run_in_child(__name__.rpartition(".")[2], "prop_load_movielens", 800)
