// The masked sparse layer pair of AutoRec and CDAE on the GPU
// (csrc/cuda/sparse_layer.cu), the same forward/backward as
// csrc/cpu/sparse_layer.h with the optimizer step fused into the gradient
// kernels. Pointers are device pointers of CuPy arrays; the bindings check their
// shapes and dtypes (bind_sparse_layer.cpp), the Python layer the index ranges,
// before launching on its stream.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "common/activations.h"
#include "common/optimizer.h"

namespace autorec::cuda {

// A CSR matrix on the device (data may be null: all ones).
template <typename T> struct DeviceCsr {
  const int64_t *indptr = nullptr;
  const int32_t *indices = nullptr;
  const T *data = nullptr;
};

// The column view of a CSR pattern (see csrc/cpu/transpose.h), built on the host:
// per column, the CSR row and the CSR position of each of its entries.
struct DeviceTransposed {
  const int64_t *colptr = nullptr;
  const int32_t *row = nullptr;
  const int64_t *entry = nullptr;
};

// One mini-batch: inputs x and targets y (same rows) and their transposed patterns.
template <typename T> struct AutoRecBatch {
  int64_t n_rows = 0;
  DeviceCsr<T> x, y;
  DeviceTransposed xt, yt;
};

template <typename T> struct AutoRecDeviceNet {
  int64_t n_in = 0, n_out = 0, k = 0;
  Slot<T> Vt{}, mu{}, W{}, b{};
  Act hidden = Act::Sigmoid, output = Act::Identity;
  Loss loss = Loss::Squared;
};

// Forward, masked loss (added to *loss), backward and the fused optimizer step.
// Scratch: H and dZ (n_rows x k), D (nnz of Y).
template <typename T>
cudaError_t autorec_batch(const AutoRecBatch<T> &batch, const AutoRecDeviceNet<T> &net,
                          T l2_scale, const OptConfig &opt, T *H, T *dZ, T *D, double *loss,
                          cudaStream_t stream);

// Encode the rows of X into H (n_rows x k), then out[p] = f(W[cols[p]]·H[rows[p]] + b).
template <typename T>
cudaError_t autorec_predict(const int64_t *indptr, const int32_t *indices, const T *data,
                            int64_t n_rows, const AutoRecDeviceNet<T> &net, const int64_t *rows,
                            const int64_t *cols, int64_t n_pairs, T *H, T *out,
                            cudaStream_t stream);

}  // namespace autorec::cuda
