"""Loading a model file is loading untrusted input: every malformed file is a
ValueError naming the file (never BadZipFile, KeyError, RecursionError, a hang
or a huge allocation), and a good file still loads."""

import json
import os
import zipfile

import numpy as np
import pytest

import autorec_fast as af


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """One saved model of each kind: {name: path}."""
    root = tmp_path_factory.mktemp("models")
    ratings = af.synthetic(n_users=40, n_items=30, density=0.25, implicit=False, seed=0)
    implicit = af.synthetic(n_users=40, n_items=30, density=0.25, implicit=True, seed=1)
    models = {"ease": af.train("ease", implicit, l2=10.0),
              "autorec": af.train("autorec", ratings, epochs=1, hidden=4),
              "deeprec": af.train("deeprec", ratings, epochs=1, layers=[4]),
              "multvae": af.train("multvae", implicit, epochs=1, layers=[6, 3]),
              "cdae": af.train("cdae", implicit, epochs=1, hidden=4),
              "popularity": af.train("popularity", implicit),
              "bias": af.train("bias", ratings, iterations=3),
              "itemknn": af.train("itemknn", implicit, neighbors=5)}
    paths = {}
    for name, model in models.items():
        model.save(root / name)
        paths[name] = root / f"{name}.npz"
    return paths


def members(path):
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def rewrite(path, target, **changes):
    files = members(path)
    files.update(changes)
    np.savez(target, **{k: v for k, v in files.items() if v is not None})
    return target


def meta_blob(meta):
    return np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)


@pytest.mark.parametrize("name", ["ease", "autorec", "deeprec", "multvae", "cdae", "popularity", "bias", "itemknn"])
def test_good_files_load(saved, name):
    assert type(af.load(saved[name])).__name__.lower().startswith(name[:4])


def test_truncated_and_bit_flipped_files(saved, tmp_path):
    raw = saved["autorec"].read_bytes()
    rng = np.random.default_rng()
    for cut in (10, len(raw) // 3, len(raw) - 30):
        p = tmp_path / f"cut{cut}.npz"
        p.write_bytes(raw[:cut])
        with pytest.raises(ValueError, match=str(p)):
            af.load(p)
    for _ in range(20):  # flipped bytes: an error naming the file, or (rarely) a file that still loads
        b = bytearray(raw)
        for pos in rng.integers(0, len(b), 3):
            b[pos] ^= 0xFF
        p = tmp_path / "flipped.npz"
        p.write_bytes(bytes(b))
        try:
            af.load(p)
        except ValueError as exc:
            assert str(p) in str(exc)


def test_not_a_model_file(tmp_path):
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    npy = tmp_path / "plain.npy"
    np.save(npy, np.arange(3))
    text = tmp_path / "text.npz"
    with zipfile.ZipFile(text, "w") as z:
        z.writestr("readme.txt", "hello")
    for path in (empty, npy, text, tmp_path):
        with pytest.raises(ValueError, match="not"):
            af.load(path)
    with pytest.raises(FileNotFoundError):
        af.load(tmp_path / "absent.npz")


def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="not a regular file"):
        af.load(fifo)


def test_bad_metadata(saved, tmp_path):
    good = json.loads(members(saved["ease"])["__metadata__"].tobytes())
    deep = "[" * 100_000 + "]" * 100_000
    cases = {
        "params": {**good, "params": {}},
        "params_type": {**good, "params": "x"},
        "version_neg": {**good, "format_version": -7},
        "version_bool": {**good, "format_version": True},
        "model": {**good, "model": ["ease"]},
        "arrays": {**good, "arrays": "weights"},
        "missing": {**good, "arrays": good["arrays"] + ["nothing"]},
    }
    for label, meta in cases.items():
        p = rewrite(saved["ease"], tmp_path / f"{label}.npz", __metadata__=meta_blob(meta))
        with pytest.raises(ValueError, match=str(p)):
            af.load(p)
    p = rewrite(saved["ease"], tmp_path / "deep.npz", __metadata__=np.frombuffer(deep.encode(), np.uint8))
    with pytest.raises(ValueError, match="metadata"):
        af.load(p)


def test_contradicting_arrays(saved, tmp_path):
    ar = members(saved["autorec"])
    cases = {
        "ids": (saved["ease"], dict(item_ids=np.arange(3))),
        "indptr": (saved["autorec"], dict(inputs_indptr=np.r_[ar["inputs_indptr"][:3], 10**6,
                                                               ar["inputs_indptr"][4:]])),
        "targets": (saved["autorec"], dict(targets_indices=ar["targets_indices"] + 10**6)),
        "weights": (saved["ease"], dict(weights=np.zeros((3, 4), np.float32))),
        "params": (saved["autorec"], dict(W=ar["W"][:-1])),
        "counts": (saved["popularity"], dict(counts=np.r_[1, 2, -1])),
        "user_bias": (saved["bias"], dict(user_bias=np.zeros(3))),
        "item_bias": (saved["bias"], dict(item_bias=np.zeros(30, np.int64))),
        "knn_indices": (saved["itemknn"], dict(similarity_indices=members(saved["itemknn"])["similarity_indices"]
                                               + 10**6)),
        "knn_self": (saved["itemknn"], dict(similarity_indptr=np.arange(31), similarity_indices=np.arange(30),
                                            similarity_data=np.ones(30, np.float32))),
    }
    for label, (source, change) in cases.items():
        p = rewrite(source, tmp_path / f"{label}.npz", **change)
        with pytest.raises(ValueError, match=str(p)):
            af.load(p)


def test_sizes_are_checked_before_reading(saved, tmp_path):
    """A small file whose array header claims a huge array is refused from the
    headers, before anything is decompressed or allocated."""
    p = tmp_path / "huge.npz"
    files = members(saved["ease"])
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for key, arr in files.items():
            with z.open(key + ".npy", "w") as f:
                if key == "weights":  # a header for 2.5M x 2.5M floats over a few bytes of data
                    np.lib.format.write_array_header_1_0(
                        f, {"descr": "<f4", "fortran_order": False, "shape": (2_500_000, 2_500_000)})
                    f.write(b"\\0" * 64)
                else:
                    np.lib.format.write_array(f, arr)
    assert os.path.getsize(p) < 100_000
    with pytest.raises(ValueError, match="truncated|memory"):
        af.load(p)


def test_decompression_bombs_are_refused_from_the_zip_directory(saved, tmp_path):
    p = tmp_path / "bomb.npz"
    files = members(saved["ease"])
    n = 4000  # 64 MB of zeros deflate to ~60 KB
    files["weights"] = np.zeros((n, n), np.float32)
    np.savez_compressed(p, **files)
    assert os.path.getsize(p) < 1_000_000
    with pytest.raises(ValueError, match="inflate"):
        af.load(p)


def test_a_save_killed_at_any_point_leaves_a_loadable_model(tmp_path):
    """SIGKILL a process that saves a 36 MB model over and over at random moments:
    the file at the path always loads (the previous or the new model, never a torn one)."""
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "model.npz"
    script = (
        "import numpy as np, autorec_fast as af, sys\n"
        "m = af.EASE(l2=1.0)\n"
        "n = 3000\n"
        "m.weights, m.n_items, m.item_ids = np.zeros((n, n), np.float32), n, np.arange(n)\n"
        f"m.save({str(path)!r})\n"
        "print('ready', flush=True)\n"
        "for i in range(10**6):\n"
        "    m.weights[0, 0] = i\n"
        f"    m.save({str(path)!r})\n"
    )
    rng = np.random.default_rng()
    for _ in range(6):
        with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              cwd=tmp_path) as proc:
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.0, 0.4))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        model = af.load(path)
        assert model.weights.shape == (3000, 3000) and model.weights[1:, :].max() == 0
