#include "cpu/sparse_layer.h"

#include <omp.h>

#include <algorithm>
#include <utility>
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
// The fused optimizer steps ask for the parameter row two ahead (p, m, v) while
// updating this one (vec::adam's prefetch): the hardware prefetchers stop at
// 4 KB pages, two 500-wide float rows, so without it every row's step waits on
// DRAM. Measured per I-AutoRec epoch (in-process A/B): one row ahead into L1
// 6-7 % faster than none; into L2 only (prefetcht2) another ~10 % (the L1
// fill buffers are what the sparse sums need); two rows ahead ~3 % more, four
// the same as two.
constexpr int64_t kPrefetchRows = 2;

// Parameter rows per dynamic-schedule chunk: long runs, so a thread's rows are
// contiguous streams for the prefetchers and two threads rarely work on
// neighbouring rows (500-float rows share cache lines at their ends, and the
// next-row prefetch would pull a line the other thread is writing). Measured
// per I-AutoRec epoch: chunks of 4 rows 35 % slower than 16; 64 to 1024 within
// this machine's noise of 16 (-12 % to +4 % over runs). About eight chunks per
// thread keep the load balanced.
inline int64_t row_chunk(int64_t n_rows, int n_threads) {
  return std::max<int64_t>(16, n_rows / (8 * int64_t(n_threads)));
}

// Thread t's rows [lo, hi) of a loop over the columns of a transposed pattern
// whose iterations scatter into per-thread partial sums. The partition is fixed
// (not dynamic) so that which columns a thread adds up, and so the rounding of
// the partial sums, does not depend on the scheduling: same inputs and thread
// count, same bits. Contiguous ranges of about equal work, a column costing its
// entries plus one (reading its parameter row) in the same units.
inline std::pair<int64_t, int64_t> balanced_range(const std::vector<int64_t> &colptr, int64_t n, int t,
                                                  int n_threads) {
  const int64_t total = colptr[n] + n;
  auto bound = [&](int s) -> int64_t {
    if (s <= 0) return 0;
    if (s >= n_threads) return n;
    const int64_t target = total * s / n_threads;  // first i with work(0, i) >= target
    int64_t lo = 0, hi = n;
    while (lo < hi) {
      const int64_t mid = lo + (hi - lo) / 2;
      if (colptr[mid] + mid < target) lo = mid + 1; else hi = mid;
    }
    return lo;
  };
  return {bound(t), bound(t + 1)};
}

// Scratch that lives across batches (per calling thread, per slot): fresh
// std::vectors every batch cost page faults and the kernel's zeroing of new
// pages (~5 % of an AutoRec epoch in a profile). Grows, never shrinks.
template <typename T, int Slot> T *workspace(int64_t n) {
  thread_local std::vector<T> buf;
  if (int64_t(buf.size()) < n) buf.resize(n);
  return buf.data();
}

// As workspace, 64-byte aligned.
template <typename T, int Slot> T *aligned_workspace(int64_t n) {
  T *p = workspace<T, Slot + 100>(n + 64 / sizeof(T));
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  return reinterpret_cast<T *>((a + 63) & ~uintptr_t(63));
}

bool same_pattern(const int64_t *indptr_a, const int32_t *indices_a, const int64_t *indptr_b,
                  const int32_t *indices_b, int64_t n_rows) {
  if (indptr_a == indptr_b && indices_a == indices_b) return true;
  if (!std::equal(indptr_a, indptr_a + n_rows + 1, indptr_b)) return false;
  return std::equal(indices_a, indices_a + indptr_a[n_rows], indices_b);
}

}  // namespace

// H = g(X·Vt + mu), rows ld >= k apart (columns k..ld zeroed). Item-major: each
// Vt row is read once and scattered into the batch rows that use it (per-thread
// partial sums, then one reduction pass).
template <typename T>
void autorec_encode_t(const CsrView<T> &X, const Transposed &xt, const AutoRecNet<T> &net, T *H,
                      int64_t ld) {
  const int64_t k = net.k, B = X.n_rows;
  const int n_threads = (X.nnz() * k > kParallelWork) ? omp_get_max_threads() : 1;
  T *partial = aligned_workspace<T, 0>(int64_t(n_threads) * B * ld);
#pragma omp parallel num_threads(n_threads)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    T *acc = partial + int64_t(t) * B * ld;
    std::fill(acc, acc + B * ld, T(0));  // each thread its own part: no barrier needed
    const auto [i0, i1] = balanced_range(xt.colptr, net.n_in, t, nt);
    for (int64_t i = i0; i < i1; ++i) {
      const T *v = net.Vt.param + i * k;
      // Vt rows are read in order: ask for the one kPrefetchRows ahead into L2 (~5 % per epoch)
      for (int64_t j = 0; j < k; j += 64 / sizeof(T)) __builtin_prefetch(v + kPrefetchRows * k + j, 0, 1);
      for (int64_t q = xt.colptr[i]; q < xt.colptr[i + 1]; ++q)
        vec::axpy(k, X.data[xt.entry[q]], v, acc + int64_t(xt.row[q]) * ld);
    }
#pragma omp barrier
    std::vector<T> scratch(net.hidden == Act::Sigmoid ? k : 0);
#pragma omp for schedule(static)
    for (int64_t r = 0; r < B; ++r) {
      T *h = H + r * ld;
      std::copy(net.mu.param, net.mu.param + k, h);
      std::fill(h + k, h + ld, T(0));
      for (int s = 0; s < nt; ++s) vec::axpy(k, T(1), partial + (int64_t(s) * B + r) * ld, h);
      if (net.hidden == Act::Sigmoid) {
        vec::sigmoid(k, h, scratch.data());  // vectorised: libm's exp per element cost ~5 % of an epoch
      } else {
        for (int64_t j = 0; j < k; ++j) h[j] = act_forward(net.hidden, h[j]);
      }
    }
  }
}

template <typename T> void autorec_encode(const CsrView<T> &X, const AutoRecNet<T> &net, T *H) {
  autorec_encode_t(X, transpose_pattern(X.indptr, X.indices, X.n_rows, net.n_in), net, H, net.k);
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

// For each input i: g = l2_scale * P_i + Σ x dZ_r over its entries (dZ rows ld
// apart), then the step on P_i.
template <typename T>
void sparse_input_grad_step_t(const CsrView<T> &X, const Transposed &xt, const T *dZ, int64_t k,
                              int64_t ld, const Slot<T> &P, T l2_scale, const OptConfig &opt) {
  const int n_threads = ((X.nnz() + X.n_cols) * k > kParallelWork) ? omp_get_max_threads() : 1;
  const int64_t chunk = row_chunk(X.n_cols, n_threads);
#pragma omp parallel num_threads(n_threads)
  {
    std::vector<T> g(k), a;
#pragma omp for schedule(dynamic, chunk)
    for (int64_t i = 0; i < X.n_cols; ++i) {
      const T *v = P.param + i * k;
      const int64_t q0 = xt.colptr[i], m = xt.colptr[i + 1] - q0;
      a.resize(m);
      for (int64_t j = 0; j < m; ++j) a[j] = X.data[xt.entry[q0 + j]];
      vec::gather_axpy(k, m, a.data(), xt.row.data() + q0, dZ, ld, v, l2_scale, g.data());
      opt_update_run(opt, P, i * k, g.data(), k, kPrefetchRows * k);
    }
  }
}

template <typename T>
void sparse_input_grad_step(const CsrView<T> &X, const T *dZ, int64_t k, const Slot<T> &P,
                            T l2_scale, const OptConfig &opt) {
  sparse_input_grad_step_t(X, transpose_pattern(X.indptr, X.indices, X.n_rows, X.n_cols), dZ, k, k,
                           P, l2_scale, opt);
}

// Column-major passes: W_u and Vt_i are each read once per batch (from cache
// or memory) and used for every batch row that touches them; the batch-sized
// H and dZ stay in L2, their rows padded to whole 64-byte lines. Scatters into
// batch rows go to per-thread buffers, summed afterwards, so threads never
// share a written row. The gradient rows of W_u and Vt_i accumulate in
// registers over the row's entries (vec::gather_axpy*).
template <typename T>
double autorec_batch(const CsrView<T> &X, const CsrView<T> &Y, const AutoRecNet<T> &net,
                     T l2_scale, const OptConfig &opt) {
  const int64_t B = X.n_rows, k = net.k, ld = (k + vec::kRowPad - 1) / vec::kRowPad * vec::kRowPad;
  const int n_threads = ((X.nnz() + Y.nnz() + net.n_out) * k > kParallelWork) ? omp_get_max_threads() : 1;
  T *H = aligned_workspace<T, 1>(B * ld), *dZ = aligned_workspace<T, 2>(B * ld);
  // One transposed pattern serves the inputs and the targets when they share it
  // (AutoRec without side features: the ratings are both).
  thread_local Transposed xt, yt_own;  // storage kept across batches
  transpose_pattern_into(xt, X.indptr, X.indices, B, net.n_in);
  const bool shared = net.n_in == net.n_out && X.nnz() == Y.nnz() &&
                      same_pattern(X.indptr, X.indices, Y.indptr, Y.indices, B);
  autorec_encode_t(X, xt, net, H, ld);

  // Decoder at the observed targets, dH, and the W/b gradients and step, one
  // output row u per iteration.
  if (!shared) transpose_pattern_into(yt_own, Y.indptr, Y.indices, B, net.n_out);
  const Transposed &yt = shared ? xt : yt_own;
  T *dz_per_thread = aligned_workspace<T, 3>(int64_t(n_threads) * B * ld);
  double *row_loss = workspace<double, 4>(net.n_out);  // summed in row order: the same for any thread count
#pragma omp parallel num_threads(n_threads)
  {
    std::vector<T> g(k), d;
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    T *dz = dz_per_thread + int64_t(t) * B * ld;
    std::fill(dz, dz + B * ld, T(0));  // each thread its own: no barrier needed
    const auto [u0, u1] = balanced_range(yt.colptr, net.n_out, t, nt);
    for (int64_t u = u0; u < u1; ++u) {
      T *w = net.W.param + u * k;
      const int64_t q0 = yt.colptr[u], m = yt.colptr[u + 1] - q0;
      d.resize(m);
      vec::dot_rows(k, w, m, yt.row.data() + q0, H, ld, d.data());
      T gb = T(0);
      double loss = 0.0;
      for (int64_t j = 0; j < m; ++j) {
        loss += double(loss_and_grad(net.loss, net.output, d[j] + net.b.param[u], Y.data[yt.entry[q0 + j]], &d[j]));
        gb += d[j];
      }
      row_loss[u] = loss;
      // g = l2 W_u + Σ d H_r, and dH_r += d W_u with the old W_u, before its update below
      vec::gather_axpy_scatter(k, m, d.data(), yt.row.data() + q0, H, w, dz, ld, l2_scale, g.data());
      opt_update_run(opt, net.W, u * k, g.data(), k, kPrefetchRows * k);
      opt_update(opt, net.b, u, gb);
    }
#pragma omp barrier
    // dZ = (sum of the threads' dH) * g'(h), rows split across the threads
    const ActGradCoef<T> hidden_grad = act_grad_coef<T>(net.hidden);
#pragma omp for schedule(static)
    for (int64_t r = 0; r < B; ++r) {
      T *out = dZ + r * ld;
      std::copy(dz_per_thread + r * ld, dz_per_thread + (r + 1) * ld, out);
      for (int s = 1; s < nt; ++s) vec::axpy(ld, T(1), dz_per_thread + (int64_t(s) * B + r) * ld, out);
      vec::mul_act_grad(ld, out, H + r * ld, hidden_grad);
    }
  }

  // mu: the column sums of dZ.
  {
    std::vector<T> g(k, T(0));
    for (int64_t r = 0; r < B; ++r) vec::axpy(k, T(1), dZ + r * ld, g.data());
    opt_update_run(opt, net.mu, 0, g.data(), k);
  }

  sparse_input_grad_step_t(X, xt, dZ, k, ld, net.Vt, l2_scale, opt);
  double loss = 0.0;
  for (int64_t u = 0; u < net.n_out; ++u) loss += row_loss[u];
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
