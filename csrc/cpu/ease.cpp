#include "cpu/ease.h"

#include <omp.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "cpu/blas.h"
#include "cpu/transpose.h"

namespace autorec::cpu {


template <typename T> void gram_upper(const CsrView<T> &X, T *G) {
  const Transposed c = transpose_pattern(X.indptr, X.indices, X.n_rows, X.n_cols);
  const int64_t n = X.n_cols;
  // With each row's indices strictly increasing (canonical CSR, what the library
  // passes), the entries j >= i of user u's row start at item i's own entry: half the
  // inner loop of walking the whole row. Any other row order takes the whole walk.
  bool sorted = true;
#pragma omp parallel for reduction(&& : sorted) schedule(static) if (X.indptr[X.n_rows] > (1 << 16))
  for (int64_t u = 0; u < X.n_rows; ++u)
    for (int64_t q = X.indptr[u] + 1; q < X.indptr[u + 1]; ++q) sorted = sorted && X.indices[q] > X.indices[q - 1];
#pragma omp parallel for schedule(dynamic, 8) if (n * n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) {
    T *row = G + i * n;
    for (int64_t p = c.colptr[i]; p < c.colptr[i + 1]; ++p) {
      const int64_t u = c.row[p];
      const T xi = X.data ? X.data[c.entry[p]] : T(1);
      for (int64_t q = sorted ? c.entry[p] : X.indptr[u]; q < X.indptr[u + 1]; ++q) {
        const int64_t j = X.indices[q];
        if (j >= i) row[j] += xi * (X.data ? X.data[q] : T(1));
      }
    }
  }
}

template <typename T> int cholesky_inverse_upper(T *G, int64_t n) {
  // Row-major upper == column-major lower, so LAPACK sees uplo = 'L'.
  char uplo = 'L';
  int nn = static_cast<int>(n);
  int lda = nn;
  int info = 0;
  blas::potrf<T>()(&uplo, &nn, G, &lda, &info);
  if (info != 0) return info;
  blas::potri<T>()(&uplo, &nn, G, &lda, &info);
  return info;
}

template <typename T> void ease_weights_from_inverse(T *P, int64_t n) {
  std::vector<T> neg_inv_diag(n);
  for (int64_t i = 0; i < n; ++i) neg_inv_diag[i] = T(-1) / P[i * n + i];
  constexpr int64_t kTile = 64;
  const int64_t n_tiles = (n + kTile - 1) / kTile;
  // Each tile pair (bi <= bj) is owned by one thread: it reads the upper tile and
  // writes the upper tile and its mirror in the lower triangle.
#pragma omp parallel for schedule(dynamic, 1) if (n_tiles > 2)
  for (int64_t bi = 0; bi < n_tiles; ++bi) {
    const int64_t i0 = bi * kTile, i1 = std::min(n, i0 + kTile);
    for (int64_t bj = bi; bj < n_tiles; ++bj) {
      const int64_t j0 = bj * kTile, j1 = std::min(n, j0 + kTile);
      for (int64_t i = i0; i < i1; ++i) {
        for (int64_t j = std::max(j0, i + 1); j < j1; ++j) {
          const T p = P[i * n + j];
          P[i * n + j] = p * neg_inv_diag[j];
          P[j * n + i] = p * neg_inv_diag[i];
        }
      }
    }
  }
  for (int64_t i = 0; i < n; ++i) P[i * n + i] = T(0);
}

#define AUTOREC_INSTANTIATE(T)                                       \
  template void gram_upper<T>(const CsrView<T> &, T *);              \
  template int cholesky_inverse_upper<T>(T *, int64_t);              \
  template void ease_weights_from_inverse<T>(T *, int64_t);
AUTOREC_INSTANTIATE(float)
AUTOREC_INSTANTIATE(double)
#undef AUTOREC_INSTANTIATE

}  // namespace autorec::cpu
