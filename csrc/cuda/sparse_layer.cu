// The AutoRec / CDAE sparse layer pair on the GPU: the same sparse masked
// forward/backward as csrc/cpu/sparse_layer.cpp, with the optimizer step fused
// into the gradient kernels. One thread block per batch row (encoder; decoder,
// a warp per observed target) or per parameter row (gradients gathered through
// the transposed batch pattern, built on the device by backends/_device_csr.py),
// threads or lanes across the hidden units, so every global access is coalesced
// over k and no atomics touch the parameters.
#include "cuda/sparse_layer.h"

#include "cuda/device_utils.cuh"

namespace autorec::cuda {

namespace {

template <typename T>
__global__ void encode_kernel(const int64_t *indptr, const int32_t *indices, const T *data,
                              int64_t n_rows, const T *Vt, const T *mu, int64_t k, Act hidden,
                              T *H) {
  for (int64_t r = blockIdx.x; r < n_rows; r += gridDim.x) {
    for (int64_t j = threadIdx.x; j < k; j += blockDim.x) {
      T z = mu[j];
      for (int64_t p = indptr[r]; p < indptr[r + 1]; ++p) z += data[p] * Vt[int64_t(indices[p]) * k + j];
      H[r * k + j] = act_forward(hidden, z);
    }
  }
}

// Decoder at the observed targets: D[p] = dLoss/d(output pre-activation), and
// dZ = g'(H) * sum_p D[p] W[target p]. One block per batch row. Each warp takes
// every n_warps-th target of the row and reduces its dot product over k with
// shuffles, so targets proceed in parallel with no block barrier per target
// (a row has hundreds of targets). After one barrier the block forms the row's
// dZ with threads across k, adding the targets in CSR order (a fixed order: the
// same result on every run, unlike atomics). The loss goes up in one atomic per
// warp and row, not one per target.
template <typename T>
__global__ void decode_kernel(const int64_t *indptr, const int32_t *indices, const T *y,
                              int64_t n_rows, const T *W, const T *b, int64_t k, Act hidden,
                              Act output, Loss loss_kind, const T *H, T *D, T *dZ, double *loss) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, n_warps = blockDim.x >> 5;
  for (int64_t r = blockIdx.x; r < n_rows; r += gridDim.x) {
    const T *h = H + r * k;
    const int64_t begin = indptr[r], end = indptr[r + 1];
    double warp_loss = 0.0;
    for (int64_t p = begin + warp; p < end; p += n_warps) {
      const int64_t u = indices[p];
      T part = T(0);
      for (int64_t j = lane; j < k; j += 32) part += W[u * k + j] * h[j];
      T d;
      const T l = loss_and_grad(loss_kind, output, warp_sum(part) + b[u], y[p], &d);
      if (lane == 0) {
        D[p] = d;
        warp_loss += double(l);
      }
    }
    if (lane == 0 && begin + warp < end) atomicAdd(loss, warp_loss);
    __syncthreads();  // the row's D, written by all warps, is visible to the block
    for (int64_t j = threadIdx.x; j < k; j += blockDim.x) {
      T g = T(0);
      for (int64_t p = begin; p < end; ++p) g += D[p] * W[int64_t(indices[p]) * k + j];
      dZ[r * k + j] = g * act_grad_from_output(hidden, h[j]);  // every row written: no memset
    }
  }
}

// Gradient of one parameter row (l2 * row + sum over the transposed batch
// entries of coef * src[batch row]) and the optimizer step on it. For W the
// coefficients are D (and the bias gets their sum); for Vt the input values.
template <typename T>
__global__ void row_grad_step_kernel(int64_t n_param_rows, int64_t k, const int64_t *colptr,
                                     const int32_t *rows, const int64_t *entry, const T *coef,
                                     const T *src, T l2_scale, OptConfig opt, Slot<T> param,
                                     Slot<T> bias) {
  __shared__ T shared[32];
  for (int64_t u = blockIdx.x; u < n_param_rows; u += gridDim.x) {
    for (int64_t j = threadIdx.x; j < k; j += blockDim.x) {
      T g = l2_scale * param.param[u * k + j];
      for (int64_t q = colptr[u]; q < colptr[u + 1]; ++q)
        g += coef[entry[q]] * src[int64_t(rows[q]) * k + j];
      opt_update(opt, param, u * k + j, g);
    }
    if (bias.param != nullptr) {  // uniform across the block: block_sum is safe
      T part = T(0);
      for (int64_t q = colptr[u] + threadIdx.x; q < colptr[u + 1]; q += blockDim.x)
        part += coef[entry[q]];
      const T gb = block_sum(part, shared);
      if (threadIdx.x == 0) opt_update(opt, bias, u, gb);
    }
  }
}

template <typename T>
__global__ void bias_grad_step_kernel(int64_t n_rows, int64_t k, const T *dZ, OptConfig opt,
                                      Slot<T> mu) {
  for (int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; j < k;
       j += int64_t(gridDim.x) * blockDim.x) {
    T g = T(0);
    for (int64_t r = 0; r < n_rows; ++r) g += dZ[r * k + j];
    opt_update(opt, mu, j, g);
  }
}

// out[p] = f(W[cols[p]] . H[rows[p]] + b[cols[p]]): one warp per pair.
template <typename T>
__global__ void decode_pairs_kernel(const T *H, const int64_t *rows, const int64_t *cols,
                                    int64_t n_pairs, const T *W, const T *b, int64_t k, Act output,
                                    T *out) {
  const int lane = threadIdx.x & 31;
  const int64_t first = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const int64_t stride = (int64_t(gridDim.x) * blockDim.x) >> 5;
  for (int64_t p = first; p < n_pairs; p += stride) {
    const T *w = W + cols[p] * k, *h = H + rows[p] * k;
    T part = T(0);
    for (int64_t j = lane; j < k; j += 32) part += w[j] * h[j];
    const T y = warp_sum(part) + b[cols[p]];
    if (lane == 0) out[p] = act_forward(output, y);
  }
}

int threads_for(int64_t k) { return k >= 256 ? 256 : (k >= 128 ? 128 : 64); }
int blocks_for(int64_t n) { return grid_size(n, 1, 65535 * 4); }  // one block per row

}  // namespace

template <typename T>
cudaError_t autorec_batch(const AutoRecBatch<T> &bt, const AutoRecDeviceNet<T> &net, T l2_scale,
                          const OptConfig &opt, T *H, T *dZ, T *D, double *loss,
                          cudaStream_t stream) {
  const int threads = threads_for(net.k);
  if (bt.n_rows > 0) {
    encode_kernel<T><<<blocks_for(bt.n_rows), threads, 0, stream>>>(
        bt.x.indptr, bt.x.indices, bt.x.data, bt.n_rows, net.Vt.param, net.mu.param, net.k,
        net.hidden, H);
    // 8 warps a row whatever k is: the targets, not k, are the parallel work
    decode_kernel<T><<<blocks_for(bt.n_rows), 256, 0, stream>>>(
        bt.y.indptr, bt.y.indices, bt.y.data, bt.n_rows, net.W.param, net.b.param, net.k,
        net.hidden, net.output, net.loss, H, D, dZ, loss);
  }
  row_grad_step_kernel<T><<<blocks_for(net.n_out), threads, 0, stream>>>(
      net.n_out, net.k, bt.yt.colptr, bt.yt.row, bt.yt.entry, D, H, l2_scale, opt, net.W, net.b);
  bias_grad_step_kernel<T><<<blocks_for((net.k + 255) / 256), 256, 0, stream>>>(bt.n_rows, net.k,
                                                                             dZ, opt, net.mu);
  Slot<T> none{nullptr, nullptr, nullptr, nullptr};
  row_grad_step_kernel<T><<<blocks_for(net.n_in), threads, 0, stream>>>(
      net.n_in, net.k, bt.xt.colptr, bt.xt.row, bt.xt.entry, bt.x.data, dZ, l2_scale, opt, net.Vt,
      none);
  return cudaGetLastError();
}

template <typename T>
cudaError_t autorec_predict(const int64_t *indptr, const int32_t *indices, const T *data,
                            int64_t n_rows, const AutoRecDeviceNet<T> &net, const int64_t *rows,
                            const int64_t *cols, int64_t n_pairs, T *H, T *out,
                            cudaStream_t stream) {
  const int threads = threads_for(net.k);
  if (n_rows > 0)
    encode_kernel<T><<<blocks_for(n_rows), threads, 0, stream>>>(
        indptr, indices, data, n_rows, net.Vt.param, net.mu.param, net.k, net.hidden, H);
  if (n_pairs > 0)
    decode_pairs_kernel<T><<<grid_size(n_pairs, 256 / 32, 65535 * 4), 256, 0, stream>>>(
        H, rows, cols, n_pairs, net.W.param, net.b.param, net.k, net.output, out);
  return cudaGetLastError();
}

#define AUTOREC_INSTANTIATE(T)                                                                  \
  template cudaError_t autorec_batch<T>(const AutoRecBatch<T> &, const AutoRecDeviceNet<T> &,  \
                                        T, const OptConfig &, T *, T *, T *, double *,         \
                                        cudaStream_t);                                         \
  template cudaError_t autorec_predict<T>(const int64_t *, const int32_t *, const T *, int64_t, \
                                          const AutoRecDeviceNet<T> &, const int64_t *,        \
                                          const int64_t *, int64_t, T *, T *, cudaStream_t);
AUTOREC_INSTANTIATE(float)
AUTOREC_INSTANTIATE(double)
#undef AUTOREC_INSTANTIATE

}  // namespace autorec::cuda
