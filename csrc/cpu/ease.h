// EASE (Steck, WWW 2019) on the CPU: B = -P / diag(P), P = (X^T X + l2 I)^-1.
#pragma once

#include <cstdint>

#include "common/csr.h"

namespace autorec::cpu {

// G += X^T X, upper triangle only (row-major, j >= i), straight from CSR: row i of
// G sums x_ui * X[u, :] over the users u of item i. Parallel over rows of G, so
// no two threads write the same entry. G is n_cols x n_cols and must be zeroed.
template <typename T> void gram_upper(const CsrView<T> &X, T *G);

// In place: G (symmetric positive definite, upper triangle row-major) -> its
// inverse in the same triangle via Cholesky (potrf + potri). Returns LAPACK info
// (0 ok; > 0: leading minor of that order not positive definite).
template <typename T> int cholesky_inverse_upper(T *G, int64_t n);

// In place: P (inverse, upper triangle valid) -> B with B_ij = -P_ij / P_jj for
// i != j and B_ii = 0; both triangles written. Tiled so the transposed writes
// stay in cache.
template <typename T> void ease_weights_from_inverse(T *P, int64_t n);

}  // namespace autorec::cpu
