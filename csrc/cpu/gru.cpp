#include "cpu/gru.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "cpu/blas.h"
#include "cpu/vec.h"

namespace autorec::cpu {

template <typename T>
void gemm_rowmajor(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha,
                   const T *A, int64_t lda, const T *B, int64_t ldb, T beta, T *C, int64_t ldc) {
  if (m == 0 || n == 0) return;
  // Row-major C = op(A) op(B) is column-major Cᵀ = op(B)ᵀ op(A)ᵀ: swap the operands.
  char ta = trans_b ? 'T' : 'N', tb = trans_a ? 'T' : 'N';
  int M = static_cast<int>(n), N = static_cast<int>(m), K = static_cast<int>(k);
  int la = static_cast<int>(ldb), lb = static_cast<int>(lda), lc = static_cast<int>(ldc);
  if (K == 0) {  // BLAS would still scale C by beta; do the same without reading A/B
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) C[i * ldc + j] = beta == T(0) ? T(0) : beta * C[i * ldc + j];
    return;
  }
  blas::gemm<T>()(&ta, &tb, &M, &N, &K, &alpha, const_cast<T *>(B), &la, const_cast<T *>(A), &lb,
                  &beta, C, &lc);
}

namespace {

constexpr int64_t kParallelWork = 1 << 14;

// x[i] <- exp(x[i]) for |x| <= 80 (callers clamp): the vectorised float exp of
// vec.cpp (the per-step gates are exp-bound), libm for double.
inline void exp_inplace(int64_t n, float *x) { vec::exp_shift_sum(n, x, 0.0f); }
inline void exp_inplace(int64_t n, double *x) {
  for (int64_t i = 0; i < n; ++i) x[i] = std::exp(x[i]);
}
template <typename T> inline T clamp80(T v) { return std::min(std::max(v, T(-80)), T(80)); }

template <typename T> std::vector<int64_t> offsets_of(const int64_t *batch_sizes, int64_t n_steps) {
  std::vector<int64_t> off(n_steps + 1, 0);
  for (int64_t t = 0; t < n_steps; ++t) off[t + 1] = off[t] + batch_sizes[t];
  return off;
}

}  // namespace

template <typename T>
void gru_forward(const T *Xi, const int64_t *batch_sizes, int64_t n_steps, int64_t G,
                 const T *W_hh, const T *b_hh, T *H, T *cache) {
  const auto off = offsets_of<T>(batch_sizes, n_steps);
  const int64_t G3 = 3 * G, G4 = 4 * G;
  const int64_t max_b = n_steps ? batch_sizes[0] : 0;
  std::vector<T> gh(max_b * G3);  // h_{t-1} · W_hh for the step's rows
  for (int64_t t = 0; t < n_steps; ++t) {
    const int64_t B = batch_sizes[t];
    const T *h_prev = t > 0 ? H + off[t - 1] * G : nullptr;  // rows 0..B-1 of step t-1
    if (h_prev) gemm_rowmajor<T>(false, false, B, G3, G, T(1), h_prev, G, W_hh, G3, T(0), gh.data(), G3);
#pragma omp parallel if (B * G > kParallelWork)
    {
      std::vector<T> a(2 * G), b(G);
#pragma omp for schedule(static)
      for (int64_t i = 0; i < B; ++i) {
        const T *xi = Xi + (off[t] + i) * G3;
        const T *g = h_prev ? gh.data() + i * G3 : nullptr;
        T *c = cache + (off[t] + i) * G4;  // r | z | n | hn
        T *h = H + (off[t] + i) * G;
        for (int64_t j = 0; j < 2 * G; ++j) a[j] = clamp80(-(xi[j] + (g ? g[j] : T(0)) + b_hh[j]));
        exp_inplace(2 * G, a.data());
        for (int64_t j = 0; j < 2 * G; ++j) c[j] = T(1) / (T(1) + a[j]);  // r, z
        for (int64_t j = 0; j < G; ++j) {
          const T hn = (g ? g[2 * G + j] : T(0)) + b_hh[2 * G + j];
          c[3 * G + j] = hn;
          b[j] = clamp80(T(-2) * (xi[2 * G + j] + c[j] * hn));
        }
        exp_inplace(G, b.data());
        for (int64_t j = 0; j < G; ++j) {
          const T n = T(2) / (T(1) + b[j]) - T(1);  // tanh(v) = 2σ(2v) - 1
          const T z = c[G + j];
          c[2 * G + j] = n;
          h[j] = (T(1) - z) * n + (h_prev ? z * h_prev[i * G + j] : T(0));
        }
      }
    }
  }
}

template <typename T>
void gru_backward(const T *dH, const T *H, const T *cache, const int64_t *batch_sizes,
                  int64_t n_steps, int64_t G, const T *W_hh, T *dXi, T *dW_hh, T *db_hh) {
  const auto off = offsets_of<T>(batch_sizes, n_steps);
  const int64_t T_rows = off[n_steps];
  const int64_t G3 = 3 * G, G4 = 4 * G;
  const int64_t max_b = n_steps ? batch_sizes[0] : 0;
  std::vector<T> d_next(max_b * G, T(0)), d_cur(max_b * G), d_gh(max_b * G3);
  std::vector<T> d_hn(T_rows * G);  // dLoss/d(hn), for dW_hh's n block
  for (int64_t t = n_steps - 1; t >= 0; --t) {
    const int64_t B = batch_sizes[t];
    const int64_t B_next = t + 1 < n_steps ? batch_sizes[t + 1] : 0;
    const T *h_prev = t > 0 ? H + off[t - 1] * G : nullptr;
#pragma omp parallel for schedule(static) if (B * G > kParallelWork)
    for (int64_t i = 0; i < B; ++i) {
      const int64_t row = off[t] + i;
      const T *c = cache + row * G4;
      const T *dh_in = dH + row * G;
      T *dx = dXi + row * G3;
      T *dg = d_gh.data() + i * G3;
      T *dc = d_cur.data() + i * G;
      for (int64_t j = 0; j < G; ++j) {
        const T r = c[j], z = c[G + j], n = c[2 * G + j], hn = c[3 * G + j];
        const T hp = h_prev ? h_prev[i * G + j] : T(0);
        const T dh = dh_in[j] + (i < B_next ? d_next[i * G + j] : T(0));
        const T dn = dh * (T(1) - z);
        const T dz = dh * (hp - n);
        const T dan = dn * (T(1) - n * n);
        const T dar = dan * hn * r * (T(1) - r);
        const T daz = dz * z * (T(1) - z);
        dx[j] = dar;
        dx[G + j] = daz;
        dx[2 * G + j] = dan;
        dg[j] = dar;
        dg[G + j] = daz;
        dg[2 * G + j] = dan * r;
        d_hn[row * G + j] = dan * r;
        dc[j] = dh * z;
      }
    }
    if (h_prev) gemm_rowmajor<T>(false, true, B, G, G3, T(1), d_gh.data(), G3, W_hh, G3, T(1), d_cur.data(), G);
    std::swap(d_next, d_cur);
  }
  if (T_rows == 0) return;
  // dW_hh = Σ_t h_{t-1}ᵀ · [dr | dz | dhn]_t: one GEMM over the rows with a
  // predecessor, h_{t-1} gathered into a packed copy aligned with step t's rows.
  const int64_t first = n_steps ? batch_sizes[0] : 0;  // step 0 has h_prev = 0
  const int64_t R = T_rows - first;
  if (R > 0) {
    std::vector<T> h_prev_rows(R * G);
#pragma omp parallel for schedule(static) if (R * G > kParallelWork)
    for (int64_t t = 1; t < n_steps; ++t)
      std::copy(H + off[t - 1] * G, H + (off[t - 1] + batch_sizes[t]) * G,
                h_prev_rows.begin() + (off[t] - first) * G);
    gemm_rowmajor<T>(true, false, G, 2 * G, R, T(1), h_prev_rows.data(), G, dXi + first * G3, G3, T(1),
                     dW_hh, G3);
    gemm_rowmajor<T>(true, false, G, G, R, T(1), h_prev_rows.data(), G, d_hn.data() + first * G, G, T(1),
                     dW_hh + 2 * G, G3);
  }
  // db_hh: Σ rows of [dr | dz | dhn]
  for (int64_t row = 0; row < T_rows; ++row) {
    const T *dx = dXi + row * G3;
    const T *dn = d_hn.data() + row * G;
    for (int64_t j = 0; j < 2 * G; ++j) db_hh[j] += dx[j];
    for (int64_t j = 0; j < G; ++j) db_hh[2 * G + j] += dn[j];
  }
}

template <typename T>
void scatter_add_rows(const int64_t *idx, int64_t n, const T *src, int64_t d, T *out) {
  // Threads own disjoint column ranges, so duplicate indices never race.
#pragma omp parallel if (n * d > kParallelWork)
  {
    const int nt = omp_get_num_threads(), id = omp_get_thread_num();
    const int64_t lo = d * id / nt, hi = d * (id + 1) / nt;
    for (int64_t i = 0; i < n; ++i) {
      const T *s = src + i * d;
      T *o = out + idx[i] * d;
      for (int64_t j = lo; j < hi; ++j) o[j] += s[j];
    }
  }
}

#define AUTOREC_INSTANTIATE(T)                                                                         \
  template void gemm_rowmajor<T>(bool, bool, int64_t, int64_t, int64_t, T, const T *, int64_t,      \
                                 const T *, int64_t, T, T *, int64_t);                               \
  template void gru_forward<T>(const T *, const int64_t *, int64_t, int64_t, const T *, const T *,   \
                               T *, T *);                                                            \
  template void gru_backward<T>(const T *, const T *, const T *, const int64_t *, int64_t, int64_t,  \
                                const T *, T *, T *, T *);                                           \
  template void scatter_add_rows<T>(const int64_t *, int64_t, const T *, int64_t, T *);
AUTOREC_INSTANTIATE(float)
AUTOREC_INSTANTIATE(double)
#undef AUTOREC_INSTANTIATE

}  // namespace autorec::cpu
