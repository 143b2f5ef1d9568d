#include "cpu/vec.h"

#include <cmath>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define AUTOREC_X86 1
#endif

namespace autorec::cpu::vec {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define AUTOREC_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define AUTOREC_CLONES
#endif

#define AUTOREC_VEC(T)                                                       \
  AUTOREC_CLONES void axpy(int64_t n, T a, const T *x, T *y) {               \
    _Pragma("omp simd") for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];    \
  }                                                                          \
  /* 64 independent partial sums (4 AVX-512 registers for float): one     \
     accumulator would serialise on the FMA latency (measured: the dot of   \
     the AutoRec decoder ran at a quarter of the FMA throughput). */        \
  AUTOREC_CLONES T dot(int64_t n, const T *x, const T *y) {                  \
    T acc[64] = {};                                                          \
    int64_t i = 0;                                                           \
    for (; i + 64 <= n; i += 64) {                                           \
      _Pragma("omp simd") for (int j = 0; j < 64; ++j) acc[j] += x[i + j] * y[i + j]; \
    }                                                                        \
    T s = 0;                                                                 \
    _Pragma("omp simd reduction(+ : s)") for (int j = 0; j < 64; ++j) s += acc[j]; \
    _Pragma("omp simd reduction(+ : s)") for (int64_t t = i; t < n; ++t) s += x[t] * y[t]; \
    return s;                                                                \
  }                                                                          \
  AUTOREC_CLONES void adam(int64_t n, T *p, T *m, T *v, const T *g, T b1, T b2, \
                           T inv_sqrt_bc2, T eps, T lr, int64_t prefetch) {  \
    const T ob1 = T(1) - b1, ob2 = T(1) - b2;                                \
    constexpr int64_t L = 64 / sizeof(T);                                    \
    for (int64_t i0 = 0; i0 < n; i0 += L) {                                  \
      const int64_t i1 = i0 + L < n ? i0 + L : n;                            \
      if (prefetch) {                                                        \
        __builtin_prefetch(p + i0 + prefetch, 1, 1);                         \
        __builtin_prefetch(m + i0 + prefetch, 1, 1);                         \
        __builtin_prefetch(v + i0 + prefetch, 1, 1);                         \
      }                                                                      \
      _Pragma("omp simd") for (int64_t i = i0; i < i1; ++i) {                \
        const T mi = b1 * m[i] + ob1 * g[i];                                 \
        const T vi = b2 * v[i] + ob2 * g[i] * g[i];                          \
        m[i] = mi;                                                           \
        v[i] = vi;                                                           \
        p[i] -= lr * mi / (std::sqrt(vi) * inv_sqrt_bc2 + eps);              \
      }                                                                      \
    }                                                                        \
  }
AUTOREC_VEC(float)
AUTOREC_VEC(double)
#undef AUTOREC_VEC

// 64-byte vectors (GCC vector extensions): one zmm register with AVX-512, two
// ymm with AVX2, four xmm in the baseline clone. Through the instantiations
// below, -Wpsabi is off: it notes that such a vector returned by value (load)
// has another ABI without AVX-512, but every helper passing one is always
// inlined, so no call, and no ABI, is involved.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float vfloat __attribute__((vector_size(64)));
typedef double vdouble __attribute__((vector_size(64)));

namespace {
// Unaligned loads and stores (memcpy compiles to one vmovups).
template <typename V, typename T> __attribute__((always_inline)) inline V load(const T *p) {
  V v;
  __builtin_memcpy(&v, p, sizeof(V));
  return v;
}
template <typename V, typename T> __attribute__((always_inline)) inline void store(T *p, const V &v) {
  __builtin_memcpy(p, &v, sizeof(V));
}
// NV vectors of g held in registers across the m entries.
template <int NV, typename T, typename V>
__attribute__((always_inline)) inline void gather_axpy_block(int64_t m, const T *a, const int32_t *rows,
                                                             const T *X, int64_t ld, const T *base,
                                                             T scale, T *g) {
  constexpr int L = 64 / sizeof(T);
  V acc[NV];
  for (int v = 0; v < NV; ++v) acc[v] = scale * load<V>(base + L * v);
  for (int64_t j = 0; j < m; ++j) {
    const T *x = X + int64_t(rows[j]) * ld;
    const T s = a[j];
    for (int v = 0; v < NV; ++v) acc[v] += s * load<V>(x + L * v);
  }
  for (int v = 0; v < NV; ++v) store(g + L * v, acc[v]);
}

template <int NV, typename T, typename V>
__attribute__((always_inline)) inline void gather_axpy_scatter_block(int64_t m, const T *a, const int32_t *rows,
                                                                     const T *X, const T *w, T *Y, int64_t ld,
                                                                     T scale, T *g) {
  constexpr int L = 64 / sizeof(T);
  V acc[NV], wv[NV];
  for (int v = 0; v < NV; ++v) {
    wv[v] = load<V>(w + L * v);
    acc[v] = scale * wv[v];
  }
  for (int64_t j = 0; j < m; ++j) {
    const int64_t off = int64_t(rows[j]) * ld;
    const T s = a[j];
    for (int v = 0; v < NV; ++v) {
      acc[v] += s * load<V>(X + off + L * v);
      store(Y + off + L * v, load<V>(Y + off + L * v) + s * wv[v]);
    }
  }
  for (int v = 0; v < NV; ++v) store(g + L * v, acc[v]);
}
}  // namespace

// Blocks of 4 vectors (8 registers live in the scatter variant: fits AVX2's 16 ymm
// as 2 x 8), then single vectors, then a scalar tail (none when n is a multiple of kRowPad).
#define AUTOREC_GATHER(T, V)                                                                 \
  AUTOREC_CLONES void gather_axpy(int64_t n, int64_t m, const T *a, const int32_t *rows,    \
                                  const T *X, int64_t ld, const T *base, T scale, T *g) {   \
    constexpr int L = 64 / sizeof(T);                                                        \
    int64_t c = 0;                                                                           \
    for (; c + 4 * L <= n; c += 4 * L)                                                       \
      gather_axpy_block<4, T, V>(m, a, rows, X + c, ld, base + c, scale, g + c);            \
    for (; c + L <= n; c += L) gather_axpy_block<1, T, V>(m, a, rows, X + c, ld, base + c, scale, g + c); \
    for (int64_t i = c; i < n; ++i) g[i] = scale * base[i];                                  \
    for (int64_t j = 0; j < m && c < n; ++j)                                                 \
      for (int64_t i = c; i < n; ++i) g[i] += a[j] * X[int64_t(rows[j]) * ld + i];          \
  }                                                                                          \
  AUTOREC_CLONES void gather_axpy_scatter(int64_t n, int64_t m, const T *a, const int32_t *rows, \
                                          const T *X, const T *w, T *Y, int64_t ld, T scale, \
                                          T *g) {                                            \
    constexpr int L = 64 / sizeof(T);                                                        \
    int64_t c = 0;                                                                           \
    for (; c + 4 * L <= n; c += 4 * L)                                                       \
      gather_axpy_scatter_block<4, T, V>(m, a, rows, X + c, w + c, Y + c, ld, scale, g + c); \
    for (; c + L <= n; c += L)                                                               \
      gather_axpy_scatter_block<1, T, V>(m, a, rows, X + c, w + c, Y + c, ld, scale, g + c); \
    for (int64_t i = c; i < n; ++i) g[i] = scale * w[i];                                     \
    for (int64_t j = 0; j < m && c < n; ++j)                                                 \
      for (int64_t i = c; i < n; ++i) {                                                      \
        g[i] += a[j] * X[int64_t(rows[j]) * ld + i];                                         \
        Y[int64_t(rows[j]) * ld + i] += a[j] * w[i];                                         \
      }                                                                                      \
  }
// Sum of a vector's lanes.
template <typename T, typename V> __attribute__((always_inline)) inline T lane_sum(const V &v) {
  constexpr int L = 64 / sizeof(T);
  T s = T(0);
  for (int i = 0; i < L; ++i) s += v[i];
  return s;
}

#define AUTOREC_DOT_ROWS(T, V)                                                               \
  AUTOREC_CLONES void dot_rows(int64_t n, const T *w, int64_t m, const int32_t *rows, const T *X, \
                               int64_t ld, T *out) {                                         \
    constexpr int L = 64 / sizeof(T);                                                        \
    const int64_t nv = n / L * L;                                                            \
    int64_t j = 0;                                                                           \
    for (; j + 4 <= m; j += 4) {                                                             \
      const T *x0 = X + int64_t(rows[j]) * ld, *x1 = X + int64_t(rows[j + 1]) * ld;          \
      const T *x2 = X + int64_t(rows[j + 2]) * ld, *x3 = X + int64_t(rows[j + 3]) * ld;      \
      V a0 = {}, a1 = {}, a2 = {}, a3 = {};                                                  \
      for (int64_t i = 0; i < nv; i += L) {                                                  \
        const V wv = load<V>(w + i);                                                         \
        a0 += wv * load<V>(x0 + i);                                                          \
        a1 += wv * load<V>(x1 + i);                                                          \
        a2 += wv * load<V>(x2 + i);                                                          \
        a3 += wv * load<V>(x3 + i);                                                          \
      }                                                                                      \
      T s0 = lane_sum<T, V>(a0), s1 = lane_sum<T, V>(a1), s2 = lane_sum<T, V>(a2), s3 = lane_sum<T, V>(a3); \
      for (int64_t i = nv; i < n; ++i) {                                                     \
        s0 += w[i] * x0[i];                                                                  \
        s1 += w[i] * x1[i];                                                                  \
        s2 += w[i] * x2[i];                                                                  \
        s3 += w[i] * x3[i];                                                                  \
      }                                                                                      \
      out[j] = s0;                                                                           \
      out[j + 1] = s1;                                                                       \
      out[j + 2] = s2;                                                                       \
      out[j + 3] = s3;                                                                       \
    }                                                                                        \
    for (; j < m; ++j) { /* the last m % 4 rows: two partial sums, no 64-wide reduction */  \
      const T *x0 = X + int64_t(rows[j]) * ld;                                               \
      V a0 = {}, a1 = {};                                                                    \
      int64_t i = 0;                                                                         \
      for (; i + 2 * L <= nv; i += 2 * L) {                                                  \
        a0 += load<V>(w + i) * load<V>(x0 + i);                                              \
        a1 += load<V>(w + i + L) * load<V>(x0 + i + L);                                      \
      }                                                                                      \
      if (i < nv) a0 += load<V>(w + i) * load<V>(x0 + i);                                    \
      T s0 = lane_sum<T, V>(a0 + a1);                                                        \
      for (i = nv; i < n; ++i) s0 += w[i] * x0[i];                                           \
      out[j] = s0;                                                                           \
    }                                                                                        \
  }
AUTOREC_DOT_ROWS(float, vfloat)
AUTOREC_DOT_ROWS(double, vdouble)
#undef AUTOREC_DOT_ROWS

AUTOREC_GATHER(float, vfloat)
AUTOREC_GATHER(double, vdouble)
#undef AUTOREC_GATHER
#pragma GCC diagnostic pop  // -Wpsabi

#define AUTOREC_ELEMENTWISE(T)                                                              \
  AUTOREC_CLONES void mul_act_grad(int64_t n, T *d, const T *h, const ActGradCoef<T> &c) {  \
    const T p = c.p, a = c.a, q = c.q, dd = c.d, cc = c.c;                                  \
    _Pragma("omp simd") for (int64_t i = 0; i < n; ++i) {                                   \
      const T x = h[i];                                                                     \
      d[i] *= (x > T(0) ? p : a * x + q) + dd * x + cc * x * x;                             \
    }                                                                                       \
  }                                                                                         \
  AUTOREC_CLONES double masked_sq_err_grad(int64_t n, const T *out, const T *target, T scale, \
                                           const ActGradCoef<T> &c, T *grad) {              \
    const T p = c.p, a = c.a, q = c.q, dd = c.d, cc = c.c;                                  \
    /* partial sums in T over blocks of 256, added in double: a reduction that */           \
    /* converts to double in the loop would not vectorise */                                \
    double loss = 0.0;                                                                      \
    for (int64_t i0 = 0; i0 < n; i0 += 256) {                                               \
      const int64_t i1 = i0 + 256 < n ? i0 + 256 : n;                                       \
      T part = T(0);                                                                        \
      _Pragma("omp simd reduction(+ : part)") for (int64_t i = i0; i < i1; ++i) {           \
        const T x = out[i];                                                                 \
        const T err = target[i] != T(0) ? x - target[i] : T(0);                             \
        part += err * err;                                                                  \
        grad[i] = scale * err * ((x > T(0) ? p : a * x + q) + dd * x + cc * x * x);         \
      }                                                                                     \
      loss += double(part);                                                                 \
    }                                                                                       \
    return loss;                                                                            \
  }                                                                                         \
  AUTOREC_CLONES double sum_squares(int64_t n, const T *x) {                               \
    double s = 0.0;                                                                         \
    _Pragma("omp simd reduction(+ : s)") for (int64_t i = 0; i < n; ++i) s += double(x[i]) * double(x[i]); \
    return s;                                                                               \
  }                                                                                         \
  AUTOREC_CLONES int64_t count_nonzero(int64_t n, const T *x) {                             \
    int64_t count = 0;                                                                      \
    for (int64_t i0 = 0; i0 < n; i0 += 1024) {                                              \
      const int64_t i1 = i0 + 1024 < n ? i0 + 1024 : n;                                     \
      int part = 0;                                                                         \
      _Pragma("omp simd reduction(+ : part)") for (int64_t i = i0; i < i1; ++i) part += x[i] != T(0) ? 1 : 0; \
      count += part;                                                                        \
    }                                                                                       \
    return count;                                                                           \
  }                                                                                         \
  AUTOREC_CLONES void min_zero(int64_t n, const T *z, T *e) {                               \
    _Pragma("omp simd") for (int64_t i = 0; i < n; ++i) e[i] = z[i] < T(0) ? z[i] : T(0);   \
  }                                                                                         \
  AUTOREC_CLONES void elu_from_exp(int64_t n, T *z, const T *e, T scale, T neg) {           \
    _Pragma("omp simd") for (int64_t i = 0; i < n; ++i)                                     \
        z[i] = z[i] <= T(0) ? neg * (e[i] - T(1)) : scale * z[i]; /* NaN: scale * NaN */    \
  }
AUTOREC_ELEMENTWISE(float)
AUTOREC_ELEMENTWISE(double)

AUTOREC_CLONES static void neg_abs(int64_t n, const float *z, float *e) {
  _Pragma("omp simd") for (int64_t i = 0; i < n; ++i) e[i] = z[i] < 0.0f ? z[i] : -z[i];
}
AUTOREC_CLONES static void sigmoid_from_exp(int64_t n, float *z, const float *e) {
  // e = exp(-|z|): sigmoid = 1 / (1 + e) for z >= 0, e / (1 + e) below
  _Pragma("omp simd") for (int64_t i = 0; i < n; ++i) z[i] = (z[i] >= 0.0f ? 1.0f : e[i]) / (1.0f + e[i]);
}
void sigmoid(int64_t n, float *z, float *e) {
  neg_abs(n, z, e);
  exp_shift_sum(n, e, 0.0f);
  sigmoid_from_exp(n, z, e);
}
void sigmoid(int64_t n, double *z, double *) {
  for (int64_t i = 0; i < n; ++i) z[i] = 1.0 / (1.0 + std::exp(-z[i]));
}
#undef AUTOREC_ELEMENTWISE

#define AUTOREC_SGD(T)                                                                   \
  AUTOREC_CLONES void sgd(int64_t n, T *p, T *buf, const T *g, T momentum, T lr) {       \
    if (momentum != T(0)) {                                                              \
      _Pragma("omp simd") for (int64_t i = 0; i < n; ++i) {                              \
        const T b = momentum * buf[i] + g[i];                                            \
        buf[i] = b;                                                                      \
        p[i] -= lr * b;                                                                  \
      }                                                                                  \
    } else {                                                                             \
      _Pragma("omp simd") for (int64_t i = 0; i < n; ++i) p[i] -= lr * g[i];             \
    }                                                                                    \
  }
AUTOREC_SGD(float)
AUTOREC_SGD(double)
#undef AUTOREC_SGD

#define AUTOREC_VEC2(T)                                                     \
  AUTOREC_CLONES T max(int64_t n, const T *x) {                             \
    T m = x[0];                                                             \
    _Pragma("omp simd reduction(max : m)") for (int64_t i = 1; i < n; ++i) m = x[i] > m ? x[i] : m; \
    return m;                                                               \
  }                                                                         \
  AUTOREC_CLONES void scale(int64_t n, T a, T *x) {                         \
    _Pragma("omp simd") for (int64_t i = 0; i < n; ++i) x[i] *= a;          \
  }
AUTOREC_VEC2(float)
AUTOREC_VEC2(double)
#undef AUTOREC_VEC2

// float exp kernels: one translation unit per instruction set (GCC does not
// vectorise this loop under a target attribute), picked once by the CPU.
double exp_shift_sum_avx512(int64_t n, float *x, float shift);
double exp_shift_sum_avx2(int64_t n, float *x, float shift);
double exp_shift_sum_baseline(int64_t n, float *x, float shift);

double exp_shift_sum(int64_t n, float *x, float shift) {
#ifdef AUTOREC_X86
  static const int isa = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")
                             ? 2
                             : (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0);
  if (isa == 2) return exp_shift_sum_avx512(n, x, shift);
  if (isa == 1) return exp_shift_sum_avx2(n, x, shift);
#endif
  return exp_shift_sum_baseline(n, x, shift);
}

double exp_shift_sum(int64_t n, double *x, double shift) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - shift);
    sum += x[i];
  }
  return sum;
}

namespace {
template <typename T> int64_t positions_above_scalar(int64_t from, int64_t n, const T *x, T t, int32_t *out,
                                                     int64_t c) {
  for (int64_t i = from; i < n; ++i)
    if (x[i] > t) out[c++] = static_cast<int32_t>(i);
  return c;
}

#ifdef AUTOREC_X86
// One instruction set's loop: W elements per compare mask (SETUP broadcasts t,
// MASK is the mask of the lanes at x + i above it), then the scalar tail.
#define AUTOREC_ABOVE_SIMD(ISA, NAME, T, W, SETUP, MASK)                                   \
  __attribute__((target(ISA))) int64_t NAME(int64_t n, const T *x, T t, int32_t *out) {    \
    SETUP;                                                                                 \
    int64_t c = 0, i = 0;                                                                  \
    for (; i + W <= n; i += W) {                                                           \
      unsigned m = MASK;                                                                   \
      for (; m; m &= m - 1) out[c++] = static_cast<int32_t>(i + __builtin_ctz(m));         \
    }                                                                                      \
    return positions_above_scalar(i, n, x, t, out, c);                                     \
  }
AUTOREC_ABOVE_SIMD("avx512f", above_avx512, float, 16, const __m512 vt = _mm512_set1_ps(t),
                   _mm512_cmp_ps_mask(_mm512_loadu_ps(x + i), vt, _CMP_GT_OQ))
AUTOREC_ABOVE_SIMD("avx512f", above_avx512, double, 8, const __m512d vt = _mm512_set1_pd(t),
                   _mm512_cmp_pd_mask(_mm512_loadu_pd(x + i), vt, _CMP_GT_OQ))
AUTOREC_ABOVE_SIMD("avx2", above_avx2, float, 8, const __m256 vt = _mm256_set1_ps(t),
                   static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + i), vt, _CMP_GT_OQ))))
AUTOREC_ABOVE_SIMD("avx2", above_avx2, double, 4, const __m256d vt = _mm256_set1_pd(t),
                   static_cast<unsigned>(_mm256_movemask_pd(_mm256_cmp_pd(_mm256_loadu_pd(x + i), vt, _CMP_GT_OQ))))
#undef AUTOREC_ABOVE_SIMD
const int kIsa = __builtin_cpu_supports("avx512f") ? 2 : (__builtin_cpu_supports("avx2") ? 1 : 0);
#endif
}  // namespace

#define AUTOREC_ABOVE(T)                                                          \
  int64_t positions_above(int64_t n, const T *x, T t, int32_t *out) {             \
    AUTOREC_ABOVE_DISPATCH                                                        \
    return positions_above_scalar<T>(0, n, x, t, out, 0);                         \
  }
#ifdef AUTOREC_X86
#define AUTOREC_ABOVE_DISPATCH                      \
  if (kIsa == 2) return above_avx512(n, x, t, out); \
  if (kIsa == 1) return above_avx2(n, x, t, out);
#else
#define AUTOREC_ABOVE_DISPATCH
#endif
AUTOREC_ABOVE(float)
AUTOREC_ABOVE(double)
#undef AUTOREC_ABOVE
#undef AUTOREC_ABOVE_DISPATCH

}  // namespace autorec::cpu::vec
