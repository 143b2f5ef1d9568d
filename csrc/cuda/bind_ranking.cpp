// Binding of the ranking helper (csrc/cuda/ranking.h).
#include "cuda/bind.h"
#include "cuda/ranking.h"

namespace autorec::bind {

namespace {

template <typename T> void bind_typed(py::module_ &m) {
  m.def(
      "fill_pattern",
      [](const DeviceArrayOf<T> &scores, const DeviceArray &indptr, const DeviceArray &indices,
         double value, std::uintptr_t stream) {
        T *s = scores.data("scores", {kAnySize, kAnySize}, Use::Write);
        const int64_t n_rows = scores.dim(0), n_items = scores.dim(1);
        const auto P = device_csr<T>(indptr, indices, nullptr, {"indptr", "indices", ""});
        if (P.n_rows != n_rows) fail("indptr", "must have one entry per row of scores, plus one");
        py::gil_scoped_release release;
        check(cuda::fill_pattern<T>(s, n_rows, n_items, P.indptr, P.indices, static_cast<T>(value),
                                    stream_of(stream)),
              "fill_pattern");
      },
      py::arg("scores"), py::arg("indptr"), py::arg("indices"), py::arg("value"), py::arg("stream"),
      "scores[r, j] = value for every item j in row r of the CSR pattern (indptr, indices).");
}

}  // namespace

void bind_ranking(py::module_ &m) { bind_typed<float>(m); bind_typed<double>(m); }

}  // namespace autorec::bind
