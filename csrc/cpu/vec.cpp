#include "cpu/vec.h"

#include <cmath>

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
  AUTOREC_CLONES T dot(int64_t n, const T *x, const T *y) {                  \
    T s = 0;                                                                 \
    _Pragma("omp simd reduction(+ : s)") for (int64_t i = 0; i < n; ++i) s += x[i] * y[i]; \
    return s;                                                                \
  }                                                                          \
  AUTOREC_CLONES int64_t count_above(int64_t n, const T *x, T t) {           \
    int64_t c = 0;                                                           \
    _Pragma("omp simd reduction(+ : c)") for (int64_t i = 0; i < n; ++i) c += x[i] > t; \
    return c;                                                                \
  }                                                                          \
  AUTOREC_CLONES void adam(int64_t n, T *p, T *m, T *v, const T *g, T b1, T b2, \
                           T inv_sqrt_bc2, T eps, T lr) {                    \
    const T ob1 = T(1) - b1, ob2 = T(1) - b2;                                \
    _Pragma("omp simd") for (int64_t i = 0; i < n; ++i) {                    \
      const T mi = b1 * m[i] + ob1 * g[i];                                   \
      const T vi = b2 * v[i] + ob2 * g[i] * g[i];                            \
      m[i] = mi;                                                             \
      v[i] = vi;                                                             \
      p[i] -= lr * mi / (std::sqrt(vi) * inv_sqrt_bc2 + eps);                \
    }                                                                        \
  }
AUTOREC_VEC(float)
AUTOREC_VEC(double)
#undef AUTOREC_VEC

}  // namespace autorec::cpu::vec
