"""Benchmark session setup: the same threads for us and for PyTorch, machine facts recorded."""

import os
import platform

import pytest

# Each library keeps its own OpenMP default: autorec_fast sets OMP_WAIT_POLICY=PASSIVE
# for its libgomp when imported (unless the user set it); PyTorch's bundled libgomp
# must not inherit that, so it is imported after the variable is restored.
_user_policy = os.environ.get("OMP_WAIT_POLICY")
import autorec_fast as af  # noqa: E402

if _user_policy is None:
    os.environ.pop("OMP_WAIT_POLICY", None)
torch = pytest.importorskip("torch", reason="the benchmarks compare against PyTorch: pip install torch")


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info["cpu_count"] = os.cpu_count()
    machine_info["omp_threads"] = af.get_num_threads()
    machine_info["torch_threads"] = torch.get_num_threads()
    machine_info["torch_version"] = torch.__version__
    machine_info["processor"] = platform.processor() or platform.machine()
    machine_info["cuda_devices"] = af.cuda_device_count()
    machine_info["bench_device"] = os.environ.get("AUTOREC_BENCH_DEVICE", "cpu")
    if torch.cuda.is_available():
        machine_info["gpu"] = torch.cuda.get_device_name()
        machine_info["torch_cuda"] = torch.version.cuda
    try:
        with open("/proc/cpuinfo") as f:
            machine_info["cpu_model"] = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass


@pytest.fixture(scope="session", autouse=True)
def same_thread_count():
    """PyTorch gets as many threads as our OpenMP kernels (and OpenBLAS) use."""
    torch.set_num_threads(af.get_num_threads())
