#include "cpu/loss.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu/vec.h"

namespace autorec::cpu {

namespace {
constexpr int64_t kParallelWork = 1 << 15;  // masked_mse_grad, logistic_loss_grad
}

template <typename T>
double multinomial_nll_grad(T *logits, const T *bias, const CsrView<T> &X, T scale) {
  const int64_t n = X.n_cols;
  std::vector<double> row_loss(X.n_rows);  // summed in row order: the same bits for any thread count
#pragma omp parallel for schedule(static) if (X.n_rows * n > (1 << 16))
  for (int64_t r = 0; r < X.n_rows; ++r) {
    T *l = logits + r * n;
    if (bias) vec::axpy(n, T(1), bias, l);
    const T m = vec::max(n, l);
    T x_sum = T(0);
    double dot = 0.0;  // Σ x_i l_i, read before l is overwritten
    for (int64_t p = X.indptr[r]; p < X.indptr[r + 1]; ++p) {
      x_sum += X.data[p];
      dot += double(X.data[p]) * double(l[X.indices[p]]);
    }
    const double s = vec::exp_shift_sum(n, l, m);  // l <- exp(l - m)
    const double lse = double(m) + std::log(s);
    row_loss[r] = double(x_sum) * lse - dot;
    vec::scale(n, T(double(scale) * double(x_sum) / s), l);  // scale * softmax * Σx
    for (int64_t p = X.indptr[r]; p < X.indptr[r + 1]; ++p) l[X.indices[p]] -= scale * X.data[p];
  }
  double total = 0.0;
  for (double v : row_loss) total += v;
  return double(scale) * total;
}

template <typename T>
double masked_mse_grad(const T *out, const T *target, int64_t rows, int64_t n, Act f, T *grad) {
  const int64_t total = rows * n;
  int64_t count = 0;
#pragma omp parallel for schedule(static) reduction(+ : count) if (total > kParallelWork)
  for (int64_t r = 0; r < rows; ++r) count += vec::count_nonzero(n, target + r * n);
  if (count == 0) count = 1;
  const T scale = T(2) / T(count);
  const ActGradCoef<T> c = act_grad_coef<T>(f);
  std::vector<double> row_loss(rows);  // summed in row order: the same bits for any thread count
#pragma omp parallel for schedule(static) if (total > kParallelWork)
  for (int64_t r = 0; r < rows; ++r)
    row_loss[r] = vec::masked_sq_err_grad(n, out + r * n, target + r * n, scale, c, grad + r * n);
  double loss = 0.0;
  for (double v : row_loss) loss += v;
  return loss / double(count);
}

template <typename T> double logistic_loss_grad(T *Z, const T *bias, const CsrView<T> &Y) {
  const int64_t rows = Y.n_rows, n = Y.n_cols;
  std::vector<double> row_loss(rows);
  // Per row: t = exp(-|z|) through the vectorised exp; softplus(z) = max(z, 0) + log(1 + t),
  // the logs taken once per block of a float64 product of (1 + t) ∈ (1, 2] (2^256 cannot
  // overflow); σ(z) = (z >= 0 ? 1 : t) / (1 + t) has no overflow for either sign.
  constexpr int64_t kBlock = 256;
#pragma omp parallel if (rows * n > kParallelWork)
  {
    std::vector<T> t(n);
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      T *z = Z + r * n;
      double loss = 0.0;
      for (int64_t j = 0; j < n; ++j) {
        z[j] += bias ? bias[j] : T(0);
        t[j] = -std::abs(z[j]);
      }
      for (int64_t p = Y.indptr[r]; p < Y.indptr[r + 1]; ++p)
        loss -= double(Y.data ? Y.data[p] : T(1)) * double(z[Y.indices[p]]);
      vec::exp_shift_sum(n, t.data(), T(0));
      for (int64_t j0 = 0; j0 < n; j0 += kBlock) {
        const int64_t j1 = std::min(n, j0 + kBlock);
        double product = 1.0, relu = 0.0;
        for (int64_t j = j0; j < j1; ++j) {
          const T tj = t[j], zj = z[j];
          product *= 1.0 + double(tj);
          relu += zj > T(0) ? double(zj) : 0.0;
          z[j] = (zj >= T(0) ? T(1) : tj) / (T(1) + tj);
        }
        loss += relu + std::log(product);
      }
      for (int64_t p = Y.indptr[r]; p < Y.indptr[r + 1]; ++p) z[Y.indices[p]] -= Y.data ? Y.data[p] : T(1);
      row_loss[r] = loss;
    }
  }
  double total = 0.0;
  for (double v : row_loss) total += v;
  return total;
}

#define AUTOREC_INSTANTIATE(T)                                                          \
  template double multinomial_nll_grad<T>(T *, const T *, const CsrView<T> &, T);       \
  template double masked_mse_grad<T>(const T *, const T *, int64_t, int64_t, Act, T *); \
  template double logistic_loss_grad<T>(T *, const T *, const CsrView<T> &);
AUTOREC_INSTANTIATE(float)
AUTOREC_INSTANTIATE(double)
#undef AUTOREC_INSTANTIATE

}  // namespace autorec::cpu
