// Element-wise and row passes over dense batch x width arrays (the MLP layers
// of DeepRec, Mult-VAE and SVAE), fused so each array is read once. The CUDA
// counterparts of bias_activation and mul_activation_grad are in
// csrc/cuda/dense_ops.cu; the loss passes are in loss.h.
#pragma once

#include <cstdint>

#include "common/activations.h"

namespace autorec::cpu {

// Z (rows x n) <- f(Z + bias) in place; bias may be null.
template <typename T> void bias_activation(T *Z, int64_t rows, int64_t n, const T *bias, Act f);

// D (rows x n) *= f'(from the activation's output H), in place.
template <typename T> void mul_activation_grad(T *D, const T *H, int64_t rows, int64_t n, Act f);

// out[p] = A[rows[p]] · B[cols[p]] for p < n (A: * x k, B: * x k, row-major):
// a dense product evaluated only at the pairs asked for (DeepRec's output layer
// at the observed ratings when no dense output is needed).
template <typename T>
void sampled_dot(const T *A, const T *B, int64_t k, const int64_t *rows, const int64_t *cols, int64_t n,
                 T *out);

// out[idx[i], :] += src[i, :] for i < n (rows of width d); duplicates allowed.
template <typename T>
void scatter_add_rows(const int64_t *idx, int64_t n, const T *src, int64_t d, T *out);

// Σ x[i]² over n elements, accumulated in float64 (pieces of 2^16 summed in
// parallel for long arrays).
template <typename T> double squared_norm(const T *x, int64_t n);

}  // namespace autorec::cpu
