// The _cpu extension: pybind11 bindings of the OpenMP kernels. Every entry point
// checks its arguments first, then releases the GIL around the kernel.
#include <omp.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <optional>

#include "common/array_args.h"
#include "cpu/blas.h"
#include "cpu/ease.h"
#include "cpu/ranking.h"

namespace py = pybind11;
using namespace autorec;

namespace {

template <typename T> void check_square(const py::array &a, const std::string &arg) {
  check_ndim(a, 2, arg);
  if (a.shape(0) != a.shape(1)) fail(arg, "expected a square matrix");
}

template <typename T>
void bind_dtype(py::module_ &m) {
  m.def(
      "gram_upper",
      [](const In<int64_t> &indptr, const In<int32_t> &indices, const In<T> &data, Out<T> out) {
        check_square<T>(out, "out");
        const int64_t n = out.shape(0);
        auto X = csr_view<T>(indptr, indices, data.data(), data.size(), n, "X");
        T *G = writable(out, "out");
        py::gil_scoped_release release;
        cpu::gram_upper(X, G);
      },
      py::arg("indptr"), py::arg("indices"), py::arg("data"), py::arg("out").noconvert(),
      "out += upper triangle of X^T X (row-major, j >= i) for the CSR matrix X.");
  m.def(
      "cholesky_inverse_upper",
      [](Out<T> a) {
        check_square<T>(a, "a");
        T *p = writable(a, "a");
        const int64_t n = a.shape(0);
        py::gil_scoped_release release;
        return cpu::cholesky_inverse_upper(p, n);
      },
      py::arg("a").noconvert(),
      "In place: SPD matrix (upper triangle, row-major) -> its inverse in the upper triangle "
      "(LAPACK potrf + potri). Returns LAPACK info.");
  m.def(
      "ease_weights_from_inverse",
      [](Out<T> a) {
        check_square<T>(a, "a");
        T *p = writable(a, "a");
        const int64_t n = a.shape(0);
        py::gil_scoped_release release;
        cpu::ease_weights_from_inverse(p, n);
      },
      py::arg("a").noconvert(), "In place: inverse P (upper triangle) -> EASE weights B.");
  m.def(
      "ease_fit",
      [](const In<int64_t> &indptr, const In<int32_t> &indices, const In<T> &data, double l2,
         Out<T> out) {
        if (!(l2 > 0) || !std::isfinite(l2)) fail("l2", "must be a finite number > 0");
        check_square<T>(out, "out");
        const int64_t n = out.shape(0);
        auto X = csr_view<T>(indptr, indices, data.data(), data.size(), n, "X");
        T *B = writable(out, "out");
        py::gil_scoped_release release;
        cpu::ease_fit(X, static_cast<T>(l2), B);
      },
      py::arg("indptr"), py::arg("indices"), py::arg("data"), py::arg("l2"),
      py::arg("out").noconvert(),
      "EASE weights in the caller's zeroed n x n buffer (the only large allocation).");
  m.def(
      "csr_matmul_dense",
      [](const In<int64_t> &indptr, const In<int32_t> &indices, const In<T> &data, const In<T> &W,
         Out<T> out) {
        check_ndim(W, 2, "W");
        check_ndim(out, 2, "out");
        auto X = csr_view<T>(indptr, indices, data.data(), data.size(), W.shape(0), "X");
        if (out.shape(0) != X.n_rows || out.shape(1) != W.shape(1))
          fail("out", "shape must be (X rows, W columns)");
        T *o = writable(out, "out");
        const T *w = W.data();
        const int64_t m = W.shape(1);
        py::gil_scoped_release release;
        cpu::csr_matmul_dense(X, w, m, o);
      },
      py::arg("indptr"), py::arg("indices"), py::arg("data"), py::arg("W").noconvert(),
      py::arg("out").noconvert(), "out = X @ W for CSR X and dense row-major W.");
  m.def(
      "topk_exclude",
      [](const In<T> &scores, std::optional<In<int64_t>> ex_indptr,
         std::optional<In<int32_t>> ex_indices, int64_t k) {
        check_ndim(scores, 2, "scores");
        const int64_t n_rows = scores.shape(0), n_items = scores.shape(1);
        if (k <= 0) fail("k", "must be >= 1");
        if (k > n_items) fail("k", "must be <= the number of items (" + std::to_string(n_items) + ")");
        std::optional<CsrView<float>> ex;
        if (ex_indptr.has_value() != ex_indices.has_value())
          fail("exclude", "give both indptr and indices, or neither");
        if (ex_indptr) {
          ex = csr_view<float>(*ex_indptr, *ex_indices, nullptr, 0, n_items, "exclude");
          if (ex->n_rows != n_rows) fail("exclude", "must have one row per row of scores");
        }
        py::array_t<int64_t> idx({n_rows, k});
        py::array_t<T> val({n_rows, k});
        int64_t *pi = idx.mutable_data();
        T *pv = val.mutable_data();
        const T *s = scores.data();
        {
          py::gil_scoped_release release;
          cpu::topk_exclude(s, n_rows, n_items, ex ? &*ex : nullptr, k, pi, pv);
        }
        return py::make_tuple(idx, val);
      },
      py::arg("scores").noconvert(), py::arg("exclude_indptr") = py::none(),
      py::arg("exclude_indices") = py::none(), py::arg("k"),
      "Top-k item indices and scores per row, excluded items skipped.");
  m.def(
      "first_hit_rank",
      [](const In<T> &scores, std::optional<In<int64_t>> ex_indptr,
         std::optional<In<int32_t>> ex_indices, const In<int64_t> &tg_indptr,
         const In<int32_t> &tg_indices) {
        check_ndim(scores, 2, "scores");
        const int64_t n_rows = scores.shape(0), n_items = scores.shape(1);
        std::optional<CsrView<float>> ex;
        if (ex_indptr.has_value() != ex_indices.has_value())
          fail("exclude", "give both indptr and indices, or neither");
        if (ex_indptr) {
          ex = csr_view<float>(*ex_indptr, *ex_indices, nullptr, 0, n_items, "exclude");
          if (ex->n_rows != n_rows) fail("exclude", "must have one row per row of scores");
        }
        auto tg = csr_view<float>(tg_indptr, tg_indices, nullptr, 0, n_items, "targets");
        if (tg.n_rows != n_rows) fail("targets", "must have one row per row of scores");
        py::array_t<int64_t> rank(n_rows);
        int64_t *pr = rank.mutable_data();
        const T *s = scores.data();
        {
          py::gil_scoped_release release;
          cpu::first_hit_rank(s, n_rows, n_items, ex ? &*ex : nullptr, tg, pr);
        }
        return rank;
      },
      py::arg("scores").noconvert(), py::arg("exclude_indptr"), py::arg("exclude_indices"),
      py::arg("target_indptr"), py::arg("target_indices"),
      "1-based full-ranking rank of each row's best target (0: no target).");
}

}  // namespace

PYBIND11_MODULE(_cpu, m) {
  m.doc() = "autorec_fast CPU kernels (C++ / OpenMP; BLAS and LAPACK through SciPy's OpenBLAS)";
  m.def("_init_blas", &blas::init_from_capsules, py::arg("lapack_capi"), py::arg("blas_capi"),
        "Take SciPy's cython_lapack / cython_blas __pyx_capi__ capsules.");
  bind_dtype<float>(m);
  bind_dtype<double>(m);
  m.def(
      "hits_at_k",
      [](const In<int64_t> &topk, const In<int64_t> &tg_indptr, const In<int32_t> &tg_indices,
         int64_t n_items) {
        check_ndim(topk, 2, "topk");
        const int64_t n_rows = topk.shape(0), k = topk.shape(1);
        auto tg = csr_view<float>(tg_indptr, tg_indices, nullptr, 0, n_items, "targets");
        if (tg.n_rows != n_rows) fail("targets", "must have one row per row of topk");
        const int64_t *t = topk.data();
        for (int64_t i = 0; i < n_rows * k; ++i)
          if (t[i] >= n_items) fail("topk", "item index out of range");
        py::array_t<uint8_t> hits({n_rows, k});
        uint8_t *h = hits.mutable_data();
        {
          py::gil_scoped_release release;
          cpu::hits_at_k(t, n_rows, k, tg, h);
        }
        return hits;
      },
      py::arg("topk"), py::arg("target_indptr"), py::arg("target_indices"), py::arg("n_items"),
      "hits[r, i] = 1 when topk[r, i] is a target of row r.");
  m.def("get_num_threads", []() { return omp_get_max_threads(); },
        "Threads the OpenMP kernels use.");
  m.def(
      "set_num_threads",
      [](int n) {
        if (n < 1) fail("n", "must be >= 1");
        omp_set_num_threads(n);
      },
      py::arg("n"), "Set the number of OpenMP threads for the kernels.");
}
