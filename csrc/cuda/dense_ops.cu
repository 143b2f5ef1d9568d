// The element-wise passes over the dense layers on the GPU, the same formulas
// as csrc/cpu/dense_ops.cpp: bias + activation and the activation gradient from
// the output.
#include "cuda/dense_ops.h"

#include "cuda/device_utils.cuh"

namespace autorec::cuda {

namespace {

constexpr int kThreads = 256;

int grid_for(int64_t n) { return grid_size(n, kThreads, 65535 * 16); }

template <typename T>
__global__ void bias_activation_kernel(T *Z, int64_t total, int64_t n, const T *bias, Act f) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x) {
    T z = Z[e];
    if (bias) z += bias[e % n];
    Z[e] = act_forward(f, z);
  }
}

template <typename T>
__global__ void mul_activation_grad_kernel(T *D, const T *H, int64_t total, Act f) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x)
    D[e] *= act_grad_from_output(f, H[e]);
}

}  // namespace

template <typename T>
cudaError_t bias_activation(T *Z, int64_t n_rows, int64_t n, const T *bias, Act f,
                            cudaStream_t stream) {
  const int64_t total = n_rows * n;
  if (total == 0) return cudaSuccess;
  bias_activation_kernel<T><<<grid_for(total), kThreads, 0, stream>>>(Z, total, n, bias, f);
  return cudaGetLastError();
}

template <typename T>
cudaError_t mul_activation_grad(T *D, const T *H, int64_t total, Act f, cudaStream_t stream) {
  if (total == 0) return cudaSuccess;
  mul_activation_grad_kernel<T><<<grid_for(total), kThreads, 0, stream>>>(D, H, total, f);
  return cudaGetLastError();
}

#define AUTOREC_INSTANTIATE(T)                                                                  \
  template cudaError_t bias_activation<T>(T *, int64_t, int64_t, const T *, Act, cudaStream_t); \
  template cudaError_t mul_activation_grad<T>(T *, const T *, int64_t, Act, cudaStream_t);
AUTOREC_INSTANTIATE(float)
AUTOREC_INSTANTIATE(double)
#undef AUTOREC_INSTANTIATE

}  // namespace autorec::cuda
