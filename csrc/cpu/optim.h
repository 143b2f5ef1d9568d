// Optimizer steps on the CPU: over a contiguous run of a parameter (used by the
// fused gradient kernels right after a row's gradient is known) and over a
// whole dense parameter (the MLP layers whose gradients come from BLAS).
#pragma once

#include <algorithm>
#include <cstdint>

#include "common/optimizer.h"
#include "cpu/vec.h"

namespace autorec::cpu {

// Update [offset, offset + n) of the slot with gradients g[0..n); switch hoisted.
template <typename T>
inline void opt_update_run(const OptConfig &c, const Slot<T> &s, int64_t offset, const T *g,
                           int64_t n, int64_t prefetch = 0) {
  switch (c.kind) {
    case Opt::GradOnly:
      std::copy(g, g + n, s.grad + offset);
      return;
    case Opt::Sgd:  // the same formula as opt_update, vectorised
      vec::sgd(n, s.param + offset, c.momentum != 0.0 ? s.s1 + offset : nullptr, g, T(c.momentum),
               T(c.lr));
      return;
    case Opt::Adam:
      vec::adam(n, s.param + offset, s.s1 + offset, s.s2 + offset, g, T(c.beta1), T(c.beta2),
                T(1.0 / c.sqrt_bc2), T(c.eps), T(c.lr_bc1), prefetch);
      return;
    default:
      for (int64_t i = 0; i < n; ++i) opt_update(c, s, offset + i, g[i]);
  }
}

// Whole parameter of n elements: gradient grad + l2_scale * param, then the
// step (GradOnly writes it to s.grad, which may alias grad). Parallel over chunks.
template <typename T>
void dense_step(const Slot<T> &s, int64_t n, const T *grad, T l2_scale, const OptConfig &opt);

}  // namespace autorec::cpu
