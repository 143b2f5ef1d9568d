// pybind11 boundary helpers: typed, C-contiguous arrays, checked once before a
// kernel runs so bad input becomes a ValueError naming the argument.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common/csr.h"

namespace autorec {

namespace py = pybind11;

// Input arrays: read-only, converted to the kernel's dtype and C order if needed.
template <typename T> using In = py::array_t<T, py::array::c_style | py::array::forcecast>;
// Output arrays: must already have the exact dtype and be C-contiguous and writable
// (the kernels write in place; a silent copy would lose the result).
template <typename T> using Out = py::array_t<T, py::array::c_style>;

template <typename T> T *writable(Out<T> &a, const std::string &arg) {
  if (!a.writeable()) fail(arg, "array must be writable");
  return a.mutable_data();
}

inline void check_ndim(const py::array &a, int ndim, const std::string &arg) {
  if (a.ndim() != ndim) fail(arg, "expected a " + std::to_string(ndim) + "-D array, got " +
                                      std::to_string(a.ndim()) + "-D");
}

// A host CSR matrix from its three arrays; structure checked (O(nnz)).
template <typename T>
CsrView<T> csr_view(const In<int64_t> &indptr, const In<int32_t> &indices, const T *data,
                    int64_t n_data, int64_t n_cols, const std::string &arg) {
  check_ndim(indptr, 1, arg + ".indptr");
  check_ndim(indices, 1, arg + ".indices");
  const int64_t n_rows = indptr.shape(0) - 1;
  if (n_rows < 0) fail(arg, "indptr must not be empty");
  if (data != nullptr && n_data != indices.shape(0)) fail(arg, "data and indices differ in length");
  check_csr_structure(indptr.data(), indptr.shape(0), indices.data(), indices.shape(0), n_rows,
                      n_cols, arg);
  CsrView<T> v;
  v.indptr = indptr.data();
  v.indices = indices.data();
  v.data = data;
  v.n_rows = n_rows;
  v.n_cols = n_cols;
  return v;
}

// Rows `rows` of a CSR matrix (its three arrays), copied into a small batch CSR:
// the trainers pass the whole training matrix and each mini-batch's row ids,
// so no per-batch slice is built in Python. What is read is checked: the row
// ids, their indptr runs, and (check_csr_structure) the copied column indices.
// Keep one per thread and call gather() per batch: the storage is reused (fresh
// vectors would be faulted in and zeroed by the OS every batch).
template <typename T> struct CsrRows {
  std::vector<int64_t> indptr;
  std::vector<int32_t> indices;
  std::vector<T> data;

  CsrView<T> gather(const In<int64_t> &ip, const In<int32_t> &ix, const In<T> &d,
                    const In<int64_t> &rows, int64_t n_cols, const std::string &arg) {
    check_ndim(ip, 1, arg + ".indptr");
    check_ndim(ix, 1, arg + ".indices");
    check_ndim(rows, 1, "rows");
    const int64_t n_full = ip.shape(0) - 1, nnz_full = ix.shape(0), B = rows.shape(0);
    if (n_full < 0) fail(arg, "indptr must not be empty");
    if (d.size() != nnz_full) fail(arg, "data and indices differ in length");
    const int64_t *p = ip.data(), *r = rows.data();
    indptr.assign(B + 1, 0);
    for (int64_t b = 0; b < B; ++b) {
      if (r[b] < 0 || r[b] >= n_full) fail("rows", "row index out of range [0, " + std::to_string(n_full) + ")");
      const int64_t lo = p[r[b]], hi = p[r[b] + 1];
      if (lo < 0 || lo > hi || hi > nnz_full) fail(arg, "indptr is not a valid CSR row pointer");
      indptr[b + 1] = indptr[b] + (hi - lo);
    }
    indices.resize(indptr[B]);
    data.resize(indptr[B]);
    for (int64_t b = 0; b < B; ++b) {
      const int64_t lo = p[r[b]], n = p[r[b] + 1] - lo;
      std::copy(ix.data() + lo, ix.data() + lo + n, indices.begin() + indptr[b]);
      std::copy(d.data() + lo, d.data() + lo + n, data.begin() + indptr[b]);
    }
    check_csr_structure(indptr.data(), B + 1, indices.data(), int64_t(indices.size()), B, n_cols, arg);
    CsrView<T> view;
    view.indptr = indptr.data();
    view.indices = indices.data();
    view.data = data.data();
    view.n_rows = B;
    view.n_cols = n_cols;
    return view;
  }
};

// A CSR argument given as three untyped arrays (indptr, indices, data): converted to
// int64 / int32 / T, kept alive here, and checked as csr_view does.
template <typename T> struct CsrArg {
  In<int64_t> indptr;
  In<int32_t> indices;
  In<T> data;
  CsrView<T> view;

  CsrArg(const py::array &ip, const py::array &ix, const py::array &d, int64_t n_cols,
         const std::string &arg)
      : indptr(In<int64_t>::ensure(ip)), indices(In<int32_t>::ensure(ix)), data(In<T>::ensure(d)) {
    if (!indptr || !indices || !data) throw py::error_already_set();
    view = csr_view<T>(indptr, indices, data.data(), data.size(), n_cols, arg);
  }
};

}  // namespace autorec
