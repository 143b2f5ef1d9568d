// Element-wise passes of the dense MLP layers (DeepRec), fused so each
// batch x width array is read once: bias + activation, the activation's
// derivative, and the masked squared error with its gradient.
#pragma once

#include <cstdint>

#include "common/activations.h"
#include "common/csr.h"

namespace autorec::cpu {

// Z (rows x n) <- f(Z + bias) in place; bias may be null.
template <typename T> void bias_activation(T *Z, int64_t rows, int64_t n, const T *bias, Act f);

// D (rows x n) *= f'(from the activation's output H), in place.
template <typename T> void mul_activation_grad(T *D, const T *H, int64_t rows, int64_t n, Act f);

// Masked MSE over the non-zero targets, mean over them: writes
// grad = 2 (out - target) f'(out) / count at those entries, 0 elsewhere;
// returns the loss. out is the activation's output.
template <typename T>
double masked_mse_grad(const T *out, const T *target, int64_t rows, int64_t n, Act f, T *grad);

// out[p] = A[rows[p]] · B[cols[p]] for p < n (A: * x k, B: * x k, row-major):
// a dense product evaluated only at the pairs asked for (DeepRec's output layer
// at the observed ratings when no dense output is needed).
template <typename T>
void sampled_dot(const T *A, const T *B, int64_t k, const int64_t *rows, const int64_t *cols, int64_t n,
                 T *out);

// The logistic loss over every entry of Z (rows x n, pre-activations), in place:
// z = Z + bias (bias may be null), loss = Σ softplus(z) − Σ_{(r,j) in Y} y·z, and
// Z <- σ(z) − y (y from the CSR Y, 0 elsewhere): CDAE's full-output objective.
// Returns the loss (float64 accumulation; the row sums are added in row order,
// so the result does not depend on the thread count).
template <typename T> double logistic_loss_grad(T *Z, const T *bias, const CsrView<T> &Y);

}  // namespace autorec::cpu
