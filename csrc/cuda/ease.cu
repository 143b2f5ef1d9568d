// EASE on the GPU: the Gram matrix straight from CSR and the weights from the
// inverse (csrc/cpu/ease.cpp does the same on the CPU).
#include "cuda/ease.h"

#include "cuda/device_utils.cuh"

namespace autorec::cuda {

namespace {
// One block per user row: every pair (a, b) of the row's entries with
// col_a <= col_b adds x_a * x_b to G[col_a, col_b]. The work is the sum over users
// of nnz_u^2 / 2 atomic adds, far below the dense users x n^2.
template <typename T>
__global__ void gram_upper_kernel(const int64_t *indptr, const int32_t *indices, const T *data,
                                  int64_t n_rows, int64_t n_cols, T *G) {
  for (int64_t u = blockIdx.x; u < n_rows; u += gridDim.x) {
    const int64_t begin = indptr[u], end = indptr[u + 1], len = end - begin;
    const int64_t pairs = len * len;
    for (int64_t t = threadIdx.x; t < pairs; t += blockDim.x) {
      const int64_t a = begin + t / len, b = begin + t % len;
      const int64_t i = indices[a], j = indices[b];
      if (j < i) continue;
      // Duplicate entries (a != b, i == j) are pairs too, as in the product.
      const T xa = data ? data[a] : T(1), xb = data ? data[b] : T(1);
      atomicAdd(G + i * n_cols + j, xa * xb);
    }
  }
}

template <typename T> __global__ void copy_diag_kernel(const T *P, int64_t n, T *diag) {
  for (int64_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
    diag[i] = P[i * n + i];
}

template <typename T> __global__ void ease_scale_kernel(T *P, int64_t n, const T *diag) {
  const int64_t total = n * n;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = e / n, j = e % n;
    P[e] = (i == j) ? T(0) : -P[e] / diag[j];
  }
}

template <typename T> __global__ void symmetrize_kernel(T *A, int64_t n) {
  const int64_t total = n * n;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = e / n, j = e % n;
    if (i > j) A[e] = A[j * n + i];
  }
}

int grid_for(int64_t work, int threads) { return grid_size(work, threads, 65535 * 4); }
}  // namespace

template <typename T>
cudaError_t gram_upper(const int64_t *indptr, const int32_t *indices, const T *data,
                       int64_t n_rows, int64_t n_cols, T *G, cudaStream_t stream) {
  if (n_rows == 0) return cudaSuccess;
  const int blocks = static_cast<int>(n_rows < 65535 * 8 ? n_rows : 65535 * 8);
  gram_upper_kernel<T><<<blocks, 256, 0, stream>>>(indptr, indices, data, n_rows, n_cols, G);
  return cudaGetLastError();
}

template <typename T>
cudaError_t ease_weights_from_inverse(T *P, int64_t n, T *diag, cudaStream_t stream) {
  copy_diag_kernel<T><<<grid_for(n, 256), 256, 0, stream>>>(P, n, diag);
  ease_scale_kernel<T><<<grid_for(n * n, 256), 256, 0, stream>>>(P, n, diag);
  return cudaGetLastError();
}

template <typename T> cudaError_t symmetrize_from_upper(T *A, int64_t n, cudaStream_t stream) {
  symmetrize_kernel<T><<<grid_for(n * n, 256), 256, 0, stream>>>(A, n);
  return cudaGetLastError();
}

template cudaError_t gram_upper<float>(const int64_t *, const int32_t *, const float *, int64_t,
                                       int64_t, float *, cudaStream_t);
template cudaError_t gram_upper<double>(const int64_t *, const int32_t *, const double *, int64_t,
                                        int64_t, double *, cudaStream_t);
template cudaError_t ease_weights_from_inverse<float>(float *, int64_t, float *, cudaStream_t);
template cudaError_t ease_weights_from_inverse<double>(double *, int64_t, double *, cudaStream_t);
template cudaError_t symmetrize_from_upper<float>(float *, int64_t, cudaStream_t);
template cudaError_t symmetrize_from_upper<double>(double *, int64_t, cudaStream_t);

}  // namespace autorec::cuda
