#include "cpu/dense_ops.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "cpu/vec.h"

namespace autorec::cpu {

namespace {
constexpr int64_t kParallelWork = 1 << 15;
constexpr int64_t kScatterParallelWork = 1 << 14;  // scatter_add_rows
}

template <typename T> void bias_activation(T *Z, int64_t rows, int64_t n, const T *bias, Act f) {
  // float SELU/ELU: the negative branch through the vectorised exp of vec.cpp
  // (libm's expm1 is a scalar call per element); the rest as written.
  const bool fast_exp = std::is_same_v<T, float> && (f == Act::Selu || f == Act::Elu);
#pragma omp parallel if (rows * n > kParallelWork)
  {
    std::vector<T> e(fast_exp ? n : 0);
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      T *z = Z + r * n;
      if (bias) vec::axpy(n, T(1), bias, z);
      if (!fast_exp) {
        for (int64_t j = 0; j < n; ++j) z[j] = act_forward(f, z[j]);
        continue;
      }
      vec::min_zero(n, z, e.data());
      vec::exp_shift_sum(n, e.data(), T(0));  // e <- exp(min(z, 0))
      const T scale = f == Act::Selu ? T(kSeluLambda) : T(1);
      const T neg = f == Act::Selu ? T(kSeluLambda * kSeluAlpha) : T(1);
      vec::elu_from_exp(n, z, e.data(), scale, neg);
    }
  }
}

template <typename T> void mul_activation_grad(T *D, const T *H, int64_t rows, int64_t n, Act f) {
  const ActGradCoef<T> c = act_grad_coef<T>(f);
#pragma omp parallel for schedule(static) if (rows * n > kParallelWork)
  for (int64_t r = 0; r < rows; ++r) vec::mul_act_grad(n, D + r * n, H + r * n, c);
}

template <typename T>
void sampled_dot(const T *A, const T *B, int64_t k, const int64_t *rows, const int64_t *cols, int64_t n,
                 T *out) {
#pragma omp parallel for schedule(static) if (n * k > kParallelWork)
  for (int64_t p = 0; p < n; ++p) out[p] = vec::dot(k, A + rows[p] * k, B + cols[p] * k);
}

template <typename T>
void scatter_add_rows(const int64_t *idx, int64_t n, const T *src, int64_t d, T *out) {
  // Threads own disjoint column ranges, so duplicate indices never race.
#pragma omp parallel if (n * d > kScatterParallelWork)
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

template <typename T> double squared_norm(const T *x, int64_t n) {
  const int64_t piece = int64_t(1) << 16, n_pieces = (n + piece - 1) / piece;
  std::vector<double> part(n_pieces);  // summed in order: the same bits for any thread count
#pragma omp parallel for schedule(static) if (n > 4 * piece)
  for (int64_t c = 0; c < n_pieces; ++c) part[c] = vec::sum_squares(std::min(piece, n - c * piece), x + c * piece);
  double total = 0.0;
  for (double v : part) total += v;
  return total;
}

#define AUTOREC_INSTANTIATE(T)                                                          \
  template void bias_activation<T>(T *, int64_t, int64_t, const T *, Act);             \
  template void mul_activation_grad<T>(T *, const T *, int64_t, int64_t, Act);         \
  template void sampled_dot<T>(const T *, const T *, int64_t, const int64_t *, const int64_t *, int64_t, T *); \
  template void scatter_add_rows<T>(const int64_t *, int64_t, const T *, int64_t, T *); \
  template double squared_norm<T>(const T *, int64_t);
AUTOREC_INSTANTIATE(float)
AUTOREC_INSTANTIATE(double)
#undef AUTOREC_INSTANTIATE

}  // namespace autorec::cpu
