// Element-wise passes over the dense layers on the GPU (csrc/cuda/dense_ops.cu),
// the same formulas as csrc/cpu/dense_ops.h. The matrix products go through
// cuBLAS / cuSPARSE (CuPy). Kernels run on the caller's stream.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "common/activations.h"

namespace autorec::cuda {

// In place over Z (n_rows x n, row-major): Z <- f(Z + bias) (bias of n, or null).
template <typename T>
cudaError_t bias_activation(T *Z, int64_t n_rows, int64_t n, const T *bias, Act f,
                            cudaStream_t stream);

// In place: D *= f'(H) over `total` elements, H the activation's output.
template <typename T>
cudaError_t mul_activation_grad(T *D, const T *H, int64_t total, Act f, cudaStream_t stream);

}  // namespace autorec::cuda
