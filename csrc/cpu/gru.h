// GRU over packed variable-length sequences (SVAE's recurrent layer).
//
// Packed layout, as PyTorch's PackedSequence: sequences sorted by length,
// longest first; step t holds the first batch_sizes[t] sequences (a
// non-increasing count) in rows offset[t] .. offset[t] + batch_sizes[t] of
// every T-row array, so each step is a contiguous block and no padding is
// stored or computed. Gate order r, z, n and the formulas are PyTorch's:
//   r = σ(xr + hr), z = σ(xz + hz), n = tanh(xn + r ⊙ hn), h' = (1 - z) ⊙ n + z ⊙ h
// with [hr, hz, hn] = h · W_hh + b_hh and the input part [xr, xz, xn]
// (= x · W_ih + b_ih) computed beforehand by one large GEMM. h0 = 0.
#pragma once

#include <cstdint>

namespace autorec::cpu {

// Forward. Xi (T x 3G): input pre-activations; W_hh (G x 3G); b_hh (3G).
// Writes H (T x G), the outputs h_t, and cache (T x 4G): r, z, n, hn per row,
// which the backward pass reads.
template <typename T>
void gru_forward(const T *Xi, const int64_t *batch_sizes, int64_t n_steps, int64_t G,
                 const T *W_hh, const T *b_hh, T *H, T *cache);

// Backward through time. dH (T x G): dLoss/dh_t from the layers above.
// Writes dXi (T x 3G), the gradient w.r.t. the input pre-activations (so
// dW_ih = Xᵀ·dXi, db_ih = Σ rows, dX = dXi·W_ihᵀ), and accumulates into
// dW_hh (G x 3G) and db_hh (3G).
template <typename T>
void gru_backward(const T *dH, const T *H, const T *cache, const int64_t *batch_sizes,
                  int64_t n_steps, int64_t G, const T *W_hh, T *dXi, T *dW_hh, T *db_hh);

}  // namespace autorec::cpu
