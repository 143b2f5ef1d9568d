"""af.set_num_threads / af.threads govern the OpenMP kernels and the BLAS pools
(SciPy's OpenBLAS, which the kernels call, included) together."""

import numpy as np
import pytest
import scipy
import threadpoolctl

import autorec_fast as af
from autorec_fast import backends


def blas_threads():
    return {i["filepath"]: i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"}


def scipy_blas(counts):
    """The BLAS library that SciPy (and so the kernels) calls: the one under scipy's folder."""
    root = scipy.__file__.rsplit("/", 1)[0].rsplit("/", 1)[0]
    mine = {path: n for path, n in counts.items() if path.startswith(root + "/scipy")}
    assert mine, f"SciPy's BLAS not found by threadpoolctl among {sorted(counts)}"
    return mine


@pytest.fixture
def restore():
    omp, blas = af.get_num_threads(), threadpoolctl.threadpool_limits(user_api="blas")
    yield
    backends._cpu.set_num_threads(omp)
    blas.restore_original_limits()


def test_set_num_threads_sets_openmp_and_blas(restore):
    af.set_num_threads(1)
    assert af.get_num_threads() == backends._cpu.get_num_threads() == 1
    assert set(blas_threads().values()) == {1}
    assert set(scipy_blas(af.blas_num_threads()).values()) == {1}
    af.set_num_threads(3)
    assert af.get_num_threads() == 3
    assert set(blas_threads().values()) == {3}


def test_threads_context_restores_both(restore):
    af.set_num_threads(2)
    before = blas_threads()
    with af.threads(1):
        assert af.get_num_threads() == 1 and set(blas_threads().values()) == {1}
        x = np.arange(16.0).reshape(4, 4)
        assert af.train("ease", (x > 5).astype(float), l2=1.0).weights.shape == (4, 4)  # the kernels run under the limits
    assert af.get_num_threads() == 2 and blas_threads() == before
    with pytest.raises(RuntimeError), af.threads(1):
        raise RuntimeError
    assert af.get_num_threads() == 2 and blas_threads() == before


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-2, ValueError), (1.5, TypeError), ("2", TypeError),
                                        (True, TypeError), (None, TypeError)])
def test_bad_thread_counts(bad, error, restore):
    omp, blas = af.get_num_threads(), blas_threads()
    with pytest.raises(error, match="n must be"):
        af.set_num_threads(bad)
    with pytest.raises(error, match="n must be"), af.threads(bad):
        pass
    assert af.get_num_threads() == omp and blas_threads() == blas
    af.set_num_threads(np.int64(1))  # any integer type
    assert af.get_num_threads() == 1
