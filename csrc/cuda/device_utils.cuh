// Device helpers shared by the CUDA kernels (.cu files only): warp- and
// block-wide reductions and grid sizes.
#pragma once

#include <cstdint>

namespace autorec::cuda {

template <typename T> struct SumOp {
  __device__ T operator()(T a, T b) const { return a + b; }
};
template <typename T> struct MaxOp {
  __device__ T operator()(T a, T b) const { return a > b ? a : b; }
};

// op over one warp's 32 lanes (all converged); every lane gets the result
// (butterfly shuffles; lane 0's value is the same tree as shifting down).
template <typename T, typename Op> __device__ T warp_reduce(T v, Op op) {
  for (int off = 16; off > 0; off >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, off));
  return v;
}

template <typename T> __device__ T warp_sum(T v) { return warp_reduce(v, SumOp<T>()); }

// op over the whole block (blockDim.x a multiple of 32); every thread gets the
// result: shuffles within each warp, then the warps' results in warp order.
// `shared` holds 32 T.
template <typename T, typename Op> __device__ T block_reduce(T v, T *shared, Op op) {
  v = warp_reduce(v, op);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();  // shared may still be read from a previous call
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  T total = shared[0];
  const int n_warps = (blockDim.x + 31) >> 5;
  for (int w = 1; w < n_warps; ++w) total = op(total, shared[w]);
  return total;
}

// The block's sum, every thread gets it. T(0) + ...: bit for bit the sum of the
// warps' results added onto a zero (only a -0.0 total differs, and it becomes +0.0).
template <typename T> __device__ T block_sum(T v, T *shared) {
  return T(0) + block_reduce(v, shared, SumOp<T>());
}

// Blocks for `work` items at `per_block` items a block: at least 1, at most cap
// (grid-stride kernels cover the rest).
inline int grid_size(int64_t work, int64_t per_block, int64_t cap) {
  const int64_t blocks = (work + per_block - 1) / per_block;
  return static_cast<int>(blocks < 1 ? 1 : (blocks < cap ? blocks : cap));
}

}  // namespace autorec::cuda
