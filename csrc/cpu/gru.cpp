#include "cpu/gru.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "common/gru_cell.h"
#include "cpu/blas.h"  // gemm_rowmajor
#include "cpu/vec.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace autorec::cpu {

namespace {

// x[i] <- exp(x[i]) for |x| <= 80 (callers clamp): the vectorised float exp of
// vec.cpp (the per-step gates are exp-bound), libm for double.
inline void exp_inplace(int64_t n, float *x) { vec::exp_shift_sum(n, x, 0.0f); }
inline void exp_inplace(int64_t n, double *x) {
  for (int64_t i = 0; i < n; ++i) x[i] = std::exp(x[i]);
}
template <typename T> inline T clamp80(T v) { return std::min(std::max(v, T(-80)), T(80)); }

std::vector<int64_t> offsets_of(const int64_t *batch_sizes, int64_t n_steps) {
  std::vector<int64_t> off(n_steps + 1, 0);
  for (int64_t t = 0; t < n_steps; ++t) off[t + 1] = off[t] + batch_sizes[t];
  return off;
}

// ---- the per-step recurrent product, C (m x n) (+)= A (m x k) · B (k x n) ----
// A step has few rows (a batch's sequences, fewer as they end), so BLAS calls
// would cost more in call and thread hand-off overhead than in flops (measured:
// 2-3x slower GRU steps right after a large OpenBLAS GEMM). Each OpenMP thread
// runs this serial kernel on its own sequences instead.
template <typename T>
void small_gemm_generic(int64_t m, int64_t n, int64_t k, const T *A, int64_t lda, const T *B, int64_t ldb,
                        T *C, int64_t ldc, bool accumulate) {
  for (int64_t i = 0; i < m; ++i) {
    T *c = C + i * ldc;
    if (!accumulate) std::fill(c, c + n, T(0));
    for (int64_t p = 0; p < k; ++p) vec::axpy(n, A[i * lda + p], B + p * ldb, c);
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
// AVX-512: 4 rows x 64 columns of C in 16 registers, B's row segment loaded once
// per 4 rows; masked loads/stores for the column tail.
template <int R>
__attribute__((target("avx512f"))) inline void tile_avx512(int64_t k, const float *A, int64_t lda,
                                                           const float *B, int64_t ldb, float *C,
                                                           int64_t ldc, const __mmask16 *mk,
                                                           bool accumulate) {
  __m512 c[R][4];
  for (int r = 0; r < R; ++r)
    for (int q = 0; q < 4; ++q)
      c[r][q] = accumulate ? _mm512_maskz_loadu_ps(mk[q], C + r * ldc + 16 * q) : _mm512_setzero_ps();
  for (int64_t p = 0; p < k; ++p) {
    const float *b = B + p * ldb;
    __m512 bv[4];
    for (int q = 0; q < 4; ++q) bv[q] = _mm512_maskz_loadu_ps(mk[q], b + 16 * q);
    for (int r = 0; r < R; ++r) {
      const __m512 a = _mm512_set1_ps(A[r * lda + p]);
      for (int q = 0; q < 4; ++q) c[r][q] = _mm512_fmadd_ps(a, bv[q], c[r][q]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int q = 0; q < 4; ++q) _mm512_mask_storeu_ps(C + r * ldc + 16 * q, mk[q], c[r][q]);
}

__attribute__((target("avx512f"))) void small_gemm_avx512(int64_t m, int64_t n, int64_t k, const float *A,
                                                          int64_t lda, const float *B, int64_t ldb,
                                                          float *C, int64_t ldc, bool accumulate) {
  for (int64_t j0 = 0; j0 < n; j0 += 64) {
    __mmask16 mk[4];
    for (int q = 0; q < 4; ++q) {
      const int64_t rem = n - j0 - 16 * q;
      mk[q] = rem >= 16 ? __mmask16(0xFFFF) : rem <= 0 ? __mmask16(0) : __mmask16((1u << rem) - 1);
    }
    int64_t i = 0;
    for (; i + 4 <= m; i += 4)
      tile_avx512<4>(k, A + i * lda, lda, B + j0, ldb, C + i * ldc + j0, ldc, mk, accumulate);
    for (; i < m; ++i) tile_avx512<1>(k, A + i * lda, lda, B + j0, ldb, C + i * ldc + j0, ldc, mk, accumulate);
  }
}
#endif

void small_gemm(int64_t m, int64_t n, int64_t k, const float *A, int64_t lda, const float *B, int64_t ldb,
                float *C, int64_t ldc, bool accumulate) {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  if (avx512) return small_gemm_avx512(m, n, k, A, lda, B, ldb, C, ldc, accumulate);
#endif
  small_gemm_generic(m, n, k, A, lda, B, ldb, C, ldc, accumulate);
}
void small_gemm(int64_t m, int64_t n, int64_t k, const double *A, int64_t lda, const double *B,
                int64_t ldb, double *C, int64_t ldc, bool accumulate) {
  small_gemm_generic(m, n, k, A, lda, B, ldb, C, ldc, accumulate);
}

// Sequences [0, n_seq) split into contiguous ranges, one per thread, with about
// equal numbers of steps. Sequences are independent through time, so each
// thread walks all the steps of its own range with no synchronisation; at step
// t its rows are a contiguous block [lo, min(hi, batch_sizes[t])).
std::vector<int64_t> split_sequences(const int64_t *batch_sizes, int64_t n_steps, int n_threads) {
  const int64_t n_seq = n_steps ? batch_sizes[0] : 0;
  std::vector<int64_t> len(n_seq, 0);  // len[i] = steps of sequence i
  for (int64_t t = 0; t < n_steps; ++t)
    for (int64_t i = 0; i < batch_sizes[t]; ++i) ++len[i];
  const int64_t total = std::accumulate(len.begin(), len.end(), int64_t(0));
  std::vector<int64_t> bounds(n_threads + 1, n_seq);
  bounds[0] = 0;
  int64_t acc = 0, i = 0;
  for (int th = 1; th < n_threads; ++th) {
    const int64_t target = total * th / n_threads;
    while (i < n_seq && acc + len[i] <= target) acc += len[i++];
    bounds[th] = std::max(i, bounds[th - 1]);
  }
  return bounds;
}

int threads_for(int64_t rows, int64_t G) {
  return rows * G * G > (int64_t(1) << 22) ? omp_get_max_threads() : 1;
}

}  // namespace

template <typename T>
void gru_forward(const T *Xi, const int64_t *batch_sizes, int64_t n_steps, int64_t G,
                 const T *W_hh, const T *b_hh, T *H, T *cache) {
  const auto off = offsets_of(batch_sizes, n_steps);
  const int64_t G3 = 3 * G, G4 = 4 * G;
  const int nt = threads_for(off[n_steps], G);
  const auto bounds = split_sequences(batch_sizes, n_steps, nt);
#pragma omp parallel num_threads(nt)
  {
    const int th = omp_get_thread_num();
    const int64_t lo = bounds[th], hi = bounds[th + 1];
    std::vector<T> gh((hi - lo) * G3), a(2 * G), b(G);
    for (int64_t t = 0; t < n_steps && batch_sizes[t] > lo; ++t) {
      const int64_t rows = std::min(hi, batch_sizes[t]) - lo;
      const T *h_prev = t > 0 ? H + (off[t - 1] + lo) * G : nullptr;
      if (h_prev) small_gemm(rows, G3, G, h_prev, G, W_hh, G3, gh.data(), G3, false);
      for (int64_t i = 0; i < rows; ++i) {
        const int64_t row = off[t] + lo + i;
        const T *xi = Xi + row * G3;
        const T *g = h_prev ? gh.data() + i * G3 : nullptr;
        T *c = cache + row * G4;  // r | z | n | hn
        T *h = H + row * G;
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
  const auto off = offsets_of(batch_sizes, n_steps);
  const int64_t T_rows = off[n_steps];
  const int64_t G3 = 3 * G, G4 = 4 * G;
  std::vector<T> d_hn(T_rows * G);  // dLoss/d(hn), for dW_hh's n block
  std::vector<T> W_hh_t(G3 * G);     // W_hhᵀ (3G x G): dh_prev += dGh · W_hhᵀ as a plain product
  for (int64_t g = 0; g < G; ++g)
    for (int64_t c = 0; c < G3; ++c) W_hh_t[c * G + g] = W_hh[g * G3 + c];
  const int nt = threads_for(T_rows, G);
  const auto bounds = split_sequences(batch_sizes, n_steps, nt);
#pragma omp parallel num_threads(nt)
  {
    const int th = omp_get_thread_num();
    const int64_t lo = bounds[th], hi = bounds[th + 1], width = hi - lo;
    std::vector<T> d_next(width * G, T(0)), d_cur(width * G), d_gh(width * G3);
    int64_t last = 0;  // this range's steps: those with a row of it
    while (last < n_steps && batch_sizes[last] > lo) ++last;
    for (int64_t t = last - 1; t >= 0; --t) {
      const int64_t rows = std::min(hi, batch_sizes[t]) - lo;
      const int64_t rows_next = t + 1 < n_steps ? std::max<int64_t>(0, std::min(hi, batch_sizes[t + 1]) - lo) : 0;
      const T *h_prev = t > 0 ? H + (off[t - 1] + lo) * G : nullptr;
      for (int64_t i = 0; i < rows; ++i) {
        const int64_t row = off[t] + lo + i;
        const T *c = cache + row * G4;
        const T *dh_in = dH + row * G;
        T *dx = dXi + row * G3;
        T *dg = d_gh.data() + i * G3;
        T *dc = d_cur.data() + i * G;
        for (int64_t j = 0; j < G; ++j) {
          const T r = c[j], z = c[G + j], n = c[2 * G + j], hn = c[3 * G + j];
          const T hp = h_prev ? h_prev[i * G + j] : T(0);
          const T dh = dh_in[j] + (i < rows_next ? d_next[i * G + j] : T(0));
          const GruCellGrad<T> gg = gru_cell_backward(r, z, n, hn, hp, dh);
          dx[j] = dg[j] = gg.dr;
          dx[G + j] = dg[G + j] = gg.dz;
          dx[2 * G + j] = gg.dn;
          dg[2 * G + j] = d_hn[row * G + j] = gg.dhn;
          dc[j] = gg.dh_direct;
        }
      }
      if (h_prev) small_gemm(rows, G, G3, d_gh.data(), G3, W_hh_t.data(), G, d_cur.data(), G, true);
      std::swap(d_next, d_cur);
    }
  }
  if (T_rows == 0) return;
  // dW_hh = Σ_t h_{t-1}ᵀ · [dr | dz | dhn]_t: one BLAS GEMM (outside any OpenMP
  // region) over the rows with a predecessor, h_{t-1} gathered into a packed
  // copy aligned with step t's rows.
  const int64_t first = batch_sizes[0];  // step 0 has h_prev = 0
  const int64_t R = T_rows - first;
  if (R > 0) {
    std::vector<T> h_prev_rows(R * G);
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

#define AUTOREC_INSTANTIATE(T)                                                                         \
  template void gru_forward<T>(const T *, const int64_t *, int64_t, int64_t, const T *, const T *,   \
                               T *, T *);                                                            \
  template void gru_backward<T>(const T *, const T *, const T *, const int64_t *, int64_t, int64_t,  \
                                const T *, T *, T *, T *);
AUTOREC_INSTANTIATE(float)
AUTOREC_INSTANTIATE(double)
#undef AUTOREC_INSTANTIATE

}  // namespace autorec::cpu
