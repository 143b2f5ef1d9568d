// The _cuda extension: bindings of the CUDA kernels. Arrays arrive as raw device
// pointers of CuPy arrays (the Python layer owns and checks them) and kernels run
// on the given stream (CuPy's current stream). Without a device the module still
// imports; device_count() then reports 0 and device_error() says why.
#include <cuda_runtime.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "cuda/kernels.h"

namespace py = pybind11;
using namespace autorec;

namespace {
void check(cudaError_t err, const char *what) {
  if (err != cudaSuccess)
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(err));
}
template <typename T> T *ptr(std::uintptr_t p) { return reinterpret_cast<T *>(p); }
cudaStream_t stream_of(std::uintptr_t s) { return reinterpret_cast<cudaStream_t>(s); }

template <typename T> void bind_dtype(py::module_ &m, const char *suffix) {
  const std::string sfx(suffix);
  m.def(("gram_upper_" + sfx).c_str(),
        [](std::uintptr_t indptr, std::uintptr_t indices, std::uintptr_t data, int64_t n_rows,
           int64_t n_cols, std::uintptr_t G, std::uintptr_t stream) {
          py::gil_scoped_release release;
          check(cuda::gram_upper<T>(ptr<const int64_t>(indptr), ptr<const int32_t>(indices),
                                    ptr<const T>(data), n_rows, n_cols, ptr<T>(G), stream_of(stream)),
                "gram_upper");
        },
        py::arg("indptr"), py::arg("indices"), py::arg("data"), py::arg("n_rows"),
        py::arg("n_cols"), py::arg("G"), py::arg("stream"));
  m.def(("ease_weights_from_inverse_" + sfx).c_str(),
        [](std::uintptr_t P, int64_t n, std::uintptr_t diag, std::uintptr_t stream) {
          py::gil_scoped_release release;
          check(cuda::ease_weights_from_inverse<T>(ptr<T>(P), n, ptr<T>(diag), stream_of(stream)),
                "ease_weights_from_inverse");
        },
        py::arg("P"), py::arg("n"), py::arg("diag"), py::arg("stream"));
  m.def(("symmetrize_from_upper_" + sfx).c_str(),
        [](std::uintptr_t A, int64_t n, std::uintptr_t stream) {
          py::gil_scoped_release release;
          check(cuda::symmetrize_from_upper<T>(ptr<T>(A), n, stream_of(stream)),
                "symmetrize_from_upper");
        },
        py::arg("A"), py::arg("n"), py::arg("stream"));
  m.def(("fill_pattern_" + sfx).c_str(),
        [](std::uintptr_t scores, int64_t n_rows, int64_t n_items, std::uintptr_t indptr,
           std::uintptr_t indices, double value, std::uintptr_t stream) {
          py::gil_scoped_release release;
          check(cuda::fill_pattern<T>(ptr<T>(scores), n_rows, n_items, ptr<const int64_t>(indptr),
                                      ptr<const int32_t>(indices), static_cast<T>(value),
                                      stream_of(stream)),
                "fill_pattern");
        },
        py::arg("scores"), py::arg("n_rows"), py::arg("n_items"), py::arg("indptr"),
        py::arg("indices"), py::arg("value"), py::arg("stream"));
}
}  // namespace

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "autorec_fast CUDA kernels (device pointers from CuPy arrays)";
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
  bind_dtype<float>(m, "f32");
  bind_dtype<double>(m, "f64");
}
