#include "cpu/dense_ops.h"

#include <omp.h>

#include <algorithm>
#include <type_traits>
#include <vector>

#include "cpu/vec.h"

namespace autorec::cpu {

namespace {
constexpr int64_t kParallelWork = 1 << 15;
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
      for (int64_t j = 0; j < n; ++j) e[j] = z[j] < T(0) ? z[j] : T(0);
      vec::exp_shift_sum(n, e.data(), T(0));  // e <- exp(min(z, 0))
      const T scale = f == Act::Selu ? T(kSeluLambda) : T(1);
      const T neg = f == Act::Selu ? T(kSeluLambda * kSeluAlpha) : T(1);
      for (int64_t j = 0; j < n; ++j) z[j] = z[j] > T(0) ? scale * z[j] : neg * (e[j] - T(1));
    }
  }
}

template <typename T> void mul_activation_grad(T *D, const T *H, int64_t rows, int64_t n, Act f) {
#pragma omp parallel for schedule(static) if (rows * n > kParallelWork)
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < n; ++j) D[r * n + j] *= act_grad_from_output(f, H[r * n + j]);
}

template <typename T>
double masked_mse_grad(const T *out, const T *target, int64_t rows, int64_t n, Act f, T *grad) {
  const int64_t total = rows * n;
  int64_t count = 0;
#pragma omp parallel for schedule(static) reduction(+ : count) if (total > kParallelWork)
  for (int64_t e = 0; e < total; ++e) count += target[e] != T(0);
  if (count == 0) count = 1;
  const T scale = T(2) / T(count);
  double loss = 0.0;
#pragma omp parallel for schedule(static) reduction(+ : loss) if (total > kParallelWork)
  for (int64_t e = 0; e < total; ++e) {
    const T err = target[e] != T(0) ? out[e] - target[e] : T(0);
    loss += double(err) * double(err);
    grad[e] = scale * err * act_grad_from_output(f, out[e]);
  }
  return loss / double(count);
}

template <typename T>
void sampled_dot(const T *A, const T *B, int64_t k, const int64_t *rows, const int64_t *cols, int64_t n,
                 T *out) {
#pragma omp parallel for schedule(static) if (n * k > kParallelWork)
  for (int64_t p = 0; p < n; ++p) out[p] = vec::dot(k, A + rows[p] * k, B + cols[p] * k);
}

#define AUTOREC_INSTANTIATE(T)                                                          \
  template void bias_activation<T>(T *, int64_t, int64_t, const T *, Act);             \
  template void mul_activation_grad<T>(T *, const T *, int64_t, int64_t, Act);         \
  template double masked_mse_grad<T>(const T *, const T *, int64_t, int64_t, Act, T *); \
  template void sampled_dot<T>(const T *, const T *, int64_t, const int64_t *, const int64_t *, int64_t, T *);
AUTOREC_INSTANTIATE(float)
AUTOREC_INSTANTIATE(double)
#undef AUTOREC_INSTANTIATE

}  // namespace autorec::cpu
