"""The backend layer: the only place that calls the compiled kernels.

Models never branch on the device. Each holds one backend object,
``get_backend(device, dtype)``: :class:`~autorec_fast.backends.cpu.CpuBackend`
(host NumPy arrays, the ``_cpu`` extension, BLAS/LAPACK) or
:class:`~autorec_fast.backends.cuda.CudaBackend` (CuPy arrays, the ``_cuda``
extension, cuBLAS/cuSPARSE/cuSOLVER through CuPy). Both offer the same
methods, so one model body serves both devices; ``backend.xp`` is NumPy or
CuPy for the element-wise glue between kernels.

This module also loads the extensions. ``_cpu`` is always present; it reaches
BLAS/LAPACK through SciPy's bundled OpenBLAS (the routines' capsules are
handed over here, once). ``_cuda`` exists when the package was built with a
CUDA compiler; it needs a CUDA device and CuPy at run time.
"""

from __future__ import annotations

from scipy.linalg import cython_blas, cython_lapack

try:
    from .. import _cpu
except ImportError as exc:  # pragma: no cover - depends on how the package was installed
    raise ImportError(
        "autorec_fast's compiled extension _cpu is missing. Install the package with "
        "'pip install .' and import it from outside the source tree (run the tests with "
        "'pytest', not 'python -m pytest', from the repository root)."
    ) from exc

_cpu._init_blas(cython_lapack.__pyx_capi__, cython_blas.__pyx_capi__)

from .threads import blas_num_threads, get_num_threads, set_num_threads, threads  # noqa: E402, F401

try:
    from .. import _cuda  # noqa: F401
except ImportError as exc:  # built without a CUDA compiler
    _cuda = None
    _CUDA_IMPORT_ERROR = str(exc)
else:
    _CUDA_IMPORT_ERROR = ""

#: True when the CUDA extension was built (a device may still be absent).
HAS_CUDA = _cuda is not None

DEVICES = ("cpu", "cuda")


def cuda_device_count() -> int:
    """Number of CUDA devices the extension can use (0 without extension, driver or device)."""
    return _cuda.device_count() if _cuda is not None else 0


def cuda_unavailable_reason() -> str:
    """Why ``device='cuda'`` cannot run here, or ``''`` when it can."""
    if _cuda is None:
        return f"autorec_fast was built without its CUDA extension ({_CUDA_IMPORT_ERROR})"
    if _cuda.device_count() == 0:
        return f"no CUDA device is available ({_cuda.device_error() or 'none found'})"
    try:
        import cupy  # noqa: F401
    except ImportError:
        return "CuPy is not installed: pip install 'autorec_fast[cuda]'"
    return ""


def cuda_available() -> bool:
    """True when models can be trained with ``device='cuda'`` on this machine."""
    return cuda_unavailable_reason() == ""


def check_device(device: str) -> str:
    """Validate a ``device`` argument; raise a clear error when CUDA cannot run."""
    if not isinstance(device, str) or device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    if device == "cuda":
        reason = cuda_unavailable_reason()
        if reason:
            raise RuntimeError(f"device='cuda' requested but {reason}")
    return device


def get_backend(device: str, dtype):
    """The backend object for ``device`` ("cpu" or "cuda") and a float dtype."""
    check_device(device)
    if device == "cuda":
        from .cuda import CudaBackend

        return CudaBackend(dtype)
    from .cpu import CpuBackend

    return CpuBackend(dtype)


# The kernels' codes for activations, optimizers and losses, named as the models'
# options spell them. Defined once, in C++ (csrc/common/activations.h, optimizer.h).
def _codes(enum) -> dict[str, int]:
    return {name: int(value) for name, value in enum.__members__.items()}


ACTIVATIONS = _codes(_cpu.Activation)
OPTIMIZERS = _codes(_cpu.Optimizer)
LOSSES = _codes(_cpu.Loss)
#: Adam's constants, as the kernels use them
ADAM_BETA1, ADAM_BETA2, ADAM_EPS = _cpu.ADAM_BETA1, _cpu.ADAM_BETA2, _cpu.ADAM_EPS
