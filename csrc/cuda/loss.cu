// Loss functions with their gradients on the GPU, the same formulas as
// csrc/cpu/loss.cpp: the fused bias + log-softmax + loss + gradient of the
// multinomial likelihood over dense logits (one block per row) and DeepRec's
// masked MSE.
#include "cuda/loss.h"

#include "cuda/device_utils.cuh"

namespace autorec::cuda {

namespace {

constexpr int kThreads = 256;

int grid_for(int64_t n) { return grid_size(n, kThreads, 65535 * 16); }

template <typename T>
__global__ void multinomial_kernel(T *logits, const T *bias, const int64_t *indptr,
                                   const int32_t *indices, const T *x, int64_t n_rows, int64_t n,
                                   T scale, double *loss) {
  __shared__ T shared[32];
  for (int64_t r = blockIdx.x; r < n_rows; r += gridDim.x) {
    T *l = logits + r * n;
    T m = -INFINITY;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
      if (bias) l[j] += bias[j];
      m = fmax(m, l[j]);
    }
    m = block_reduce(m, shared, MaxOp<T>());
    T s = T(0);
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) s += exp(l[j] - m);
    s = block_reduce(s, shared, SumOp<T>());
    T x_sum = T(0), dot = T(0);
    for (int64_t p = indptr[r] + threadIdx.x; p < indptr[r + 1]; p += blockDim.x) {
      x_sum += x[p];
      dot += x[p] * l[indices[p]];
    }
    x_sum = block_reduce(x_sum, shared, SumOp<T>());
    dot = block_reduce(dot, shared, SumOp<T>());
    if (threadIdx.x == 0) atomicAdd(loss, double(scale) * (double(x_sum) * (double(m) + log(double(s))) - double(dot)));
    __syncthreads();  // every thread has read l at the targets before it is overwritten
    const T c = scale * x_sum / s;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) l[j] = c * exp(l[j] - m);
    __syncthreads();
    for (int64_t p = indptr[r] + threadIdx.x; p < indptr[r + 1]; p += blockDim.x)
      atomicAdd(l + indices[p], -scale * x[p]);  // atomic: duplicate entries in a row
  }
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
cudaError_t multinomial_nll_grad(T *logits, const T *bias, const int64_t *indptr,
                                 const int32_t *indices, const T *x, int64_t n_rows, int64_t n,
                                 T scale, double *loss, cudaStream_t stream) {
  if (n_rows == 0) return cudaSuccess;
  const int blocks = static_cast<int>(n_rows < 65535 * 8 ? n_rows : 65535 * 8);
  multinomial_kernel<T><<<blocks, 256, 0, stream>>>(logits, bias, indptr, indices, x, n_rows, n,
                                                    scale, loss);
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

#define AUTOREC_INSTANTIATE(T)                                                                  \
  template cudaError_t multinomial_nll_grad<T>(T *, const T *, const int64_t *, const int32_t *,  \
                                               const T *, int64_t, int64_t, T, double *,         \
                                               cudaStream_t);                                    \
  template cudaError_t masked_mse_grad<T>(const T *, const T *, int64_t, Act, T *,              \
                                          unsigned long long *, double *, cudaStream_t);
AUTOREC_INSTANTIATE(float)
AUTOREC_INSTANTIATE(double)
#undef AUTOREC_INSTANTIATE

}  // namespace autorec::cuda
