// Bindings of the EASE kernels (csrc/cuda/ease.h).
#include "cuda/bind.h"
#include "cuda/ease.h"

namespace autorec::bind {

namespace {

template <typename T> void bind_typed(py::module_ &m) {
  m.def(typed_name<T>("gram_upper").c_str(),
        [](std::uintptr_t indptr, std::uintptr_t indices, std::uintptr_t data, int64_t n_rows,
           int64_t n_cols, std::uintptr_t G, std::uintptr_t stream) {
          py::gil_scoped_release release;
          check(cuda::gram_upper<T>(ptr<const int64_t>(indptr), ptr<const int32_t>(indices),
                                    ptr<const T>(data), n_rows, n_cols, ptr<T>(G), stream_of(stream)),
                "gram_upper");
        },
        py::arg("indptr"), py::arg("indices"), py::arg("data"), py::arg("n_rows"),
        py::arg("n_cols"), py::arg("G"), py::arg("stream"));
  m.def(typed_name<T>("ease_weights_from_inverse").c_str(),
        [](std::uintptr_t P, int64_t n, std::uintptr_t diag, std::uintptr_t stream) {
          py::gil_scoped_release release;
          check(cuda::ease_weights_from_inverse<T>(ptr<T>(P), n, ptr<T>(diag), stream_of(stream)),
                "ease_weights_from_inverse");
        },
        py::arg("P"), py::arg("n"), py::arg("diag"), py::arg("stream"));
  m.def(typed_name<T>("symmetrize_from_upper").c_str(),
        [](std::uintptr_t A, int64_t n, std::uintptr_t stream) {
          py::gil_scoped_release release;
          check(cuda::symmetrize_from_upper<T>(ptr<T>(A), n, stream_of(stream)),
                "symmetrize_from_upper");
        },
        py::arg("A"), py::arg("n"), py::arg("stream"));
}

}  // namespace

void bind_ease(py::module_ &m) { bind_typed<float>(m); bind_typed<double>(m); }

}  // namespace autorec::bind
