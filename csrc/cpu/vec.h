// Short dense vector primitives for the k-wide rows of the neural kernels.
// The portable build targets baseline x86-64; these are cloned for AVX2+FMA and
// AVX-512 and picked at load time by the CPU they run on (GCC target_clones).
#pragma once

#include <cstdint>

namespace autorec::cpu::vec {

void axpy(int64_t n, float a, const float *x, float *y);    // y += a x
void axpy(int64_t n, double a, const double *x, double *y);
float dot(int64_t n, const float *x, const float *y);
double dot(int64_t n, const double *x, const double *y);
// Writes the positions i with x[i] > t (NaN never) to out, returns how many.
// AVX-512 / AVX2 compare masks where the CPU has them.
int64_t positions_above(int64_t n, const float *x, float t, int32_t *out);
int64_t positions_above(int64_t n, const double *x, double t, int32_t *out);
// Largest element (n >= 1).
float max(int64_t n, const float *x);
double max(int64_t n, const double *x);
// In place x[i] = exp(x[i] - shift); returns the sum. float: a vectorised
// Cephes-style exp (relative error ~2e-7); double: std::exp.
double exp_shift_sum(int64_t n, float *x, float shift);
double exp_shift_sum(int64_t n, double *x, double shift);
// x[i] *= a.
void scale(int64_t n, float a, float *x);
void scale(int64_t n, double a, double *x);
// One Adam step over a run (PyTorch's formula; lr already divided by 1 - beta1^t).
void adam(int64_t n, float *p, float *m, float *v, const float *g, float b1, float b2,
          float inv_sqrt_bc2, float eps, float lr);
void adam(int64_t n, double *p, double *m, double *v, const double *g, double b1, double b2,
          double inv_sqrt_bc2, double eps, double lr);

// One SGD step over a run, PyTorch's formula: with momentum, buf = momentum·buf + g
// and p -= lr·buf; without, p -= lr·g (buf untouched).
void sgd(int64_t n, float *p, float *buf, const float *g, float momentum, float lr);
void sgd(int64_t n, double *p, double *buf, const double *g, double momentum, double lr);

}  // namespace autorec::cpu::vec
