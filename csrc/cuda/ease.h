// EASE on the GPU (csrc/cuda/ease.cu): the Gram matrix and the weights from the
// inverse; the Cholesky inverse itself runs on cuSOLVER through CuPy. The CPU
// counterpart is csrc/cpu/ease.h. Kernels run on the caller's stream.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

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

}  // namespace autorec::cuda
