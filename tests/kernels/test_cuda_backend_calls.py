"""CudaBackend's calls into ``_cuda`` (autorec_fast/backends/cuda.py), without a device
or CuPy: its ``xp`` is NumPy whose arrays expose ``__cuda_array_interface__`` over
their host memory, and ``_cuda`` is the real extension with the CUDA runtime's
"no device" RuntimeError swallowed. So every binding call of a backend method runs
the bindings' full argument checks (dtypes, shapes, layouts, writability) on the
arrays the backend really builds and slices; a TypeError or ValueError means a call
site passes something wrong. The kernels never run, so the values are meaningless:
only the calls are tested (tests/models run the numerics where a device is present).
"""

import types

import numpy as np
import pytest
import scipy.sparse as sp

from autorec_fast import backends

_cuda = backends._cuda
pytestmark = [
    pytest.mark.skipif(_cuda is None, reason="autorec_fast was built without its CUDA extension"),
    pytest.mark.skipif(_cuda is not None and _cuda.device_count() > 0,
                       reason="a CUDA device is present: the kernels would run on host pointers"),
]


class HostDev(np.ndarray):
    """A NumPy array that also exposes ``__cuda_array_interface__`` (over host memory)."""

    @property
    def __cuda_array_interface__(self):
        ai = self.__array_interface__
        return {"shape": ai["shape"], "typestr": ai["typestr"], "data": ai["data"], "strides": ai["strides"],
                "version": 3}

    def get(self):
        return np.asarray(self)


class FakeXp:
    """NumPy standing in for CuPy: every array it returns is a HostDev view. empty()
    gives zeros: the kernels that would fill the buffers do not run."""

    cuda = types.SimpleNamespace(get_current_stream=lambda: types.SimpleNamespace(ptr=0))

    def __getattr__(self, name):
        f = getattr(np, {"empty": "zeros", "empty_like": "zeros_like"}.get(name, name))
        if not callable(f) or isinstance(f, type):
            return f

        def wrapped(*args, **kwargs):
            r = f(*args, **kwargs)
            return r.view(HostDev) if isinstance(r, np.ndarray) and not isinstance(r, HostDev) else r
        return wrapped


class NoDeviceCuda:
    """``_cuda`` with each binding's checks run and the missing device ignored."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        binding = getattr(_cuda, name)

        def call(*args, **kwargs):
            try:
                binding(*args, **kwargs)
            except RuntimeError as exc:  # past the checks: the CUDA runtime found no device
                assert str(exc).startswith(name + ": ")
            self.calls.append(name)
        return call


@pytest.fixture(params=[np.float32, np.float64], ids=["float32", "float64"])
def backend(request, monkeypatch):
    from autorec_fast.backends import cuda

    proxy = NoDeviceCuda()
    monkeypatch.setattr(cuda, "_cuda", proxy)
    be = cuda.CudaBackend.__new__(cuda.CudaBackend)  # __init__ imports CuPy
    be.xp, be.dtype, be._csr_cache = FakeXp(), np.dtype(request.param), (None, None)
    be.calls = proxy.calls
    return be


def dev(be, a, dtype=None):
    return be.xp.asarray(a, dtype=be.dtype if dtype is None else dtype)


def params(be, n_in, n_out, k, rng):
    return tuple(dev(be, rng.standard_normal(s)) for s in ((n_in, k), (k,), (n_out, k), (n_out,)))


def csr(rng, rows, cols, density=0.4, dtype=np.float64):
    return sp.random(rows, cols, density=density, format="csr", random_state=rng, dtype=dtype)


def test_dense_ops_optimizer_and_losses(backend):
    be, rng = backend, np.random.default_rng(0)
    h = dev(be, rng.standard_normal((5, 4)))
    assert np.shares_memory(be.bias_activation(h, dev(be, np.ones(4)), 1), h)  # in place: h was contiguous
    be.bias_activation(h, None, 0)
    be.bias_activation(dev(be, rng.standard_normal((4, 5))).T, dev(be, np.ones(4)), 2)  # on a copy
    be.mul_activation_grad(h, dev(be, np.ones((5, 4))), 1)
    be.mul_activation_grad(dev(be, np.ones(7)), dev(be, np.ones(7)), 3)
    p = dev(be, np.zeros((3, 4)))
    be.step(p, dev(be, np.ones((3, 4))), dev(be, np.zeros((3, 4))), dev(be, np.zeros((3, 4))), 0.1,
            dict(optimizer=2, lr=1e-3, step=1))
    be.step(p, dev(be, np.ones((3, 4)), np.float64), None, None, 0.0, dict(optimizer=1, lr=0.1, step=1))
    X = csr(rng, 5, 6)
    loss = be.nll_grad(dev(be, rng.standard_normal((5, 6))), dev(be, np.zeros(6)), X.indptr, X.indices, X.data, 0.2)
    assert loss.dtype == np.float64
    be.masked_mse_grad(dev(be, np.ones((5, 6))), dev(be, np.ones((5, 6)), np.float64), 1)
    be.logistic_loss_grad(dev(be, np.ones((5, 6))), dev(be, np.zeros(6)), X)
    be.sampled_output(dev(be, np.ones((5, 3))), dev(be, np.ones((6, 3))), dev(be, np.zeros(6)), X, 1)
    assert be.calls == ["bias_activation"] * 3 + ["mul_activation_grad"] * 2 + ["optimizer_step"] * 2 + [
        "multinomial_nll_grad", "masked_mse_grad", "bias_activation", "bias_activation"]


def test_what_the_bindings_now_check_for_the_backend(backend):
    be = backend
    with pytest.raises(ValueError, match="argument 'bias'"):
        be.bias_activation(dev(be, np.ones((5, 4))), dev(be, np.ones(5)), 1)
    with pytest.raises(ValueError, match="argument 'H'"):
        be.mul_activation_grad(dev(be, np.ones((5, 4))), dev(be, np.ones((4, 5))), 1)
    with pytest.raises(ValueError, match="argument 'grad'"):
        be.step(dev(be, np.ones(3)), dev(be, np.ones(4)), None, None, 0.0, dict(optimizer=1, lr=0.1, step=1))
    with pytest.raises(ValueError, match="argument 'state2'"):  # Adam needs both states
        be.step(dev(be, np.ones(3)), dev(be, np.ones(3)), dev(be, np.ones(3)), None, 0.0,
                dict(optimizer=2, lr=0.1, step=1))
    with pytest.raises(ValueError, match="argument 'param'.*C-contiguous"):  # updated in place: no copy
        be.step(dev(be, np.ones((3, 4))).T, dev(be, np.ones((4, 3))), None, None, 0.0,
                dict(optimizer=1, lr=0.1, step=1))
    with pytest.raises(ValueError, match="argument 'logits'.*C-contiguous"):
        X = csr(np.random.default_rng(0), 5, 6)
        be.nll_grad(dev(be, np.ones((6, 5))).T, dev(be, np.zeros(6)), X.indptr, X.indices, X.data, 1.0)
    with pytest.raises(ValueError, match="argument 'target'"):
        be.masked_mse_grad(dev(be, np.ones((5, 6))), dev(be, np.ones((6, 5))), 1)


@pytest.mark.parametrize("resident", [False, True], ids=["host batch", "rows of resident matrices"])
@pytest.mark.parametrize("same", [False, True], ids=["x != y", "x is y"])
def test_autorec_batch_encode_and_predict(backend, resident, same):
    be, rng = backend, np.random.default_rng(1)
    n_users, n_in, n_out, k = 9, 7, 5, 3
    X = csr(rng, n_users, n_in)
    Y = X if same else csr(rng, n_users, n_out)
    ps = params(be, n_in, X.shape[1] if same else n_out, k, rng)
    states = tuple(be.xp.zeros_like(p) for p in ps)
    rows = np.array([4, 0, 7], np.int64)
    if resident:
        Xd = be.training_matrix(X)
        Yd = Xd if same else be.training_matrix(Y)
        be.autorec_batch(Xd, Yd, ps, states, states, 1, 0, 0.1, 2, 1e-3, 0.0, 1, 0, rows=rows)
    else:
        be.autorec_batch(X[rows], Y[rows], ps, states, None, 1, 0, 0.1, 1, 1e-2, 0.9, 1, 1)
    be.autorec_batch(X[rows[:0]], Y[rows[:0]], ps, None, None, 1, 0, 0.1, 1, 1e-2, 0.0, 1, 0)  # empty batch
    H = be.autorec_encode(X[rows], ps, 1)
    assert H.shape == (3, k)
    out = be.autorec_predict(X[rows], ps, 1, 0, np.array([0, 2, 1, 1]), np.array([4, 0, 1, 3]))
    assert out.shape == (4,)
    assert be.autorec_predict(X[rows], ps, 1, 0, np.zeros(0, np.int64), np.zeros(0, np.int64)).shape == (0,)
    with pytest.raises(ValueError, match="example index out of range"):
        be.autorec_predict(X[rows], ps, 1, 0, np.array([3]), np.array([0]))
    with pytest.raises(ValueError, match="output index out of range"):
        be.autorec_predict(X[rows], ps, 1, 0, np.array([0]), np.array([ps[2].shape[0]]))
    assert be.calls == ["autorec_batch"] * 2 + ["autorec_predict"] * 3


def test_gru_steps(backend):
    be, rng = backend, np.random.default_rng(2)
    G, bs = 4, np.array([3, 3, 2, 1], np.int64)
    rows = int(bs.sum())
    W_hh, b_hh = dev(be, rng.standard_normal((G, 3 * G))), dev(be, rng.standard_normal(3 * G))
    H, cache = be.gru_forward(dev(be, rng.standard_normal((rows, 3 * G))), bs, W_hh, b_hh)
    assert H.shape == (rows, G) and cache.shape == (rows, 4 * G)
    gW, gb = be.xp.zeros_like(W_hh), be.xp.zeros_like(b_hh)
    dXi = be.gru_backward(dev(be, rng.standard_normal((rows, G))), H, cache, bs, W_hh, gW, gb)
    assert dXi.shape == (rows, 3 * G)
    assert be.calls == ["gru_gates_forward"] * len(bs) + ["gru_gates_backward"] * len(bs)


def test_topk_masks_the_excluded_items(backend):
    be, rng = backend, np.random.default_rng(3)
    scores = dev(be, rng.standard_normal((4, 10)))
    top, val = be.topk(scores, csr(rng, 4, 10), 3)
    assert top.shape == val.shape == (4, 3)
    be.topk(dev(be, rng.standard_normal((10, 4))).T, csr(rng, 4, 10), 3)  # column-major scores: copied
    be.topk(scores, None, 3)
    assert be.calls == ["fill_pattern"] * 2
