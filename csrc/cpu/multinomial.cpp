#include "cpu/multinomial.h"

#include <omp.h>

#include <cmath>

#include "cpu/vec.h"

namespace autorec::cpu {

template <typename T>
double multinomial_nll_grad(T *logits, const T *bias, const CsrView<T> &X, T scale) {
  const int64_t n = X.n_cols;
  double total = 0.0;
#pragma omp parallel for schedule(static) reduction(+ : total) if (X.n_rows * n > (1 << 16))
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
    total += double(x_sum) * lse - dot;
    vec::scale(n, T(double(scale) * double(x_sum) / s), l);  // scale * softmax * Σx
    for (int64_t p = X.indptr[r]; p < X.indptr[r + 1]; ++p) l[X.indices[p]] -= scale * X.data[p];
  }
  return double(scale) * total;
}

template double multinomial_nll_grad<float>(float *, const float *, const CsrView<float> &, float);
template double multinomial_nll_grad<double>(double *, const double *, const CsrView<double> &,
                                             double);

}  // namespace autorec::cpu
