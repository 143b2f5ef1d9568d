#include "cpu/autorec.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "cpu/optim.h"
#include "cpu/transpose.h"
#include "cpu/vec.h"

namespace autorec::cpu {

namespace {
// Parallel regions only pay off above this much work (multiply-adds); below it
// the fork/join costs more, and on a busy machine a barrier can wait a whole
// scheduler time slice.
constexpr int64_t kParallelWork = 1 << 16;

// Scratch that lives across batches (per calling thread, per slot): fresh
// std::vectors every batch cost page faults and the kernel's zeroing of new
// pages (~5 % of an AutoRec epoch in a profile). Grows, never shrinks.
template <typename T, int Slot> T *workspace(int64_t n) {
  thread_local std::vector<T> buf;
  if (int64_t(buf.size()) < n) buf.resize(n);
  return buf.data();
}

bool same_pattern(const int64_t *indptr_a, const int32_t *indices_a, const int64_t *indptr_b,
                  const int32_t *indices_b, int64_t n_rows) {
  if (indptr_a == indptr_b && indices_a == indices_b) return true;
  if (!std::equal(indptr_a, indptr_a + n_rows + 1, indptr_b)) return false;
  return std::equal(indices_a, indices_a + indptr_a[n_rows], indices_b);
}

}  // namespace

// H = g(X·Vt + mu). Item-major: each Vt row is read once and scattered into the
// batch rows that use it (per-thread partial sums, then one reduction pass).
template <typename T>
void autorec_encode_t(const CsrView<T> &X, const Transposed &xt, const AutoRecNet<T> &net, T *H) {
  const int64_t k = net.k, B = X.n_rows;
  const int n_threads = (X.nnz() * k > kParallelWork) ? omp_get_max_threads() : 1;
  T *partial = workspace<T, 0>(int64_t(n_threads) * B * k);
#pragma omp parallel num_threads(n_threads)
  {
    T *acc = partial + int64_t(omp_get_thread_num()) * B * k;
    std::fill(acc, acc + B * k, T(0));  // each thread its own part: no barrier needed
#pragma omp for schedule(dynamic, 16)
    for (int64_t i = 0; i < net.n_in; ++i) {
      const T *v = net.Vt.param + i * k;
      for (int64_t q = xt.colptr[i]; q < xt.colptr[i + 1]; ++q)
        vec::axpy(k, X.data[xt.entry[q]], v, acc + int64_t(xt.row[q]) * k);
    }
#pragma omp for schedule(static)
    for (int64_t r = 0; r < B; ++r) {
      T *h = H + r * k;
      std::copy(net.mu.param, net.mu.param + k, h);
      for (int t = 0; t < n_threads; ++t) vec::axpy(k, T(1), partial + (int64_t(t) * B + r) * k, h);
      for (int64_t j = 0; j < k; ++j) h[j] = act_forward(net.hidden, h[j]);
    }
  }
}

template <typename T> void autorec_encode(const CsrView<T> &X, const AutoRecNet<T> &net, T *H) {
  autorec_encode_t(X, transpose_pattern(X.indptr, X.indices, X.n_rows, net.n_in), net, H);
}

template <typename T>
void autorec_decode_pairs(const T *H, const int64_t *rows, const int64_t *cols, int64_t n_pairs,
                          const AutoRecNet<T> &net, T *out) {
  const int64_t k = net.k;
#pragma omp parallel for schedule(static) if (n_pairs * k > kParallelWork)
  for (int64_t p = 0; p < n_pairs; ++p) {
    const T y = vec::dot(k, net.W.param + cols[p] * k, H + rows[p] * k) + net.b.param[cols[p]];
    out[p] = act_forward(net.output, y);
  }
}

template <typename T>
void sparse_input_grad_step_t(const CsrView<T> &X, const Transposed &xt, const T *dZ, int64_t k,
                              const Slot<T> &P, T l2_scale, const OptConfig &opt) {
  const int n_threads = ((X.nnz() + X.n_cols) * k > kParallelWork) ? omp_get_max_threads() : 1;
#pragma omp parallel num_threads(n_threads)
  {
    std::vector<T> g(k);
#pragma omp for schedule(dynamic, 16)
    for (int64_t i = 0; i < X.n_cols; ++i) {
      T *v = P.param + i * k;
      for (int64_t j = 0; j < k; ++j) g[j] = l2_scale * v[j];
      for (int64_t q = xt.colptr[i]; q < xt.colptr[i + 1]; ++q)
        vec::axpy(k, X.data[xt.entry[q]], dZ + int64_t(xt.row[q]) * k, g.data());
      opt_update_run(opt, P, i * k, g.data(), k);
    }
  }
}

template <typename T>
void sparse_input_grad_step(const CsrView<T> &X, const T *dZ, int64_t k, const Slot<T> &P,
                            T l2_scale, const OptConfig &opt) {
  sparse_input_grad_step_t(X, transpose_pattern(X.indptr, X.indices, X.n_rows, X.n_cols), dZ, k, P,
                           l2_scale, opt);
}

// Column-major passes: W_u and Vt_i are each read once per batch (from cache
// or memory) and used for every batch row that touches them; the batch-sized
// H and dZ stay in L2. Scatters into batch rows go to per-thread buffers,
// summed afterwards, so threads never share a written row.
template <typename T>
double autorec_batch(const CsrView<T> &X, const CsrView<T> &Y, const AutoRecNet<T> &net,
                     T l2_scale, const OptConfig &opt) {
  const int64_t B = X.n_rows, k = net.k;
  const int n_threads = ((X.nnz() + Y.nnz() + net.n_out) * k > kParallelWork) ? omp_get_max_threads() : 1;
  T *H = workspace<T, 1>(B * k), *dZ = workspace<T, 2>(B * k);
  std::fill(dZ, dZ + B * k, T(0));
  // One transposed pattern serves the inputs and the targets when they share it
  // (AutoRec without side features: the ratings are both).
  const Transposed xt = transpose_pattern(X.indptr, X.indices, B, net.n_in);
  const bool shared = net.n_in == net.n_out && X.nnz() == Y.nnz() &&
                      same_pattern(X.indptr, X.indices, Y.indptr, Y.indices, B);
  autorec_encode_t(X, xt, net, H);

  // Decoder at the observed targets, dH, and the W/b gradients and step, one
  // output row u per iteration.
  const Transposed yt_own = shared ? Transposed{} : transpose_pattern(Y.indptr, Y.indices, B, net.n_out);
  const Transposed &yt = shared ? xt : yt_own;
  T *dz_per_thread = workspace<T, 3>(int64_t(n_threads) * B * k);
  std::fill(dz_per_thread, dz_per_thread + int64_t(n_threads) * B * k, T(0));
  double loss = 0.0;
#pragma omp parallel num_threads(n_threads) reduction(+ : loss)
  {
    std::vector<T> g(k);
    T *dz = dz_per_thread + int64_t(omp_get_thread_num()) * B * k;
#pragma omp for schedule(dynamic, 16)
    for (int64_t u = 0; u < net.n_out; ++u) {
      T *w = net.W.param + u * k;
      for (int64_t j = 0; j < k; ++j) g[j] = l2_scale * w[j];
      T gb = T(0);
      for (int64_t q = yt.colptr[u]; q < yt.colptr[u + 1]; ++q) {
        const int64_t r = yt.row[q];
        const T *h = H + r * k;
        T d;
        loss += double(loss_and_grad(net.loss, net.output, vec::dot(k, w, h) + net.b.param[u],
                                     Y.data[yt.entry[q]], &d));
        vec::axpy(k, d, h, g.data());
        vec::axpy(k, d, w, dz + r * k);  // with the old W_u, before its update below
        gb += d;
      }
      opt_update_run(opt, net.W, u * k, g.data(), k);
      opt_update(opt, net.b, u, gb);
    }
    // dZ = (sum of the threads' dH) * g'(h), rows split across the threads
    const ActGradCoef<T> hidden_grad = act_grad_coef<T>(net.hidden);
#pragma omp for schedule(static)
    for (int64_t r = 0; r < B; ++r) {
      T *out = dZ + r * k;
      for (int t = 0; t < n_threads; ++t)
        vec::axpy(k, T(1), dz_per_thread + (int64_t(t) * B + r) * k, out);
      const T *h = H + r * k;
      vec::mul_act_grad(k, out, h, hidden_grad);
    }
  }

  // mu: the column sums of dZ.
  {
    std::vector<T> g(k, T(0));
    for (int64_t r = 0; r < B; ++r) vec::axpy(k, T(1), dZ + r * k, g.data());
    opt_update_run(opt, net.mu, 0, g.data(), k);
  }

  sparse_input_grad_step_t(X, xt, dZ, k, net.Vt, l2_scale, opt);
  return loss;
}

#define AUTOREC_INSTANTIATE(T)                                                                  \
  template void autorec_encode<T>(const CsrView<T> &, const AutoRecNet<T> &, T *);             \
  template void autorec_decode_pairs<T>(const T *, const int64_t *, const int64_t *, int64_t,  \
                                        const AutoRecNet<T> &, T *);                           \
  template double autorec_batch<T>(const CsrView<T> &, const CsrView<T> &,                     \
                                   const AutoRecNet<T> &, T, const OptConfig &);               \
  template void sparse_input_grad_step<T>(const CsrView<T> &, const T *, int64_t, const Slot<T> &, \
                                          T, const OptConfig &);
AUTOREC_INSTANTIATE(float)
AUTOREC_INSTANTIATE(double)
#undef AUTOREC_INSTANTIATE

}  // namespace autorec::cpu
