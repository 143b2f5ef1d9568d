// Column view (CSC) of a CSR pattern, built per call by a counting sort. The
// gradient and Gram kernels iterate over it so that each output row is owned by
// one thread: no atomics, no per-thread copies of the output.
#pragma once

#include <cstdint>
#include <vector>

namespace autorec::cpu {

struct Transposed {
  std::vector<int64_t> colptr;  // n_cols + 1
  std::vector<int32_t> row;     // CSR row of each entry, grouped by column
  std::vector<int64_t> entry;   // position of each entry in the CSR arrays
};

// Into t, reusing its storage: a kernel called once per mini-batch keeps one
// Transposed per thread, so its arrays are not allocated (and their pages
// faulted in and zeroed by the OS) again every batch.
inline void transpose_pattern_into(Transposed &t, const int64_t *indptr, const int32_t *indices,
                                   int64_t n_rows, int64_t n_cols) {
  const int64_t nnz = indptr[n_rows];
  t.colptr.assign(n_cols + 1, 0);
  t.row.resize(nnz);
  t.entry.resize(nnz);
  for (int64_t p = 0; p < nnz; ++p) t.colptr[indices[p] + 1]++;
  for (int64_t j = 0; j < n_cols; ++j) t.colptr[j + 1] += t.colptr[j];
  thread_local std::vector<int64_t> next;
  next.assign(t.colptr.begin(), t.colptr.end() - 1);
  for (int64_t r = 0; r < n_rows; ++r)
    for (int64_t p = indptr[r]; p < indptr[r + 1]; ++p) {
      const int64_t q = next[indices[p]]++;
      t.row[q] = static_cast<int32_t>(r);
      t.entry[q] = p;
    }
}

inline Transposed transpose_pattern(const int64_t *indptr, const int32_t *indices, int64_t n_rows,
                                    int64_t n_cols) {
  Transposed t;
  transpose_pattern_into(t, indptr, indices, n_rows, n_cols);
  return t;
}

}  // namespace autorec::cpu
