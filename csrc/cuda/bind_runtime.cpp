// Bindings that report the CUDA device and runtime.
#include "cuda/bind.h"

namespace autorec::bind {

void bind_runtime(py::module_ &m) {
  m.def("device_count", []() {
    int n = 0;
    return cudaGetDeviceCount(&n) == cudaSuccess ? n : 0;
  }, "Number of usable CUDA devices (0 when there is no device or driver).");
  m.def("device_error", []() {
    int n = 0;
    const cudaError_t err = cudaGetDeviceCount(&n);
    return err == cudaSuccess ? std::string() : std::string(cudaGetErrorString(err));
  }, "Why no device is usable ('' when one is).");
  m.def("runtime_version", []() {
    int v = 0;
    cudaRuntimeGetVersion(&v);
    return v;
  }, "CUDA runtime version the extension was built with (e.g. 13000).");
}

}  // namespace autorec::bind
