// Ranking helpers on the GPU: mask the excluded items of each row before CuPy's
// top-K (csrc/cpu/ranking.cpp skips them inside its own top-K).
#include "cuda/ranking.h"

namespace autorec::cuda {

namespace {
// One block per row; the row's excluded items are few, so a block-stride loop.
template <typename T>
__global__ void fill_pattern_kernel(T *scores, int64_t n_rows, int64_t n_items,
                                    const int64_t *indptr, const int32_t *indices, T value) {
  for (int64_t r = blockIdx.x; r < n_rows; r += gridDim.x) {
    for (int64_t p = indptr[r] + threadIdx.x; p < indptr[r + 1]; p += blockDim.x)
      scores[r * n_items + indices[p]] = value;
  }
}
}  // namespace

template <typename T>
cudaError_t fill_pattern(T *scores, int64_t n_rows, int64_t n_items, const int64_t *indptr,
                         const int32_t *indices, T value, cudaStream_t stream) {
  if (n_rows == 0) return cudaSuccess;
  const int blocks = static_cast<int>(n_rows < 65535 * 8 ? n_rows : 65535 * 8);
  fill_pattern_kernel<T><<<blocks, 128, 0, stream>>>(scores, n_rows, n_items, indptr, indices, value);
  return cudaGetLastError();
}

template cudaError_t fill_pattern<float>(float *, int64_t, int64_t, const int64_t *,
                                         const int32_t *, float, cudaStream_t);
template cudaError_t fill_pattern<double>(double *, int64_t, int64_t, const int64_t *,
                                          const int32_t *, double, cudaStream_t);

}  // namespace autorec::cuda
