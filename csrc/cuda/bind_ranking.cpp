// Binding of the ranking helper (csrc/cuda/ranking.h).
#include "cuda/bind.h"
#include "cuda/ranking.h"

namespace autorec::bind {

namespace {

template <typename T> void bind_typed(py::module_ &m) {
  m.def(typed_name<T>("fill_pattern").c_str(),
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

void bind_ranking(py::module_ &m) { bind_typed<float>(m); bind_typed<double>(m); }

}  // namespace autorec::bind
