#include "cpu/vec.h"

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
  }
AUTOREC_VEC(float)
AUTOREC_VEC(double)
#undef AUTOREC_VEC

}  // namespace autorec::cpu::vec
