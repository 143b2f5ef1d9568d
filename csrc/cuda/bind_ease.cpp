// Bindings of the EASE kernels (csrc/cuda/ease.h).
#include "cuda/bind.h"
#include "cuda/ease.h"

namespace autorec::bind {

namespace {

template <typename T> void bind_typed(py::module_ &m) {
  m.def(
      "gram_upper",
      [](const DeviceArray &indptr, const DeviceArray &indices, const DeviceArray &data,
         const DeviceArrayOf<T> &G, std::uintptr_t stream) {
        T *g = G.data("G", {kAnySize, kAnySize}, Use::Write);
        const int64_t n = square_order(G, "G");
        const auto X = device_csr<T>(indptr, indices, &data, {"indptr", "indices", "data"});
        py::gil_scoped_release release;
        check(cuda::gram_upper<T>(X.indptr, X.indices, X.data, X.n_rows, n, g, stream_of(stream)),
              "gram_upper");
      },
      py::arg("indptr"), py::arg("indices"), py::arg("data"), py::arg("G"), py::arg("stream"),
      "G += upper triangle (row-major, j >= i) of XᵀX for the CSR X of G's n columns; G zeroed.");
  m.def(
      "ease_weights_from_inverse",
      [](const DeviceArrayOf<T> &P, const DeviceArray &diag, std::uintptr_t stream) {
        T *p = P.data("P", {kAnySize, kAnySize}, Use::Write);
        const int64_t n = square_order(P, "P");
        T *d = diag.data<T>("diag", {n}, Use::Write);
        py::gil_scoped_release release;
        check(cuda::ease_weights_from_inverse<T>(p, n, d, stream_of(stream)), "ease_weights_from_inverse");
      },
      py::arg("P"), py::arg("diag"), py::arg("stream"),
      "In place: full symmetric inverse P (n x n) -> EASE weights; diag: scratch of n.");
  m.def(
      "symmetrize_from_upper",
      [](const DeviceArrayOf<T> &A, std::uintptr_t stream) {
        T *a = A.data("A", {kAnySize, kAnySize}, Use::Write);
        const int64_t n = square_order(A, "A");
        py::gil_scoped_release release;
        check(cuda::symmetrize_from_upper<T>(a, n, stream_of(stream)), "symmetrize_from_upper");
      },
      py::arg("A"), py::arg("stream"), "In place: copy the upper triangle of A onto its lower one.");
}

}  // namespace

void bind_ease(py::module_ &m) { bind_typed<float>(m); bind_typed<double>(m); }

}  // namespace autorec::bind
