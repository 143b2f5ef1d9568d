// Bindings of the EASE kernels (csrc/cpu/ease.h).
#include "cpu/bind.h"
#include "cpu/ease.h"

namespace autorec::bind {

namespace {

// Binds `name`: kernel(data, order) in place on the square matrix `a`.
template <typename T, typename Kernel>
void def_square_in_place(py::module_ &m, const char *name, Kernel kernel, const char *doc) {
  m.def(
      name,
      [kernel](Out<T> a) {
        check_square(a, "a");
        T *p = writable(a, "a");
        const int64_t n = a.shape(0);
        py::gil_scoped_release release;
        return kernel(p, n);
      },
      py::arg("a").noconvert(), doc);
}

template <typename T> void bind_typed(py::module_ &m) {
  m.def(
      "gram_upper",
      [](const In<int64_t> &indptr, const In<int32_t> &indices, const In<T> &data, Out<T> out) {
        check_square(out, "out");
        const int64_t n = out.shape(0);
        auto X = csr_view<T>(indptr, indices, data.data(), data.size(), n, "X");
        T *G = writable(out, "out");
        py::gil_scoped_release release;
        cpu::gram_upper(X, G);
      },
      py::arg("indptr"), py::arg("indices"), py::arg("data"), py::arg("out").noconvert(),
      "out += upper triangle of X^T X (row-major, j >= i) for the CSR matrix X.");
  def_square_in_place<T>(
      m, "cholesky_inverse_upper", &cpu::cholesky_inverse_upper<T>,
      "In place: SPD matrix (upper triangle, row-major) -> its inverse in the upper triangle "
      "(LAPACK potrf + potri). Returns LAPACK info.");
  def_square_in_place<T>(m, "ease_weights_from_inverse", &cpu::ease_weights_from_inverse<T>,
                         "In place: inverse P (upper triangle) -> EASE weights B.");
}

}  // namespace

void bind_ease(py::module_ &m) { bind_typed<float>(m); bind_typed<double>(m); }

}  // namespace autorec::bind
