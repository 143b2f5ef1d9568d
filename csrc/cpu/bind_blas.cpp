// Bindings of the BLAS/LAPACK table and the row-major GEMM (csrc/cpu/blas.h).
#include <limits>

#include "cpu/bind.h"
#include "cpu/blas.h"

namespace autorec::bind {

namespace {

template <typename T> void bind_typed(py::module_ &m) {
  m.def(
      "gemm",
      [](const In<T> &A, bool trans_a, const In<T> &B, bool trans_b, Out<T> C, double alpha,
         double beta) {
        check_ndim(A, 2, "A");
        check_ndim(B, 2, "B");
        check_ndim(C, 2, "C");
        const int64_t m = trans_a ? A.shape(1) : A.shape(0), k = trans_a ? A.shape(0) : A.shape(1);
        const int64_t kb = trans_b ? B.shape(1) : B.shape(0), n = trans_b ? B.shape(0) : B.shape(1);
        if (k != kb) fail("B", "inner dimensions differ");
        check_shape2(C, m, n, "C");
        const int64_t lim = std::numeric_limits<int>::max();
        if (A.shape(0) > lim || A.shape(1) > lim || B.shape(0) > lim || B.shape(1) > lim)
          fail("A", "dimension too large for 32-bit BLAS");
        T *c = writable(C, "C");
        py::gil_scoped_release release;
        cpu::gemm_rowmajor<T>(trans_a, trans_b, m, n, k, static_cast<T>(alpha), A.data(), A.shape(1),
                              B.data(), B.shape(1), static_cast<T>(beta), c, n);
      },
      py::arg("A"), py::arg("trans_a"), py::arg("B"), py::arg("trans_b"), py::arg("C").noconvert(),
      py::arg("alpha") = 1.0, py::arg("beta") = 0.0,
      "C = alpha op(A) op(B) + beta C (row-major) through SciPy's OpenBLAS.");
}

void bind_untyped(py::module_ &m) {
  m.def("_init_blas", &blas::init_from_capsules, py::arg("lapack_capi"), py::arg("blas_capi"),
        "Take SciPy's cython_lapack / cython_blas __pyx_capi__ capsules.");
}

}  // namespace

void bind_blas(py::module_ &m) { bind_untyped(m); bind_typed<float>(m); bind_typed<double>(m); }

}  // namespace autorec::bind
