// Binding of the negative sampling for the implicit models (csrc/cpu/sampling.h).
#include "cpu/bind.h"
#include "cpu/sampling.h"

namespace autorec::bind {

void bind_sampling(py::module_ &m) {
  m.def(
      "sample_negatives",
      [](const In<int64_t> &indptr, const In<int32_t> &indices, int64_t n_cols, int64_t ratio,
         uint64_t seed) {
        if (ratio < 0) fail("ratio", "must be >= 0");
        auto X = csr_view<float>(indptr, indices, nullptr, 0, n_cols, "positives");
        cpu::SampledTargets t;
        {
          py::gil_scoped_release release;
          t = cpu::sample_negatives(X, ratio, seed);
        }
        return py::make_tuple(py::array_t<int64_t>(t.indptr.size(), t.indptr.data()),
                              py::array_t<int32_t>(t.indices.size(), t.indices.data()),
                              py::array_t<float>(t.targets.size(), t.targets.data()));
      },
      py::arg("indptr"), py::arg("indices"), py::arg("n_cols"), py::arg("ratio"), py::arg("seed"),
      "Per row: the positives (target 1), then min(ratio * n_pos, free) distinct uniformly drawn "
      "non-positive items (target 0). Returns CSR (indptr, indices, targets).");
}

}  // namespace autorec::bind
