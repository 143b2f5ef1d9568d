// The masked sparse layer pair of AutoRec (Sedhain et al. 2015) and CDAE on
// sparse inputs: h = g(V·x + μ), y = f(W·h + b), loss on observed entries only
// + λ/2 (‖W‖² + ‖V‖²). The CUDA counterpart is csrc/cuda/sparse_layer.cu.
//
// V is stored transposed (Vt: n_in x k) so both the encoder (a sparse x dense
// product over the observed inputs) and the decoder (W: n_out x k, evaluated
// only at the observed targets: a sampled dense-dense product) read contiguous
// k-vectors. Per batch the work is about 6 x nnz x k multiply-adds plus one
// pass over the parameters for the L2 term and the optimizer step, which is
// fused into the gradient loop (each parameter row is updated as soon as its
// gradient is known).
#pragma once

#include <cstdint>

#include "common/activations.h"
#include "common/csr.h"
#include "common/optimizer.h"

namespace autorec::cpu {

template <typename T> struct AutoRecNet {
  int64_t n_in = 0, n_out = 0, k = 0;
  Slot<T> Vt, mu, W, b;  // Vt: n_in x k, mu: k, W: n_out x k, b: n_out
  Act hidden = Act::Sigmoid, output = Act::Identity;
  Loss loss = Loss::Squared;
};

// One mini-batch: forward on the inputs X (rows = examples, n_in columns),
// the loss (net.loss: squared error or logistic) at the observed targets Y (same rows, n_out columns), backward,
// and the optimizer step (or, with Opt::GradOnly, the gradients written to the
// slots' grad arrays). l2_scale multiplies the L2 gradient (λ x the batch's
// share of the examples). Returns the batch's summed loss (without the L2 term).
template <typename T>
double autorec_batch(const CsrView<T> &X, const CsrView<T> &Y, const AutoRecNet<T> &net,
                     T l2_scale, const OptConfig &opt);

// Encoder only: H (n_rows x k) = g(X·Vt + μ).
template <typename T> void autorec_encode(const CsrView<T> &X, const AutoRecNet<T> &net, T *H);

// Gradient of a sparse input layer and the optimizer step on it, one parameter
// row per iteration: for each input i, g_i = l2_scale * P_i + Σ_r X[r, i] dZ[r]
// (the sparse outer product Xᵀ dZ), then P_i is updated (or g written out).
// P is X.n_cols x k; dZ is X.n_rows x k.
template <typename T>
void sparse_input_grad_step(const CsrView<T> &X, const T *dZ, int64_t k, const Slot<T> &P,
                            T l2_scale, const OptConfig &opt);

// Decoder at given pairs: out[p] = f(W[col[p]]·H[row[p]] + b[col[p]]).
template <typename T>
void autorec_decode_pairs(const T *H, const int64_t *rows, const int64_t *cols, int64_t n_pairs,
                          const AutoRecNet<T> &net, T *out);

}  // namespace autorec::cpu
