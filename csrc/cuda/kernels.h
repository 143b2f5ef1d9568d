// CUDA kernels of autorec_fast, launched on a caller's stream (CuPy's current
// stream). Pointers are device pointers owned by CuPy arrays; the Python layer
// checks shapes, dtypes and index ranges before launching.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "common/activations.h"
#include "common/optimizer.h"

namespace autorec::cuda {

// G += upper triangle (row-major, j >= i) of X^T X for CSR X; G must be zeroed.
template <typename T>
cudaError_t gram_upper(const int64_t *indptr, const int32_t *indices, const T *data,
                       int64_t n_rows, int64_t n_cols, T *G, cudaStream_t stream);

// In place: full symmetric inverse P -> EASE weights B_ij = -P_ij / P_jj, B_ii = 0.
// `diag` is scratch of n entries.
template <typename T>
cudaError_t ease_weights_from_inverse(T *P, int64_t n, T *diag, cudaStream_t stream);

// Copy the upper triangle of a row-major square matrix onto its lower triangle.
template <typename T> cudaError_t symmetrize_from_upper(T *A, int64_t n, cudaStream_t stream);

// scores[r, j] = value for every item j in row r of the CSR pattern `exclude`.
template <typename T>
cudaError_t fill_pattern(T *scores, int64_t n_rows, int64_t n_items, const int64_t *indptr,
                         const int32_t *indices, T value, cudaStream_t stream);

// ---- AutoRec (csrc/cuda/autorec.cu) -------------------------------------------

// One mini-batch on the device: inputs X and targets Y (CSR, same rows) and
// their transposed patterns (colptr / batch row / entry position, built on the
// host), all device pointers.
template <typename T> struct AutoRecBatch {
  int64_t n_rows = 0;
  const int64_t *x_indptr = nullptr;
  const int32_t *x_indices = nullptr;
  const T *x_data = nullptr;
  const int64_t *y_indptr = nullptr;
  const int32_t *y_indices = nullptr;
  const T *y_data = nullptr;
  const int64_t *xt_colptr = nullptr;
  const int32_t *xt_row = nullptr;
  const int64_t *xt_entry = nullptr;
  const int64_t *yt_colptr = nullptr;
  const int32_t *yt_row = nullptr;
  const int64_t *yt_entry = nullptr;
};

template <typename T> struct AutoRecDeviceNet {
  int64_t n_in = 0, n_out = 0, k = 0;
  Slot<T> Vt{}, mu{}, W{}, b{};
  Act hidden = Act::Sigmoid, output = Act::Identity;
  Loss loss = Loss::Squared;
};

// Forward, masked loss (added to *loss), backward and the fused optimizer step.
// Scratch: H and dZ (n_rows x k), D (nnz of Y).
template <typename T>
cudaError_t autorec_batch(const AutoRecBatch<T> &batch, const AutoRecDeviceNet<T> &net,
                          T l2_scale, const OptConfig &opt, T *H, T *dZ, T *D, double *loss,
                          cudaStream_t stream);

// Encode the rows of X into H (n_rows x k), then out[p] = f(W[cols[p]]·H[rows[p]] + b).
template <typename T>
cudaError_t autorec_predict(const int64_t *indptr, const int32_t *indices, const T *data,
                            int64_t n_rows, const AutoRecDeviceNet<T> &net, const int64_t *rows,
                            const int64_t *cols, int64_t n_pairs, T *H, T *out,
                            cudaStream_t stream);

// ---- Mult-VAE / Mult-DAE (csrc/cuda/multinomial.cu) -----------------------------

// In place over dense logits (n_rows x n): (+ bias) -> scale * d/dl of
// -Σ_i x_i log softmax(l)_i for the CSR rows x; adds scale * the loss to *loss.
template <typename T>
cudaError_t multinomial_nll_grad(T *logits, const T *bias, const int64_t *indptr,
                                 const int32_t *indices, const T *x, int64_t n_rows, int64_t n,
                                 T scale, double *loss, cudaStream_t stream);

// Dense parameter of n elements: gradient grad + l2_scale * param, then the step.
template <typename T>
cudaError_t dense_step(const Slot<T> &s, int64_t n, const T *grad, T l2_scale, const OptConfig &opt,
                       cudaStream_t stream);


// ---- SVAE's GRU (csrc/cuda/gru.cu) ----------------------------------------------

// One packed step, forward: rows i < B of Xi (B x 3G), gh = h_prev·W_hh (B x 3G,
// null at step 0), h_prev (null at step 0) -> H (B x G) and cache r|z|n|hn (B x 4G).
template <typename T>
cudaError_t gru_gates_forward(const T *Xi, const T *gh, const T *b_hh, const T *h_prev, T *H, T *cache,
                              int64_t B, int64_t G, cudaStream_t stream);

// One packed step, backward: dh = dH + d_next (rows < B_next) -> dXi = [dr|dz|dn]
// pre-activations, dGh = [dr|dz|dhn], d_cur = dh ⊙ z (the caller adds dGh·W_hhᵀ).
template <typename T>
cudaError_t gru_gates_backward(const T *dH, const T *d_next, int64_t B_next, const T *cache,
                               const T *h_prev, T *dXi, T *dGh, T *d_cur, int64_t B, int64_t G,
                               cudaStream_t stream);

// ---- DeepRec (csrc/cuda/deeprec.cu) ---------------------------------------------

// In place over Z (n_rows x n, row-major): Z <- f(Z + bias) (bias of n, or null).
template <typename T>
cudaError_t bias_activation(T *Z, int64_t n_rows, int64_t n, const T *bias, Act f,
                            cudaStream_t stream);

// In place: D *= f'(H) over `total` elements, H the activation's output.
template <typename T>
cudaError_t mul_activation_grad(T *D, const T *H, int64_t total, Act f, cudaStream_t stream);

// Masked MSE over the non-zero targets: grad = d/d(pre-activation) of the mean
// squared error; *loss = the mean (written, not added); *count = the non-zeros.
template <typename T>
cudaError_t masked_mse_grad(const T *out, const T *target, int64_t total, Act f, T *grad,
                            unsigned long long *count, double *loss, cudaStream_t stream);

}  // namespace autorec::cuda
