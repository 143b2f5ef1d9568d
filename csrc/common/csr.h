// A read-only view of a CSR matrix as the kernels take it: int64 row pointers,
// int32 column indices. Shared by the CPU and CUDA bindings.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace autorec {

template <typename T> struct CsrView {
  const int64_t *indptr = nullptr;   // n_rows + 1
  const int32_t *indices = nullptr;  // nnz, each in [0, n_cols)
  const T *data = nullptr;           // nnz, may be null for "all ones"
  int64_t n_rows = 0;
  int64_t n_cols = 0;
  int64_t nnz() const { return indptr[n_rows]; }
};

// Raised as ValueError by pybind11's translator (std::invalid_argument -> ValueError).
inline void fail(const std::string &arg, const std::string &what) {
  throw std::invalid_argument("argument '" + arg + "': " + what);
}

// Checks the structure of a host CSR matrix (O(rows + nnz)); run before any hot
// loop so a bad matrix gives a ValueError, never an out-of-bounds access.
inline void check_csr_structure(const int64_t *indptr, int64_t n_indptr, const int32_t *indices,
                                int64_t n_indices, int64_t n_rows, int64_t n_cols,
                                const std::string &arg) {
  if (n_indptr != n_rows + 1) fail(arg, "indptr must have n_rows + 1 entries");
  if (indptr[0] != 0) fail(arg, "indptr[0] must be 0");
  for (int64_t r = 0; r < n_rows; ++r) {
    if (indptr[r + 1] < indptr[r]) fail(arg, "indptr must be non-decreasing");
  }
  if (indptr[n_rows] != n_indices) fail(arg, "indptr[-1] must equal the number of indices");
  for (int64_t p = 0; p < n_indices; ++p) {
    if (indices[p] < 0 || indices[p] >= n_cols) {
      fail(arg, "column index " + std::to_string(indices[p]) + " out of range [0, " +
                    std::to_string(n_cols) + ")");
    }
  }
}

}  // namespace autorec
