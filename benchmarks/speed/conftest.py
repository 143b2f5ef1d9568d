"""Speed-suite session setup: ``benchmarks/`` on sys.path, the same threads for us and for
PyTorch, machine facts recorded.

    pytest benchmarks/speed/test_autorec_bench.py --benchmark-enable --benchmark-json=autorec.json
"""

import os
import platform
import sys
from pathlib import Path

import pytest

# benchmarks/ (not the repository root: see common.py): ``common`` and ``baselines.*``
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import af  # first: autorec_fast before torch (OMP_WAIT_POLICY, see common.py)

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
            machine_info["cpu_model"] = next(line.split(":", 1)[1].strip() for line in f
                                             if line.startswith("model name"))
    except (OSError, StopIteration):
        pass


@pytest.fixture(scope="session", autouse=True)
def same_thread_count():
    """PyTorch gets as many threads as our OpenMP kernels (and OpenBLAS) use."""
    torch.set_num_threads(af.get_num_threads())
