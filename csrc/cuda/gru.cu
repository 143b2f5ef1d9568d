// SVAE's GRU on the GPU: the element-wise gate math of one packed time step,
// forward and backward (csrc/cpu/gru.cpp does the same per step on the CPU).
// The step's recurrent GEMMs (h·W_hh, dGh·W_hhᵀ) and the weight gradients run
// on cuBLAS through CuPy; the Python layer (autorec_fast/models/svae.py,
// _CudaOps) walks the steps. Layouts as in csrc/cpu/gru.h.
#include "cuda/gru.h"

#include "common/gru_cell.h"
#include "cuda/device_utils.cuh"

namespace autorec::cuda {

namespace {

template <typename T> __device__ __forceinline__ T sigmoid(T v) { return T(1) / (T(1) + exp(-v)); }

template <typename T>
__global__ void gates_forward_kernel(const T *Xi, const T *gh, const T *b_hh, const T *h_prev, T *H,
                                     T *cache, int64_t B, int64_t G) {
  const int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (e >= B * G) return;
  const int64_t i = e / G, j = e % G;
  const T *xi = Xi + i * 3 * G;
  const T *g = gh ? gh + i * 3 * G : nullptr;
  const T r = sigmoid(xi[j] + (g ? g[j] : T(0)) + b_hh[j]);
  const T z = sigmoid(xi[G + j] + (g ? g[G + j] : T(0)) + b_hh[G + j]);
  const T hn = (g ? g[2 * G + j] : T(0)) + b_hh[2 * G + j];
  const T n = tanh(xi[2 * G + j] + r * hn);
  T *c = cache + i * 4 * G;
  c[j] = r;
  c[G + j] = z;
  c[2 * G + j] = n;
  c[3 * G + j] = hn;
  H[i * G + j] = (T(1) - z) * n + (h_prev ? z * h_prev[i * G + j] : T(0));
}

template <typename T>
__global__ void gates_backward_kernel(const T *dH, const T *d_next, int64_t B_next, const T *cache,
                                      const T *h_prev, T *dXi, T *dGh, T *d_cur, int64_t B, int64_t G) {
  const int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (e >= B * G) return;
  const int64_t i = e / G, j = e % G;
  const T *c = cache + i * 4 * G;
  const T r = c[j], z = c[G + j], n = c[2 * G + j], hn = c[3 * G + j];
  const T hp = h_prev ? h_prev[i * G + j] : T(0);
  const T dh = dH[i * G + j] + (i < B_next ? d_next[i * G + j] : T(0));
  const GruCellGrad<T> g = gru_cell_backward(r, z, n, hn, hp, dh);
  T *dx = dXi + i * 3 * G, *dg = dGh + i * 3 * G;
  dx[j] = dg[j] = g.dr;
  dx[G + j] = dg[G + j] = g.dz;
  dx[2 * G + j] = g.dn;
  dg[2 * G + j] = g.dhn;
  d_cur[i * G + j] = g.dh_direct;
}

constexpr int kThreads = 256;
// n > 0; no grid-stride loop in the gate kernels, so no cap below CUDA's own limit
inline int blocks_for(int64_t n) { return grid_size(n, kThreads, 2147483647); }

}  // namespace

template <typename T>
cudaError_t gru_gates_forward(const T *Xi, const T *gh, const T *b_hh, const T *h_prev, T *H, T *cache,
                              int64_t B, int64_t G, cudaStream_t stream) {
  if (B * G == 0) return cudaSuccess;
  gates_forward_kernel<T><<<blocks_for(B * G), kThreads, 0, stream>>>(Xi, gh, b_hh, h_prev, H, cache, B, G);
  return cudaGetLastError();
}

template <typename T>
cudaError_t gru_gates_backward(const T *dH, const T *d_next, int64_t B_next, const T *cache,
                               const T *h_prev, T *dXi, T *dGh, T *d_cur, int64_t B, int64_t G,
                               cudaStream_t stream) {
  if (B * G == 0) return cudaSuccess;
  gates_backward_kernel<T><<<blocks_for(B * G), kThreads, 0, stream>>>(dH, d_next, B_next, cache, h_prev,
                                                                       dXi, dGh, d_cur, B, G);
  return cudaGetLastError();
}

#define AUTOREC_INSTANTIATE(T)                                                                       \
  template cudaError_t gru_gates_forward<T>(const T *, const T *, const T *, const T *, T *, T *,   \
                                            int64_t, int64_t, cudaStream_t);                        \
  template cudaError_t gru_gates_backward<T>(const T *, const T *, int64_t, const T *, const T *,   \
                                             T *, T *, T *, int64_t, int64_t, cudaStream_t);
AUTOREC_INSTANTIATE(float)
AUTOREC_INSTANTIATE(double)
#undef AUTOREC_INSTANTIATE

}  // namespace autorec::cuda
