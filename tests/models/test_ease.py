"""EASE against the NumPy float64 formula of REFERENCE.md, on every available backend.
(The kernel stages one by one: tests/kernels/test_ease_kernels.py.)"""

import os
import tempfile

import numpy as np
import pytest
import scipy.sparse as sp
from helpers import ease_reference, random_interactions

import autorec_fast as af


def to_host(a):
    return a.get() if hasattr(a, "get") else np.asarray(a)


TOL = {"float32": dict(rtol=2e-3, atol=2e-4), "float64": dict(rtol=1e-9, atol=1e-11)}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("ratings", [False, True])
def test_weights_match_numpy_formula(device, dtype, ratings):
    rng = np.random.default_rng()
    X = random_interactions(rng, 300, 80, 0.08, ratings)
    l2 = float(rng.uniform(5, 50))
    model = af.train("ease", X, l2=l2, dtype=dtype, device=device)
    B = to_host(model.weights)
    assert B.dtype == np.dtype(dtype) and B.shape == (80, 80)
    np.testing.assert_allclose(B, ease_reference(X, l2), **TOL[dtype])
    assert np.all(np.diag(B) == 0)
    # the in-place inverse (LAPACK; on the GPU cuSOLVER's potri, reached through ctypes)
    assert "potrf+potri" in model.fit_info["inverse"], model.fit_info


def test_edge_cases_empty_rows_empty_item_duplicates(device):
    rng = np.random.default_rng()
    X = random_interactions(rng, 50, 30, 0.15).tolil()
    X[5, :] = 0  # a user with no interactions
    X[:, 7] = 0  # an item nobody interacted with
    X = X.tocsr()
    X.eliminate_zeros()
    # the same (user, item) entered twice: scipy sums duplicates, so does the reference
    coo = X.tocoo()
    dup = sp.coo_matrix((np.r_[coo.data, [1.0, 1.0]], (np.r_[coo.row, [0, 0]], np.r_[coo.col, [3, 3]])),
                        shape=X.shape)
    model = af.train("ease", dup, l2=10.0, dtype="float64", device=device)
    np.testing.assert_allclose(to_host(model.weights), ease_reference(dup.tocsr(), 10.0), rtol=1e-9, atol=1e-12)
    # the empty item gets no weight in either direction
    assert np.all(to_host(model.weights)[7] == 0) and np.all(to_host(model.weights)[:, 7] == 0)


def test_single_item(device):
    X = sp.csr_matrix(np.ones((4, 1)))
    model = af.train("ease", X, l2=1.0, device=device)
    assert to_host(model.weights).shape == (1, 1) and to_host(model.weights)[0, 0] == 0


def test_not_positive_definite_is_a_clear_error():
    # Two identical columns: G is exactly singular in float32 once λ vanishes in rounding.
    X = sp.csr_matrix(np.ones((4, 2)))
    with pytest.raises(ValueError, match="l2.*positive definite"):
        af.train("ease", X, l2=1e-30, dtype="float32")


@pytest.mark.parametrize("l2", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_l2(l2):
    with pytest.raises(ValueError, match="l2"):
        af.train("ease", sp.csr_matrix(np.eye(3)), l2=l2)


def test_bad_arguments():
    X = sp.csr_matrix(np.eye(3))
    with pytest.raises(TypeError, match="l2"):
        af.train("ease", X, l2="big")
    with pytest.raises(ValueError, match="dtype"):
        af.train("ease", X, dtype="float16")
    with pytest.raises(ValueError, match="device"):
        af.train("ease", X, device="tpu")
    with pytest.raises(ValueError, match="unknown model"):
        af.train("ease2", X)
    with pytest.raises(ValueError, match="unknown option.*lambda_"):
        af.train("ease", X, lambda_=3.0)
    with pytest.raises(ValueError, match="NaN"):
        af.train("ease", sp.csr_matrix(np.array([[1.0, np.nan], [0.0, 1.0]])))
    with pytest.raises(ValueError):
        af.train("ease", sp.csr_matrix((3, 4)))  # no interactions


def test_cuda_unavailable_is_a_clear_error():
    if af.cuda_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(RuntimeError, match="cuda"):
        af.train("ease", sp.csr_matrix(np.eye(3)), device="cuda")


def test_memory_check_names_the_size(monkeypatch):
    from autorec_fast import _memory

    monkeypatch.setattr(_memory, "available_bytes", lambda: 1000)
    with pytest.raises(MemoryError, match=r"EASE on 30 items.*needs .* GiB"):
        af.train("ease", sp.csr_matrix(np.eye(30)))


def test_score_and_recommend_exclude_seen(device):
    rng = np.random.default_rng()
    X = random_interactions(rng, 200, 60, 0.1)
    model = af.train("ease", X, l2=20.0, dtype="float64", device=device)
    history = random_interactions(rng, 25, 60, 0.2)
    scores = to_host(model.score(history))
    np.testing.assert_allclose(scores, history.toarray() @ ease_reference(X, 20.0), rtol=1e-8, atol=1e-10)
    items, top = model.recommend(history, k=10)
    assert items.shape == (25, 10) and top.shape == (25, 10)
    dense = history.toarray()
    for r in range(25):  # test-side check, not the library's loop
        assert not dense[r, items[r]].any()
        masked = np.where(dense[r] > 0, -np.inf, scores[r])
        np.testing.assert_allclose(top[r], np.sort(masked)[::-1][:10], rtol=1e-9)
    items_all, _ = model.recommend(history, k=10, exclude_seen=False)
    np.testing.assert_array_equal(items_all[:, 0], np.argmax(scores, axis=1))


def test_recommend_bad_input():
    model = af.train("ease", sp.csr_matrix(np.eye(5)), l2=1.0)
    with pytest.raises(ValueError, match="history.*5 columns"):
        model.recommend(np.ones((2, 4)), k=2)
    with pytest.raises(ValueError, match="k"):
        model.recommend(np.ones((2, 5)), k=0)
    with pytest.raises(ValueError, match="k"):
        model.recommend(np.ones((2, 5)), k=6)
    with pytest.raises(TypeError, match="history"):
        model.recommend([[1, 0, 0, 0, 0]], k=2)
    with pytest.raises(ValueError, match="history.*NaN"):
        model.score(np.array([[np.nan, 0, 0, 0, 1.0]]))


def test_recommend_pads_when_everything_is_seen():
    model = af.train("ease", sp.csr_matrix(np.eye(4) + np.eye(4, k=1)), l2=1.0)
    items, scores = model.recommend(np.array([[1, 1, 1, 0.0]]), k=3)
    assert items[0, 0] == 3 and list(items[0, 1:]) == [-1, -1]
    assert np.all(np.isneginf(scores[0, 1:]))


def test_save_load_round_trip(tmp_path, device):
    rng = np.random.default_rng()
    X = random_interactions(rng, 100, 40, 0.1)
    inter = af.Interactions.from_scipy(X, item_ids=np.array([f"movie-{i}" for i in range(40)]))
    model = af.train("ease", inter, l2=7.5, device=device)
    model.save(tmp_path / "ease")
    loaded = af.load(tmp_path / "ease.npz", device=device)
    assert isinstance(loaded, af.EASE) and loaded.l2 == 7.5 and loaded.dtype == np.float32
    np.testing.assert_array_equal(to_host(loaded.weights), to_host(model.weights))
    np.testing.assert_array_equal(loaded.item_ids, inter.item_ids)
    history = X[:5]
    np.testing.assert_array_equal(loaded.recommend(history, k=5)[0], model.recommend(history, k=5)[0])
    ids, _ = loaded.recommend(history, k=5, return_ids=True)
    assert str(ids[0, 0]).startswith("movie-")


def test_load_rejects_foreign_and_pickled_files(tmp_path):
    np.savez(tmp_path / "other.npz", a=np.arange(3))
    with pytest.raises(ValueError, match="not an autorec_fast model"):
        af.load(tmp_path / "other.npz")
    np.savez(tmp_path / "evil.npz", __metadata__=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError, match="not an autorec_fast model"):
        af.load(tmp_path / "evil.npz")
    import json

    meta = {"format": "autorec_fast.model", "format_version": 99, "model": "ease", "params": {}, "arrays": []}
    np.savez(tmp_path / "future.npz",
             __metadata__=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))
    with pytest.raises(ValueError, match="format version 99"):
        af.load(tmp_path / "future.npz")


def test_save_replaces_the_file_atomically(tmp_path, monkeypatch):
    """A save that fails part-way leaves the previous model file intact, and no temporary file."""
    data = af.synthetic(n_users=40, n_items=30, density=0.2, implicit=True, seed=0)
    first = af.train("ease", data, l2=10.0)
    path = tmp_path / "model.npz"
    first.save(path)
    before = path.read_bytes()

    def broken_savez(file, **arrays):
        file.write(b"partial")
        raise KeyboardInterrupt  # as if killed while writing

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(KeyboardInterrupt):
        af.train("ease", data, l2=99.0).save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]
    monkeypatch.undo()
    np.testing.assert_array_equal(af.load(path).weights, first.weights)


@pytest.mark.parametrize("scale", [1e30, 3e38])
def test_overflowing_values_raise_instead_of_nan_weights(scale):
    X = sp.random(50, 20, density=0.3, format="csr", random_state=0, dtype=np.float32)
    X.data = (X.data * scale).astype(np.float32)
    model = af.EASE(l2=1.0)
    with pytest.raises(FloatingPointError, match="float64"):
        model.fit(X)
    assert model.weights is None  # no half-fitted model left behind
    assert np.isfinite(af.train("ease", X.astype(np.float64), l2=1.0, dtype="float64").weights).all()


def test_ctrl_c_during_the_factorisation_reaches_the_caller_promptly(device):
    """SIGINT while EASE factorises (seconds to minutes in LAPACK or cuSOLVER)
    interrupts the call at once and leaves the model unfitted. On the GPU, 40,000
    items: about a second of cuSOLVER work on an H100/H200."""
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import numpy as np, scipy.sparse as sp, autorec_fast as af, time, sys\n"
        f"X = sp.random(3000, {7000 if device == 'cpu' else 40000}, density=0.01, format='csr', "
        "random_state=0, dtype=np.float32)\n"
        f"m = af.EASE(l2=10.0, device={device!r})\n"
        "print('ready', flush=True)\n"
        "t0 = time.perf_counter()\n"
        "try:\n"
        "    m.fit(X)\n"
        "    print('finished', flush=True)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', round(time.perf_counter() - t0, 2), m.weights is None, flush=True)\n"
    )
    # from a temporary folder: the child imports the installed package, not the source tree
    # without CUDA_LAUNCH_BLOCKING (run_gpu.sh sets it): it makes every cuSOLVER call
    # block in C until the factorisation ends, which no polling can interrupt
    env = {k: v for k, v in os.environ.items() if k != "CUDA_LAUNCH_BLOCKING"}
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                          cwd=tempfile.gettempdir(), env=env) as proc:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.5)  # inside the fit
        proc.send_signal(signal.SIGINT)
        sent = time.perf_counter()
        out = proc.stdout.readline()  # the caller's reaction, not the process's exit
        latency = time.perf_counter() - sent
        proc.kill()  # LAPACK would finish the factorisation in the background
    if out.startswith("finished"):
        pytest.skip("the fit ended before the signal (a fast machine)")
    words = out.split()
    assert words[0] == "interrupted" and words[2] == "True", out
    assert latency < 2.0, f"the interrupt reached the caller {latency:.2f} s after the signal"


def test_fit_gram_equals_fit_and_checks_its_input():
    """EASE.fit_gram (a Gram summed elsewhere, e.g. over shards) gives fit's weights; the
    given Gram is kept unless copy=False; bad Grams name the argument."""
    import scipy.sparse as sp

    import autorec_fast as af

    rng = np.random.default_rng()
    X = sp.random(80, 25, density=0.2, format="csr", random_state=rng, dtype=np.float64)
    X.data[:] = 1.0
    fitted = af.train("ease", X, l2=7.0, dtype="float64")
    G = (X.T @ X).toarray()
    kept = G.copy()
    model = af.EASE(l2=7.0, dtype="float64").fit_gram(G, item_ids=np.arange(25) + 100)
    np.testing.assert_allclose(model.weights, fitted.weights, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(G, kept)
    assert model.item_ids[0] == 100
    G = np.ascontiguousarray(G)  # copy=False works in place on a C-contiguous Gram of the model's dtype
    in_place = af.EASE(l2=7.0, dtype="float64").fit_gram(G, copy=False)
    assert in_place.weights is G
    for bad, err in (([[1.0, 2.0]], ValueError), (np.zeros((0, 0)), ValueError),
                     (np.array([["a"]]), TypeError), (np.full((2, 2), np.nan), ValueError)):
        with pytest.raises(err, match="gram"):
            af.EASE().fit_gram(bad)
    with pytest.raises(ValueError, match="item_ids"):
        af.EASE().fit_gram(np.eye(3), item_ids=[1, 2])
