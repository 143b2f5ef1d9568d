// One GRU unit's backward step, shared by the CPU and CUDA kernels
// (csrc/cpu/gru.cpp, csrc/cuda/gru.cu). PyTorch's gates:
//   r = σ(xr + hr), z = σ(xz + hz), n = tanh(xn + r·hn), h' = (1 - z)·n + z·h
// with hn = (h·W_hh + b_hh)'s n part. From dh = dLoss/dh' and the cached
// r, z, n, hn and the previous state h, the gradients w.r.t. the gates'
// pre-activations and the part of dLoss/dh that does not go through W_hh.
#pragma once

#include "common/activations.h"  // AUTOREC_HD

namespace autorec {

template <typename T> struct GruCellGrad {
  T dr, dz, dn;  // w.r.t. the pre-activations of r, z and n (dn is also d xn)
  T dhn;         // w.r.t. hn (the n part of h·W_hh + b_hh)
  T dh_direct;   // dLoss/dh through z·h, before the W_hh product is added
};

template <typename T>
AUTOREC_HD GruCellGrad<T> gru_cell_backward(T r, T z, T n, T hn, T h_prev, T dh) {
  GruCellGrad<T> g;
  const T dn_out = dh * (T(1) - z);
  g.dn = dn_out * (T(1) - n * n);
  g.dr = g.dn * hn * r * (T(1) - r);
  g.dz = dh * (h_prev - n) * z * (T(1) - z);
  g.dhn = g.dn * r;
  g.dh_direct = dh * z;
  return g;
}

}  // namespace autorec
