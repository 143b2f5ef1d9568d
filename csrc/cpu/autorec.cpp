#include "cpu/autorec.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "cpu/transpose.h"
#include "cpu/vec.h"

namespace autorec::cpu {

namespace {
// Parallel regions only pay off above this much work (multiply-adds); below it
// the fork/join costs more, and on a busy machine a barrier can wait a whole
// scheduler time slice.
constexpr int64_t kParallelWork = 1 << 16;

// The optimizer step over a contiguous run of a parameter, switch hoisted.
template <typename T>
void opt_update_run(const OptConfig &c, const Slot<T> &s, int64_t offset, const T *g, int64_t n) {
  switch (c.kind) {
    case Opt::GradOnly:
      std::copy(g, g + n, s.grad + offset);
      return;
    case Opt::Adam:
      vec::adam(n, s.param + offset, s.s1 + offset, s.s2 + offset, g, T(c.beta1), T(c.beta2),
                T(1.0 / c.sqrt_bc2), T(c.eps), T(c.lr_bc1));
      return;
    default:
      for (int64_t i = 0; i < n; ++i) opt_update(c, s, offset + i, g[i]);
  }
}
}  // namespace

template <typename T> void autorec_encode(const CsrView<T> &X, const AutoRecNet<T> &net, T *H) {
  const int64_t k = net.k;
#pragma omp parallel for schedule(dynamic, 4) if (X.nnz() * k > kParallelWork)
  for (int64_t r = 0; r < X.n_rows; ++r) {
    T *h = H + r * k;
    std::copy(net.mu.param, net.mu.param + k, h);
    for (int64_t p = X.indptr[r]; p < X.indptr[r + 1]; ++p)
      vec::axpy(k, X.data[p], net.Vt.param + int64_t(X.indices[p]) * k, h);
    for (int64_t j = 0; j < k; ++j) h[j] = act_forward(net.hidden, h[j]);
  }
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
double autorec_batch(const CsrView<T> &X, const CsrView<T> &Y, const AutoRecNet<T> &net,
                     T l2_scale, const OptConfig &opt) {
  const int64_t B = X.n_rows, k = net.k;
  std::vector<T> H(B * k), dZ(B * k, T(0));
  autorec_encode(X, net, H.data());

  // Decoder at the observed targets only; D = dLoss/d(pre-activation output).
  std::vector<T> D(Y.nnz());
  double loss = 0.0;
#pragma omp parallel for schedule(dynamic, 4) reduction(+ : loss) if (Y.nnz() * k > kParallelWork)
  for (int64_t r = 0; r < B; ++r) {
    const T *h = H.data() + r * k;
    T *dz = dZ.data() + r * k;
    for (int64_t p = Y.indptr[r]; p < Y.indptr[r + 1]; ++p) {
      const int64_t u = Y.indices[p];
      const T *w = net.W.param + u * k;
      const T o = act_forward(net.output, vec::dot(k, w, h) + net.b.param[u]);
      const T err = o - Y.data[p];
      loss += double(err) * double(err);
      D[p] = T(2) * err * act_grad_from_output(net.output, o);
      vec::axpy(k, D[p], w, dz);  // dH (old W: read before the W update below)
    }
    for (int64_t j = 0; j < k; ++j) dz[j] *= act_grad_from_output(net.hidden, h[j]);
  }

  // W, b: one output row per thread, its gradient gathered from the batch rows
  // that observe it, then the optimizer step on that row at once.
  const Transposed yt = transpose_pattern(Y.indptr, Y.indices, B, net.n_out);
#pragma omp parallel if ((Y.nnz() + net.n_out) * k > kParallelWork)
  {
    std::vector<T> g(k);
#pragma omp for schedule(dynamic, 16)
    for (int64_t u = 0; u < net.n_out; ++u) {
      T *w = net.W.param + u * k;
      for (int64_t j = 0; j < k; ++j) g[j] = l2_scale * w[j];
      T gb = T(0);
      for (int64_t q = yt.colptr[u]; q < yt.colptr[u + 1]; ++q) {
        const T d = D[yt.entry[q]];
        vec::axpy(k, d, H.data() + int64_t(yt.row[q]) * k, g.data());
        gb += d;
      }
      opt_update_run(opt, net.W, u * k, g.data(), k);
      opt_update(opt, net.b, u, gb);
    }
  }

  // mu: the column sums of dZ.
  {
    std::vector<T> g(k, T(0));
    for (int64_t r = 0; r < B; ++r) vec::axpy(k, T(1), dZ.data() + r * k, g.data());
    opt_update_run(opt, net.mu, 0, g.data(), k);
  }

  // Vt: one input row per thread, gathered from the batch rows that use it.
  const Transposed xt = transpose_pattern(X.indptr, X.indices, B, net.n_in);
#pragma omp parallel if ((X.nnz() + net.n_in) * k > kParallelWork)
  {
    std::vector<T> g(k);
#pragma omp for schedule(dynamic, 16)
    for (int64_t i = 0; i < net.n_in; ++i) {
      T *v = net.Vt.param + i * k;
      for (int64_t j = 0; j < k; ++j) g[j] = l2_scale * v[j];
      for (int64_t q = xt.colptr[i]; q < xt.colptr[i + 1]; ++q)
        vec::axpy(k, X.data[xt.entry[q]], dZ.data() + int64_t(xt.row[q]) * k, g.data());
      opt_update_run(opt, net.Vt, i * k, g.data(), k);
    }
  }
  return loss;
}

#define AUTOREC_INSTANTIATE(T)                                                                  \
  template void autorec_encode<T>(const CsrView<T> &, const AutoRecNet<T> &, T *);             \
  template void autorec_decode_pairs<T>(const T *, const int64_t *, const int64_t *, int64_t,  \
                                        const AutoRecNet<T> &, T *);                           \
  template double autorec_batch<T>(const CsrView<T> &, const CsrView<T> &,                     \
                                   const AutoRecNet<T> &, T, const OptConfig &);
AUTOREC_INSTANTIATE(float)
AUTOREC_INSTANTIATE(double)
#undef AUTOREC_INSTANTIATE

}  // namespace autorec::cpu
