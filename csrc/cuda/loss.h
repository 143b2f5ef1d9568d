// Loss functions with their gradients on the GPU (csrc/cuda/loss.cu), the same
// formulas as csrc/cpu/loss.h: the multinomial likelihood of Mult-VAE /
// Mult-DAE and DeepRec's masked MSE. Kernels run on the caller's stream.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "common/activations.h"

namespace autorec::cuda {

// In place over dense logits (n_rows x n): (+ bias) -> scale * d/dl of
// -Σ_i x_i log softmax(l)_i for the CSR rows x; adds scale * the loss to *loss.
template <typename T>
cudaError_t multinomial_nll_grad(T *logits, const T *bias, const int64_t *indptr,
                                 const int32_t *indices, const T *x, int64_t n_rows, int64_t n,
                                 T scale, double *loss, cudaStream_t stream);

// Masked MSE over the non-zero targets: grad = d/d(pre-activation) of the mean
// squared error; *loss = the mean (written, not added); *count = the non-zeros.
template <typename T>
cudaError_t masked_mse_grad(const T *out, const T *target, int64_t total, Act f, T *grad,
                            unsigned long long *count, double *loss, cudaStream_t stream);

}  // namespace autorec::cuda
