"""The integer codes exported from C++ (csrc/common/bind_codes.h): the enums
Activation, Optimizer and Loss and Adam's defaults, in both extensions, and the
kernels taking their members where they take the plain int codes."""

import importlib

import numpy as np
import pytest

from autorec_fast import backends

EXPECTED = {
    "Activation": {"identity": 0, "sigmoid": 1, "tanh": 2, "relu": 3, "elu": 4, "selu": 5},
    "Optimizer": {"none": 0, "sgd": 1, "adam": 2, "rprop": 3, "adagrad": 4},
    "Loss": {"square": 0, "logistic": 1},
}


def _modules():
    mods = [backends._cpu]
    try:  # built wherever nvcc was found; imports without a device
        mods.append(importlib.import_module("autorec_fast._cuda"))
    except ImportError:
        pass
    return mods


@pytest.mark.parametrize("module", _modules(), ids=lambda m: m.__name__)
@pytest.mark.parametrize("enum_name", sorted(EXPECTED))
def test_enum_members_and_values(module, enum_name):
    enum = getattr(module, enum_name)
    assert {name: int(v) for name, v in enum.__members__.items()} == EXPECTED[enum_name]
    for name, code in EXPECTED[enum_name].items():
        assert int(getattr(enum, name)) == code
        assert enum(code) == getattr(enum, name)


@pytest.mark.parametrize("module", _modules(), ids=lambda m: m.__name__)
def test_adam_constants(module):
    assert module.ADAM_BETA1 == 0.9
    assert module.ADAM_BETA2 == 0.999
    assert module.ADAM_EPS == 1e-8


def test_python_tables_match_the_enums():
    from autorec_fast.models import autorec, cdae

    cpu = backends._cpu
    assert autorec.ACTIVATIONS == {n: int(v) for n, v in cpu.Activation.__members__.items()}
    assert autorec.OPTIMIZERS == {n: int(v) for n, v in cpu.Optimizer.__members__.items()}
    assert cdae.LOSSES == {n: int(v) for n, v in cpu.Loss.__members__.items()}


def test_kernels_take_the_members_as_codes():
    cpu = backends._cpu
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((3, 4))
    by_int, by_member = Z.copy(), Z.copy()
    cpu.bias_activation(by_int, None, 3)
    cpu.bias_activation(by_member, None, cpu.Activation.relu)
    np.testing.assert_array_equal(by_member, by_int)
    np.testing.assert_array_equal(by_int, np.maximum(Z, 0.0))
    p, g = rng.standard_normal(5), rng.standard_normal(5)
    a, b = p.copy(), p.copy()
    cpu.optimizer_step(a, g, None, None, 0.0, int(cpu.Optimizer.sgd), 0.1)
    cpu.optimizer_step(b, g, None, None, 0.0, cpu.Optimizer.sgd, 0.1)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, p - 0.1 * g)
