// The optimizer step over a dense parameter on the GPU (the dense layers'
// gradients come from cuBLAS through CuPy), with common/optimizer.h's update.
#include "cuda/optim.h"

namespace autorec::cuda {

namespace {

template <typename T>
__global__ void dense_step_kernel(Slot<T> s, int64_t n, const T *grad, T l2_scale, OptConfig opt) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n;
       e += int64_t(gridDim.x) * blockDim.x)
    opt_update(opt, s, e, grad[e] + l2_scale * s.param[e]);
}

}  // namespace

template <typename T>
cudaError_t dense_step(const Slot<T> &s, int64_t n, const T *grad, T l2_scale, const OptConfig &opt,
                       cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  const int64_t blocks = (n + 255) / 256;
  dense_step_kernel<T><<<static_cast<int>(blocks < 65535 * 16 ? blocks : 65535 * 16), 256, 0, stream>>>(
      s, n, grad, l2_scale, opt);
  return cudaGetLastError();
}

template cudaError_t dense_step<float>(const Slot<float> &, int64_t, const float *, float,
                                       const OptConfig &, cudaStream_t);
template cudaError_t dense_step<double>(const Slot<double> &, int64_t, const double *, double,
                                        const OptConfig &, cudaStream_t);

}  // namespace autorec::cuda
