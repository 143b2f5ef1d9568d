// Optimizer step over a dense parameter on the GPU (csrc/cuda/optim.cu); the
// dense layers' gradients come from cuBLAS through CuPy. The update formulas
// are common/optimizer.h's, as on the CPU (csrc/cpu/optim.h).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "common/optimizer.h"

namespace autorec::cuda {

// Dense parameter of n elements: gradient grad + l2_scale * param, then the step.
template <typename T>
cudaError_t dense_step(const Slot<T> &s, int64_t n, const T *grad, T l2_scale, const OptConfig &opt,
                       cudaStream_t stream);

}  // namespace autorec::cuda
