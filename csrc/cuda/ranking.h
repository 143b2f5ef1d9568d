// Ranking helpers on the GPU (csrc/cuda/ranking.cu); the top-K itself runs on
// CuPy. The CPU counterpart is csrc/cpu/ranking.h.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace autorec::cuda {

// scores[r, j] = value for every item j in row r of the CSR pattern `exclude`.
template <typename T>
cudaError_t fill_pattern(T *scores, int64_t n_rows, int64_t n_items, const int64_t *indptr,
                         const int32_t *indices, T value, cudaStream_t stream);

}  // namespace autorec::cuda
