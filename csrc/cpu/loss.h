// Loss functions with their gradients, fused into one pass over the output
// layer: the multinomial likelihood of Mult-VAE / Mult-DAE (Liang et al. 2018),
// DeepRec's masked MSE and CDAE's full-output logistic loss. The CUDA
// counterparts are in csrc/cuda/loss.cu.
#pragma once

#include <cstdint>

#include "common/activations.h"
#include "common/csr.h"

namespace autorec::cpu {

// Fused bias + log-softmax + loss + gradient, in place over dense logits:
// for each row r, loss_r = -Σ_i x_ri log softmax(l_r + b)_i with x the row's
// sparse values (CSR X, same rows); the logits become
// dLoss/dl = scale * (softmax(l_r + b) Σ_i x_ri - x_r). Returns scale * Σ_r loss_r.
// bias may be null. One read of each row from memory; exp is vectorised.
template <typename T>
double multinomial_nll_grad(T *logits, const T *bias, const CsrView<T> &X, T scale);

// Masked MSE over the non-zero targets, mean over them: writes
// grad = 2 (out - target) f'(out) / count at those entries, 0 elsewhere;
// returns the loss. out is the activation's output.
template <typename T>
double masked_mse_grad(const T *out, const T *target, int64_t rows, int64_t n, Act f, T *grad);

// The logistic loss over every entry of Z (rows x n, pre-activations), in place:
// z = Z + bias (bias may be null), loss = Σ softplus(z) − Σ_{(r,j) in Y} y·z, and
// Z <- σ(z) − y (y from the CSR Y, 0 elsewhere): CDAE's full-output objective.
// Returns the loss (float64 accumulation; the row sums are added in row order,
// so the result does not depend on the thread count).
template <typename T> double logistic_loss_grad(T *Z, const T *bias, const CsrView<T> &Y);

}  // namespace autorec::cpu
