// SVAE's GRU on the GPU (csrc/cuda/gru.cu): the element-wise gate math of one
// packed time step. Layouts as in csrc/cpu/gru.h. Kernels run on the caller's
// stream.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace autorec::cuda {

// One packed step, forward: rows i < B of Xi (B x 3G), gh = h_prev·W_hh (B x 3G,
// null at step 0), h_prev (null at step 0) -> H (B x G) and cache r|z|n|hn (B x 4G).
template <typename T>
cudaError_t gru_gates_forward(const T *Xi, const T *gh, const T *b_hh, const T *h_prev, T *H, T *cache,
                              int64_t B, int64_t G, cudaStream_t stream);

// One packed step, backward: dh = dH + d_next (rows < B_next) -> dXi = [dr|dz|dn]
// pre-activations, dGh = [dr|dz|dhn], d_cur = dh ⊙ z (the caller adds dGh·W_hhᵀ).
template <typename T>
cudaError_t gru_gates_backward(const T *dH, const T *d_next, int64_t B_next, const T *cache,
                               const T *h_prev, T *dXi, T *dGh, T *d_cur, int64_t B, int64_t G,
                               cudaStream_t stream);

}  // namespace autorec::cuda
