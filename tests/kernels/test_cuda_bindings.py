"""The CUDA bindings' argument checks (csrc/cuda/device_array.h, bind.h), without a
device: every binding takes device arrays (objects exposing
``__cuda_array_interface__``), derives the sizes from their shapes and rejects bad
input before any CUDA call, with a TypeError / ValueError naming the argument.

The arrays here are ``Dev`` stand-ins: the interface over a NumPy buffer of their
own, a real and aligned host address that the bindings never read (nor do the
kernels' launch wrappers: without a device the first CUDA call fails). A call
whose arguments all pass the checks must get past them and fail only at the CUDA
runtime, with a RuntimeError: that proves the checks accept valid input. Those
calls are skipped where a device is present (they would launch kernels on host
pointers); the rejections never reach CUDA and run everywhere.
"""

import re

import numpy as np
import pytest

from autorec_fast import backends

_cuda = backends._cuda
pytestmark = pytest.mark.skipif(_cuda is None, reason="autorec_fast was built without its CUDA extension")
HAS_DEVICE = _cuda is not None and _cuda.device_count() > 0
no_device = pytest.mark.skipif(HAS_DEVICE, reason="a CUDA device is present: a call that passes the checks "
                                                  "would launch kernels on the test's host pointers")

FLOATS = (np.float32, np.float64)
SGD, ADAM, ADAGRAD = 1, 2, 4  # _cuda.Optimizer codes (tests/kernels/test_bindings_enums.py checks them)


class Dev:
    """A stand-in for a CuPy array: ``__cuda_array_interface__`` over host memory of
    its own (a null pointer for size 0, as the protocol allows). ``overrides``
    replace or add entries of the interface dict (a malformed one, for tests)."""

    def __init__(self, shape, dtype, *, strides=None, readonly=False, ptr=None, **overrides):
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)
        self.strides, self.readonly, self.overrides = strides, readonly, overrides
        self._buf = np.zeros(self.shape, self.dtype)  # keeps the address alive; never read
        self.ptr = (self._buf.ctypes.data if self._buf.size else 0) if ptr is None else ptr

    @property
    def __cuda_array_interface__(self):
        d = {"shape": self.shape, "typestr": self.dtype.str, "data": (self.ptr, self.readonly),
             "strides": self.strides, "version": 3}
        d.update(self.overrides)
        return d

    def but(self, **changes):
        """A copy with some constructor arguments changed (a new buffer)."""
        kw = dict(shape=self.shape, dtype=self.dtype, strides=self.strides, readonly=self.readonly,
                  **self.overrides)
        kw.update(changes)
        return Dev(kw.pop("shape"), kw.pop("dtype"), **kw)


def calls(T):
    """One valid call of every binding, its float arrays of dtype T (keyword arguments)."""
    f = lambda *s: Dev(s, T)
    i32 = lambda *s: Dev(s, np.int32)
    i64 = lambda *s: Dev(s, np.int64)
    f64 = lambda *s: Dev(s, np.float64)
    n_in, n_out, k = 6, 4, 2
    params = lambda: (f(n_in, k), f(k), f(n_out, k), f(n_out))
    opt = dict(l2_scale=0.1, optimizer=ADAM, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, momentum=0.0, step=1)
    return {
        "bias_activation": dict(Z=f(3, 4), bias=f(4), activation=1, stream=0),
        "mul_activation_grad": dict(D=f(3, 4), H=f(3, 4), activation=1, stream=0),
        "gram_upper": dict(indptr=i64(4), indices=i32(5), data=f(5), G=f(6, 6), stream=0),
        "ease_weights_from_inverse": dict(P=f(5, 5), diag=f(5), stream=0),
        "symmetrize_from_upper": dict(A=f(5, 5), stream=0),
        "fill_pattern": dict(scores=f(3, 7), indptr=i64(4), indices=i32(5), value=-np.inf, stream=0),
        "multinomial_nll_grad": dict(logits=f(3, 7), bias=f(7), indptr=i64(4), indices=i32(5), x=f(5),
                                     scale=0.5, loss=f64(1), stream=0),
        "masked_mse_grad": dict(out=f(3, 4), target=f(3, 4), activation=1, grad=f(3, 4),
                                count=Dev((1,), np.uint64), loss=f64(1), stream=0),
        "optimizer_step": dict(param=f(3, 4), grad=f(3, 4), state1=f(3, 4), state2=f(3, 4), **opt, stream=0),
        "gru_gates_forward": dict(Xi=f(3, 6), gh=f(3, 6), b_hh=f(6), h_prev=f(3, 2), H=f(3, 2), cache=f(3, 8),
                                  stream=0),
        "gru_gates_backward": dict(dH=f(3, 2), d_next=f(2, 2), cache=f(3, 8), h_prev=f(3, 2), dXi=f(3, 6),
                                   dGh=f(3, 6), d_cur=f(3, 2), stream=0),
        "autorec_batch": dict(x=(i64(4), i32(5), f(5)), y=(i64(4), i32(7), f(7)),
                              xt=(i64(n_in + 1), i32(5), i64(5)), yt=(i64(n_out + 1), i32(7), i64(7)),
                              params=params(), grads=None, state1=params(), state2=params(),
                              hidden_activation=1, output_activation=0, **opt, H=f(3, k), dZ=f(3, k), D=f(7),
                              loss=f64(1), stream=0, loss_kind=0),
        "autorec_predict": dict(indptr=i64(4), indices=i32(5), data=f(5), params=params(), hidden_activation=1,
                                output_activation=0, rows=i64(8), cols=i64(8), H=f(3, k), out=f(8), stream=0),
    }


BINDINGS = sorted(calls(np.float32))
# The array that decides the dtype (its overload), and what each binding writes.
DECIDES = {"bias_activation": ("Z",), "mul_activation_grad": ("D",), "gram_upper": ("G",),
           "ease_weights_from_inverse": ("P",), "symmetrize_from_upper": ("A",), "fill_pattern": ("scores",),
           "multinomial_nll_grad": ("logits",), "masked_mse_grad": ("out",), "optimizer_step": ("param",),
           "gru_gates_forward": ("H",), "gru_gates_backward": ("d_cur",), "autorec_batch": ("params", 0),
           "autorec_predict": ("params", 0)}
_PARAMS_OUT = {(t, i) for t in ("params", "state1", "state2") for i in range(4)}
OUTPUTS = {"bias_activation": {("Z",)}, "mul_activation_grad": {("D",)}, "gram_upper": {("G",)},
           "ease_weights_from_inverse": {("P",), ("diag",)}, "symmetrize_from_upper": {("A",)},
           "fill_pattern": {("scores",)}, "multinomial_nll_grad": {("logits",), ("loss",)},
           "masked_mse_grad": {("grad",), ("count",), ("loss",)},
           "optimizer_step": {("param",), ("state1",), ("state2",)},
           "gru_gates_forward": {("H",), ("cache",)}, "gru_gates_backward": {("dXi",), ("dGh",), ("d_cur",)},
           "autorec_batch": _PARAMS_OUT | {("H",), ("dZ",), ("D",), ("loss",)},
           "autorec_predict": {("H",), ("out",)}}
# None is accepted for these (as "absent").
OPTIONAL = {"bias_activation": {"bias"}, "multinomial_nll_grad": {"bias"}, "gru_gates_forward": {"gh", "h_prev"},
            "gru_gates_backward": {"h_prev"}}
# Absent, these are a ValueError: the optimizer (Adam in calls()) needs them.
NEEDED_BY_OPTIMIZER = {("optimizer_step", "state1"), ("optimizer_step", "state2"),
                       ("autorec_batch", "state1"), ("autorec_batch", "state2")}
PARTS = {"x": ("indptr", "indices", "data"), "y": ("indptr", "indices", "data"),
         "xt": ("colptr", "row", "entry"), "yt": ("colptr", "row", "entry"),
         **{t: ("Vt", "mu", "W", "b") for t in ("params", "grads", "state1", "state2")}}


def arrays(call):
    """(path, array) of every device array of a call, tuple elements included."""
    for key, v in call.items():
        if isinstance(v, Dev):
            yield (key,), v
        elif isinstance(v, tuple):
            for i, e in enumerate(v):
                yield (key, i), e


def get(call, path):
    return call[path[0]] if len(path) == 1 else call[path[0]][path[1]]


def replaced(call, path, value):
    call = dict(call)
    if len(path) == 1:
        call[path[0]] = value
    else:
        t = list(call[path[0]])
        t[path[1]] = value
        call[path[0]] = tuple(t)
    return call


def arg_name(path):
    """The argument as the bindings' errors name it."""
    return path[0] if len(path) == 1 else f"{path[0]}[{path[1]}] ({PARTS[path[0]][path[1]]})"


def rejects(name, call, exc, path, text=""):
    """The binding raises `exc` naming the argument at `path` (and saying `text`)."""
    pattern = re.escape(f"argument '{arg_name(path)}'") + ".*" + re.escape(text)
    with pytest.raises(exc, match=pattern):
        getattr(_cuda, name)(**call)


def reaches_cuda(name, call):
    """The checks accept the call: it fails only at the CUDA runtime (no device here)."""
    with pytest.raises(RuntimeError, match="^" + re.escape(name) + ": "):
        getattr(_cuda, name)(**call)


def cases(select=lambda name, path, a: True):
    """(binding, path) of every device array argument of every binding that `select` keeps."""
    return [pytest.param(name, path, id=f"{name}-{arg_name(path)}")
            for name in BINDINGS for path, a in arrays(calls(np.float32)[name]) if select(name, path, a)]


# ---------------------------------------------------------------- accepted

def test_one_name_per_function_no_dtype_suffixes():
    names = {n for n in dir(_cuda) if not n.startswith("_")}
    assert set(BINDINGS) <= names
    assert not [n for n in names if n.endswith(("_f32", "_f64"))]
    for name in BINDINGS:  # two overloads: float32, then float64 (which reports every other dtype)
        doc = getattr(_cuda, name).__doc__
        assert "DeviceArray[float32]" in doc and "DeviceArray[float64]" in doc


@no_device
@pytest.mark.parametrize("T", FLOATS)
@pytest.mark.parametrize("name", BINDINGS)
def test_valid_call_passes_the_checks(name, T):
    reaches_cuda(name, calls(T)[name])


@no_device
@pytest.mark.parametrize("name,arg", [(n, a) for n in sorted(OPTIONAL) for a in sorted(OPTIONAL[n])])
def test_optional_arrays_may_be_none(name, arg):
    reaches_cuda(name, {**calls(np.float32)[name], arg: None})


@no_device
@pytest.mark.parametrize("name", BINDINGS)
def test_read_only_inputs_are_accepted(name):
    call = calls(np.float32)[name]
    for path, a in arrays(call):
        if path not in OUTPUTS[name]:
            call = replaced(call, path, a.but(readonly=True))
    reaches_cuda(name, call)


@no_device
def test_scalars_and_codes_convert_as_before():
    # pybind11 first tries every overload without conversions: an int for a float, or an enum
    # member for a code, must still end in the float32 overload (not the float64 one's checks)
    call = calls(np.float32)["optimizer_step"]
    reaches_cuda("optimizer_step", {**call, "l2_scale": 0, "lr": 1, "optimizer": _cuda.Optimizer.adam})
    call = calls(np.float32)["autorec_batch"]
    reaches_cuda("autorec_batch", {**call, "l2_scale": 0, "hidden_activation": _cuda.Activation.relu})
    call = calls(np.float32)["fill_pattern"]
    reaches_cuda("fill_pattern", {**call, "value": -1})


@no_device
def test_layouts_the_protocol_allows():
    call = calls(np.float32)["bias_activation"]
    Z = call["Z"]
    reaches_cuda("bias_activation", {**call, "Z": Z.but(strides=(16, 4))})  # explicit C strides
    reaches_cuda("bias_activation", {**call, "Z": Z.but(shape=(1, 4), strides=(999, 4))})  # extent 1: any stride
    reaches_cuda("bias_activation", {**call, "Z": Z.but(mask=None, stream=1)})  # mask None; stream not read
    # zero-size arrays: a null pointer is fine, any strides; nothing to launch, so no CUDA call at all
    empty = Dev((0, 4), np.float32, strides=(4, 8))
    assert empty.ptr == 0
    assert _cuda.bias_activation(empty, call["bias"], 1, 0) is None


@no_device
def test_sizes_come_from_the_shapes():
    # optimizer_step matches sizes, as the CPU's: a state of another shape but the same size is fine
    call = calls(np.float32)["optimizer_step"]
    reaches_cuda("optimizer_step", {**call, "state2": Dev((12,), np.float32)})
    # the last GRU step backward: no next step (d_next of 0 rows, a null pointer)
    call = calls(np.float64)["gru_gates_backward"]
    reaches_cuda("gru_gates_backward", {**call, "d_next": Dev((0, 2), np.float64)})
    # autorec: x and y may be the same arrays (then D has x's nnz, yt n_out columns)
    call = calls(np.float32)["autorec_batch"]
    reaches_cuda("autorec_batch", {**call, "y": call["x"], "yt": (Dev((5,), np.int64), *call["xt"][1:]),
                                   "D": Dev((5,), np.float32)})


@no_device
@pytest.mark.parametrize("optimizer,momentum,present", [
    (0, 0.0, {"grads"}), (SGD, 0.0, set()), (SGD, 0.9, {"state1"}), (ADAGRAD, 0.0, {"state1"}),
    (ADAM, 0.0, {"state1", "state2"})])
def test_the_states_an_optimizer_needs_are_enough(optimizer, momentum, present):
    call = calls(np.float32)["autorec_batch"]
    call.update(optimizer=optimizer, momentum=momentum, grads=call["state1"])
    reaches_cuda("autorec_batch", {**call, **{t: None for t in {"grads", "state1", "state2"} - present}})
    if optimizer:
        call = calls(np.float32)["optimizer_step"]
        call.update(optimizer=optimizer, momentum=momentum)
        reaches_cuda("optimizer_step", {**call, **{t: None for t in {"state1", "state2"} - present}})


# ---------------------------------------------------------------- rejected: every array argument

@pytest.mark.parametrize("name,path", cases())
def test_rejects_an_object_without_the_interface(name, path):
    a = get(calls(np.float32)[name], path)
    call = replaced(calls(np.float32)[name], path, np.zeros(a.shape, a.dtype))  # a host array
    rejects(name, call, TypeError, path, "__cuda_array_interface__")


@pytest.mark.parametrize("name,path", cases(lambda name, path, a: path[0] not in OPTIONAL.get(name, ())))
def test_rejects_none_for_a_required_array(name, path):
    exc = ValueError if (name, path[0]) in NEEDED_BY_OPTIMIZER and len(path) == 1 else TypeError
    rejects(name, replaced(calls(np.float32)[name], path, None), exc, path)


@pytest.mark.parametrize("T", FLOATS)
@pytest.mark.parametrize("name,path", cases(lambda name, path, a: path != DECIDES[name]))
def test_rejects_a_wrong_dtype(name, path, T):
    # float arrays: the other float dtype (mixed dtypes); fixed-dtype arrays: another one
    other = {np.dtype(np.float32): np.float64, np.dtype(np.float64): np.float32, np.dtype(np.int32): np.int64,
             np.dtype(np.int64): np.int32, np.dtype(np.uint64): np.int64}
    a = get(calls(T)[name], path)
    rejects(name, replaced(calls(T)[name], path, a.but(dtype=other[a.dtype])), TypeError, path, "expected dtype")


@pytest.mark.parametrize("bad", [np.int32, np.int64, np.float16, ">f4"])
@pytest.mark.parametrize("name", BINDINGS)
def test_the_deciding_array_must_be_float32_or_float64(name, bad):
    path = DECIDES[name]
    a = get(calls(np.float32)[name], path)
    rejects(name, replaced(calls(np.float32)[name], path, a.but(dtype=bad)), TypeError, path,
            "expected a float32 or float64 device array")


@pytest.mark.parametrize("name", [n for n in BINDINGS  # those with another float array
                                  if sum(a.dtype == np.float32 for _, a in arrays(calls(np.float32)[n])) > 1])
def test_the_deciding_array_picks_the_dtype_the_others_follow(name):
    call = calls(np.float32)[name]
    path = DECIDES[name]
    call = replaced(call, path, get(call, path).but(dtype=np.float64))  # a float64 call of float32 arrays
    with pytest.raises(TypeError, match="expected dtype float64, got float32"):
        getattr(_cuda, name)(**call)


@pytest.mark.parametrize("name,path", cases(lambda name, path, a: max(a.shape, default=0) > 1))
def test_rejects_a_non_contiguous_array(name, path):
    a = get(calls(np.float32)[name], path)
    strides = list(np.zeros(a.shape, a.dtype).strides)
    last = max(i for i, e in enumerate(a.shape) if e > 1)
    strides[last] *= 2  # every other element: a slice
    rejects(name, replaced(calls(np.float32)[name], path, a.but(strides=tuple(strides))), ValueError, path,
            "C-contiguous")


@pytest.mark.parametrize("name,path", cases())
def test_rejects_a_masked_array(name, path):
    a = get(calls(np.float32)[name], path)
    rejects(name, replaced(calls(np.float32)[name], path, a.but(mask=a)), ValueError, path, "masked")


@pytest.mark.parametrize("name,path", cases(lambda name, path, a: path in OUTPUTS[name]))
def test_rejects_a_read_only_output(name, path):
    a = get(calls(np.float32)[name], path)
    rejects(name, replaced(calls(np.float32)[name], path, a.but(readonly=True)), ValueError, path, "read-only")


# ---------------------------------------------------------------- rejected: shapes, per binding

SHAPES = [  # (binding, {path: new shape}, the argument named, what the message says)
    ("bias_activation", {("bias",): (5,)}, ("bias",), "expected shape (4,), got (5,)"),
    ("bias_activation", {("bias",): (1, 4)}, ("bias",), "expected a 1-D array"),
    ("bias_activation", {("Z",): (12,)}, ("Z",), "expected a 2-D array"),
    ("mul_activation_grad", {("H",): (4, 3)}, ("H",), "expected shape (3, 4)"),
    ("mul_activation_grad", {("H",): (12,)}, ("H",), "expected a 2-D array"),
    ("gram_upper", {("G",): (6, 5)}, ("G",), "square"),
    ("gram_upper", {("data",): (4,)}, ("data",), "expected shape (5,)"),
    ("gram_upper", {("indptr",): (0,)}, ("indptr",), "n_rows + 1"),
    ("gram_upper", {("indptr",): (2, 2)}, ("indptr",), "1-D"),
    ("gram_upper", {("indices",): (5, 1)}, ("indices",), "1-D"),
    ("ease_weights_from_inverse", {("P",): (5, 4)}, ("P",), "square"),
    ("ease_weights_from_inverse", {("diag",): (4,)}, ("diag",), "expected shape (5,)"),
    ("symmetrize_from_upper", {("A",): (5, 4)}, ("A",), "square"),
    ("symmetrize_from_upper", {("A",): (25,)}, ("A",), "2-D"),
    ("fill_pattern", {("indptr",): (5,)}, ("indptr",), "one entry per row of scores"),
    ("fill_pattern", {("scores",): (21,)}, ("scores",), "2-D"),
    ("multinomial_nll_grad", {("bias",): (6,)}, ("bias",), "expected shape (7,)"),
    ("multinomial_nll_grad", {("indptr",): (3,)}, ("indptr",), "one entry per row of logits"),
    ("multinomial_nll_grad", {("x",): (4,)}, ("x",), "expected shape (5,)"),
    ("multinomial_nll_grad", {("loss",): (2,)}, ("loss",), "expected shape (1,)"),
    ("masked_mse_grad", {("target",): (4, 3)}, ("target",), "expected shape (3, 4)"),
    ("masked_mse_grad", {("grad",): (3, 5)}, ("grad",), "expected shape (3, 4)"),
    ("masked_mse_grad", {("count",): (2,)}, ("count",), "expected shape (1,)"),
    ("masked_mse_grad", {("loss",): (1, 1)}, ("loss",), "1-D"),
    ("optimizer_step", {("grad",): (3, 5)}, ("grad",), "size 15, expected 12"),
    ("optimizer_step", {("state1",): (2, 4)}, ("state1",), "size 8, expected 12"),
    ("gru_gates_forward", {("Xi",): (3, 7)}, ("Xi",), "expected shape (3, 6)"),
    ("gru_gates_forward", {("gh",): (2, 6)}, ("gh",), "expected shape (3, 6)"),
    ("gru_gates_forward", {("b_hh",): (5,)}, ("b_hh",), "expected shape (6,)"),
    ("gru_gates_forward", {("h_prev",): (3, 3)}, ("h_prev",), "expected shape (3, 2)"),
    ("gru_gates_forward", {("cache",): (3, 6)}, ("cache",), "expected shape (3, 8)"),
    ("gru_gates_forward", {("H",): (3, 0)}, ("H",), "hidden size"),
    ("gru_gates_backward", {("dH",): (2, 2)}, ("dH",), "expected shape (3, 2)"),
    ("gru_gates_backward", {("d_next",): (4, 2)}, ("d_next",), "more rows than the step"),
    ("gru_gates_backward", {("d_next",): (2, 3)}, ("d_next",), "expected shape (*, 2)"),
    ("gru_gates_backward", {("cache",): (3, 4)}, ("cache",), "expected shape (3, 8)"),
    ("gru_gates_backward", {("h_prev",): (2, 2)}, ("h_prev",), "expected shape (3, 2)"),
    ("gru_gates_backward", {("dXi",): (3, 5)}, ("dXi",), "expected shape (3, 6)"),
    ("gru_gates_backward", {("dGh",): (2, 6)}, ("dGh",), "expected shape (3, 6)"),
    ("gru_gates_backward", {("d_cur",): (3, 0)}, ("d_cur",), "hidden size"),
    ("autorec_batch", {("params", 0): (0, 2)}, ("params", 0), "n_in, k > 0"),
    ("autorec_batch", {("params", 1): (3,)}, ("params", 1), "expected shape (2,)"),
    ("autorec_batch", {("params", 2): (4, 3)}, ("params", 2), "expected shape (4, 2)"),
    ("autorec_batch", {("params", 2): (0, 2)}, ("params", 2), "n_out > 0"),
    ("autorec_batch", {("params", 3): (5,)}, ("params", 3), "expected shape (4,)"),
    ("autorec_batch", {("state1", 0): (6, 3)}, ("state1", 0), "expected shape (6, 2)"),
    ("autorec_batch", {("state2", 3): (3,)}, ("state2", 3), "expected shape (4,)"),
    ("autorec_batch", {("x", 0): (0,)}, ("x", 0), "n_rows + 1"),
    ("autorec_batch", {("x", 2): (4,)}, ("x", 2), "expected shape (5,)"),
    ("autorec_batch", {("y", 0): (5,)}, ("y",), "as many rows as x"),
    ("autorec_batch", {("y", 2): (6,)}, ("y", 2), "expected shape (7,)"),
    ("autorec_batch", {("xt", 0): (6,)}, ("xt",), "x's transposed pattern"),
    ("autorec_batch", {("xt", 1): (4,), ("xt", 2): (4,)}, ("xt",), "x's transposed pattern"),
    ("autorec_batch", {("xt", 2): (4,)}, ("xt", 2), "expected shape (5,)"),
    ("autorec_batch", {("yt", 0): (6,)}, ("yt",), "y's transposed pattern"),
    ("autorec_batch", {("yt", 1): (6,), ("yt", 2): (6,)}, ("yt",), "y's transposed pattern"),
    ("autorec_batch", {("H",): (3, 3)}, ("H",), "expected shape (3, 2)"),
    ("autorec_batch", {("dZ",): (2, 2)}, ("dZ",), "expected shape (3, 2)"),
    ("autorec_batch", {("D",): (8,)}, ("D",), "expected shape (7,)"),
    ("autorec_batch", {("loss",): ()}, ("loss",), "1-D"),
    ("autorec_predict", {("params", 1): (1,)}, ("params", 1), "expected shape (2,)"),
    ("autorec_predict", {("indptr",): (0,)}, ("indptr",), "n_rows + 1"),
    ("autorec_predict", {("data",): (6,)}, ("data",), "expected shape (5,)"),
    ("autorec_predict", {("rows",): (8, 1)}, ("rows",), "1-D"),
    ("autorec_predict", {("cols",): (7,)}, ("cols",), "expected shape (8,)"),
    ("autorec_predict", {("H",): (4, 2)}, ("H",), "expected shape (3, 2)"),
    ("autorec_predict", {("out",): (9,)}, ("out",), "expected shape (8,)"),
]


@pytest.mark.parametrize("T", FLOATS)
@pytest.mark.parametrize("name,shapes,named,text", SHAPES,
                         ids=[f"{s[0]}-{arg_name(s[2])}-{i}" for i, s in enumerate(SHAPES)])
def test_rejects_a_wrong_shape(name, shapes, named, text, T):
    call = calls(T)[name]
    for path, shape in shapes.items():
        call = replaced(call, path, get(call, path).but(shape=shape))
    rejects(name, call, ValueError, named, text)


@pytest.mark.parametrize("name", ["autorec_batch", "autorec_predict"])
def test_rejects_bad_tuples(name):
    call = calls(np.float32)[name]
    rejects(name, {**call, "params": call["params"][:3]}, ValueError, ("params",), "(Vt, mu, W, b) of 4")
    rejects(name, {**call, "params": list(call["params"])}, TypeError, ("params",), "expected a tuple")
    rejects(name, {**call, "params": None}, TypeError, ("params",), "got NoneType")
    if name == "autorec_batch":
        rejects(name, {**call, "x": call["x"][:2]}, ValueError, ("x",), "of 3 device arrays")
        rejects(name, {**call, "xt": None}, TypeError, ("xt",), "got NoneType")
        rejects(name, {**call, "yt": list(call["yt"])}, TypeError, ("yt",), "expected a tuple")
        rejects(name, {**call, "state1": (*call["state1"], call["H"])}, ValueError, ("state1",), "got 5 items")
        rejects(name, {**call, "grads": call["H"]}, TypeError, ("grads",), "expected a tuple")


@pytest.mark.parametrize("optimizer,momentum,given,missing", [
    (0, 0.0, set(), "grads"), (SGD, 0.9, set(), "state1"), (ADAGRAD, 0.0, {"state2"}, "state1"),
    (ADAM, 0.0, {"state1"}, "state2"), (ADAM, 0.0, {"state2"}, "state1")])
def test_rejects_missing_optimizer_states(optimizer, momentum, given, missing):
    call = calls(np.float32)["autorec_batch"]
    call.update(optimizer=optimizer, momentum=momentum, **{t: None for t in {"grads", "state1", "state2"} - given})
    rejects("autorec_batch", call, ValueError, (missing,), "required")
    if optimizer:
        call = calls(np.float32)["optimizer_step"]
        call.update(optimizer=optimizer, momentum=momentum, **{t: None for t in {"state1", "state2"} - given})
        rejects("optimizer_step", call, ValueError, (missing,), "required")


def test_rejects_bad_codes():
    c = calls(np.float32)
    rejects("bias_activation", {**c["bias_activation"], "activation": 9}, ValueError, ("activation",), "code 9")
    rejects("masked_mse_grad", {**c["masked_mse_grad"], "activation": -1}, ValueError, ("activation",))
    rejects("autorec_batch", {**c["autorec_batch"], "loss_kind": 2}, ValueError, ("loss_kind",), "code 2")
    rejects("autorec_batch", {**c["autorec_batch"], "hidden_activation": 6}, ValueError, ("hidden_activation",))
    rejects("autorec_predict", {**c["autorec_predict"], "output_activation": 7}, ValueError,
            ("output_activation",))
    rejects("autorec_batch", {**c["autorec_batch"], "step": 0}, ValueError, ("step",), ">= 1")
    rejects("optimizer_step", {**c["optimizer_step"], "optimizer": 5}, ValueError, ("optimizer",), "code 5")
    rejects("optimizer_step", {**c["optimizer_step"], "optimizer": 0}, ValueError, ("optimizer",), "'none'")


# ---------------------------------------------------------------- the interface itself

class Raw:
    """An object whose ``__cuda_array_interface__`` is whatever it was given."""

    def __init__(self, iface):
        self.__cuda_array_interface__ = iface


def _iface(**changes):
    buf = np.zeros(4, np.float32)
    d = {"shape": (4,), "typestr": "<f4", "data": (buf.ctypes.data, False), "strides": None, "version": 3}
    d.update(changes)
    return {k: v for k, v in d.items() if v is not ...}, buf


@pytest.mark.parametrize("changes,exc,text", [
    (dict(version=...), TypeError, "'version'"),
    (dict(typestr=4), TypeError, "'typestr'"),
    (dict(typestr="<f"), TypeError, "'typestr'"),
    (dict(shape=[4]), TypeError, "'shape'"),
    (dict(shape=(-4,)), TypeError, "'shape'"),
    (dict(shape=(4.0,)), TypeError, "'shape'"),
    (dict(data=123), TypeError, "'data'"),
    (dict(data=(1.5, False)), TypeError, "'data'"),
    (dict(data=(-16, False)), TypeError, "'data'"),
    (dict(data=(2**64, False)), TypeError, "'data'"),
    (dict(strides=(4, 4)), TypeError, "'strides'"),
    (dict(strides=[4]), TypeError, "'strides'"),
    (dict(data=(0, False)), ValueError, "null data pointer"),
    (dict(mask=np.ones(4, bool)), ValueError, "masked"),
    (dict(shape=(2**40, 2**40)), ValueError, "too large"),
    (dict(typestr=">f4"), TypeError, "expected dtype float32"),
    (dict(typestr="<i2"), TypeError, "got typestr '<i2'"),
])
def test_rejects_a_malformed_interface(changes, exc, text):
    iface, _buf = _iface(**changes)
    call = calls(np.float32)["bias_activation"]
    rejects("bias_activation", {**call, "bias": Raw(iface)}, exc, ("bias",), text)


def test_rejects_an_interface_that_is_not_a_dict_and_a_misaligned_pointer():
    call = calls(np.float32)["bias_activation"]
    rejects("bias_activation", {**call, "bias": Raw([("shape", (4,))])}, TypeError, ("bias",), "not a dict")
    rejects("bias_activation", {**call, "bias": call["bias"].but(ptr=call["bias"].ptr + 2)}, ValueError,
            ("bias",), "aligned")
    rejects("bias_activation", {**call, "Z": 3}, TypeError, ("Z",), "got int")
