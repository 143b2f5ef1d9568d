// Full-ranking kernels: sparse x dense scoring, top-K with exclusion, hits.
#pragma once

#include <cstdint>

#include "common/csr.h"

namespace autorec::cpu {

// out (n_rows x m, row-major, overwritten) = X (CSR, n_rows x k) * W (k x m, row-major).
// Item-major within column blocks: each row of W is read once per block and
// scattered into the rows of X that use it, so W streams from memory once.
template <typename T> void csr_matmul_dense(const CsrView<T> &X, const T *W, int64_t m, T *out);

// For each row of scores (n_rows x n_items), the k best items in descending order
// (ties: lower item index first), skipping the row's items in `exclude` and NaN
// scores (exclude/targets: only their pattern is read). Rows with fewer than k eligible items are padded with index -1 and -inf.
template <typename T>
void topk_exclude(const T *scores, int64_t n_rows, int64_t n_items, const CsrView<float> *exclude,
                  int64_t k, int64_t *out_index, T *out_score);

// hits[r, i] = 1 when topk[r, i] is one of row r's targets.
void hits_at_k(const int64_t *topk, int64_t n_rows, int64_t k, const CsrView<float> &targets,
               uint8_t *hits);

// 1-based full-ranking position of each row's first target among the
// non-excluded items, in the top-K order (score descending, ties by lower item
// index); 0 when the row has no target.
template <typename T>
void first_hit_rank(const T *scores, int64_t n_rows, int64_t n_items, const CsrView<float> *exclude,
                    const CsrView<float> &targets, int64_t *rank);

}  // namespace autorec::cpu
