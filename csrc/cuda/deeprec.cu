// DeepRec on the GPU: the element-wise passes over the dense layers, the same
// formulas as csrc/cpu/dense_ops.cpp (bias + activation, activation gradient
// from the output, the masked MSE of the dense re-feeding pass). The matrix
// products go through cuBLAS / cuSPARSE (CuPy), the optimizer steps through
// dense_step (csrc/cuda/multinomial.cu).
#include "common/activations.h"
#include "cuda/kernels.h"

namespace autorec::cuda {

namespace {

constexpr int kThreads = 256;

int grid_for(int64_t n) {
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<int>(blocks < 1 ? 1 : (blocks < 65535 * 16 ? blocks : 65535 * 16));
}

// Sum over the block (blockDim.x == kThreads); every thread gets the total.
template <typename T> __device__ T block_sum(T v, T *shared) {
  for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  T total = T(0);
  for (int w = 0; w < kThreads / 32; ++w) total += shared[w];
  return total;
}

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

template <typename T>
__global__ void count_nonzero_kernel(const T *target, int64_t total, unsigned long long *count) {
  __shared__ unsigned long long shared[32];
  unsigned long long c = 0;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x)
    c += target[e] != T(0);
  c = block_sum(c, shared);
  if (threadIdx.x == 0 && c) atomicAdd(count, c);
}

template <typename T>
__global__ void masked_mse_grad_kernel(const T *out, const T *target, int64_t total, Act f, T *grad,
                                       const unsigned long long *count, double *sse) {
  __shared__ double shared[32];
  const unsigned long long c = *count;
  const T scale = T(2) / T(c == 0 ? 1ull : c);
  double part = 0.0;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x) {
    const T err = target[e] != T(0) ? out[e] - target[e] : T(0);
    part += double(err) * double(err);
    grad[e] = scale * err * act_grad_from_output(f, out[e]);
  }
  part = block_sum(part, shared);
  if (threadIdx.x == 0) atomicAdd(sse, part);
}

__global__ void mean_kernel(const unsigned long long *count, double *loss) {
  const unsigned long long c = *count;
  *loss /= double(c == 0 ? 1ull : c);
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

template <typename T>
cudaError_t masked_mse_grad(const T *out, const T *target, int64_t total, Act f, T *grad,
                            unsigned long long *count, double *loss, cudaStream_t stream) {
  cudaError_t err = cudaMemsetAsync(count, 0, sizeof(unsigned long long), stream);
  if (err == cudaSuccess) err = cudaMemsetAsync(loss, 0, sizeof(double), stream);
  if (err != cudaSuccess) return err;
  if (total > 0) {
    count_nonzero_kernel<T><<<grid_for(total), kThreads, 0, stream>>>(target, total, count);
    masked_mse_grad_kernel<T><<<grid_for(total), kThreads, 0, stream>>>(out, target, total, f, grad,
                                                                       count, loss);
  }
  mean_kernel<<<1, 1, 0, stream>>>(count, loss);
  return cudaGetLastError();
}

#define DEEPREC_INSTANTIATE(T)                                                                  \
  template cudaError_t bias_activation<T>(T *, int64_t, int64_t, const T *, Act, cudaStream_t); \
  template cudaError_t mul_activation_grad<T>(T *, const T *, int64_t, Act, cudaStream_t);      \
  template cudaError_t masked_mse_grad<T>(const T *, const T *, int64_t, Act, T *,              \
                                          unsigned long long *, double *, cudaStream_t);
DEEPREC_INSTANTIATE(float)
DEEPREC_INSTANTIATE(double)
#undef DEEPREC_INSTANTIATE

}  // namespace autorec::cuda
