// Mult-VAE / Mult-DAE on the GPU: the fused bias + log-softmax + loss +
// gradient over dense logits (one block per row, as csrc/cpu/multinomial.cpp),
// and the optimizer step over a dense parameter (the dense layers' gradients
// come from cuBLAS through CuPy).
#include "common/optimizer.h"
#include "cuda/kernels.h"

namespace autorec::cuda {

namespace {

template <typename T> struct MaxOp {
  __device__ T operator()(T a, T b) const { return a > b ? a : b; }
};
template <typename T> struct SumOp {
  __device__ T operator()(T a, T b) const { return a + b; }
};

template <typename T, typename Op> __device__ T block_reduce(T v, T *shared, Op op) {
  for (int off = 16; off > 0; off >>= 1) v = op(v, __shfl_down_sync(0xffffffffu, v, off));
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  T total = shared[0];
  const int n_warps = (blockDim.x + 31) >> 5;
  for (int w = 1; w < n_warps; ++w) total = op(total, shared[w]);
  return total;
}

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
__global__ void dense_step_kernel(Slot<T> s, int64_t n, const T *grad, T l2_scale, OptConfig opt) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n;
       e += int64_t(gridDim.x) * blockDim.x)
    opt_update(opt, s, e, grad[e] + l2_scale * s.param[e]);
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
cudaError_t dense_step(const Slot<T> &s, int64_t n, const T *grad, T l2_scale, const OptConfig &opt,
                       cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  const int64_t blocks = (n + 255) / 256;
  dense_step_kernel<T><<<static_cast<int>(blocks < 65535 * 16 ? blocks : 65535 * 16), 256, 0, stream>>>(
      s, n, grad, l2_scale, opt);
  return cudaGetLastError();
}

template cudaError_t multinomial_nll_grad<float>(float *, const float *, const int64_t *,
                                                 const int32_t *, const float *, int64_t, int64_t,
                                                 float, double *, cudaStream_t);
template cudaError_t multinomial_nll_grad<double>(double *, const double *, const int64_t *,
                                                  const int32_t *, const double *, int64_t, int64_t,
                                                  double, double *, cudaStream_t);
template cudaError_t dense_step<float>(const Slot<float> &, int64_t, const float *, float,
                                       const OptConfig &, cudaStream_t);
template cudaError_t dense_step<double>(const Slot<double> &, int64_t, const double *, double,
                                        const OptConfig &, cudaStream_t);

}  // namespace autorec::cuda
