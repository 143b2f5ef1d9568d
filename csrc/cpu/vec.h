// Short dense vector primitives for the k-wide rows of the neural kernels.
// The portable build targets baseline x86-64; these are cloned for AVX2+FMA and
// AVX-512 and picked at load time by the CPU they run on (GCC target_clones).
#pragma once

#include <cstdint>

#include "common/activations.h"

namespace autorec::cpu::vec {

void axpy(int64_t n, float a, const float *x, float *y);    // y += a x
void axpy(int64_t n, double a, const double *x, double *y);
float dot(int64_t n, const float *x, const float *y);
double dot(int64_t n, const double *x, const double *y);
// Sparse row sums with the accumulator held in registers (one 64-byte line
// group at a time), for the gradient rows of the AutoRec kernel: a k-wide axpy
// per entry would store its accumulator back every time, and the stores bound it.
// X and Y rows are ld apart (ld >= n). Fastest with n and ld multiples of kRowPad
// and 64-byte aligned rows.
constexpr int64_t kRowPad = 16;  // floats per 64-byte line (doubles: two lines)
// g[0, n) = scale base[0, n) + Σ_j a[j] X[rows[j] ld + (0, n)] (a parameter
// row's gradient: its L2 term plus the sparse sum).
void gather_axpy(int64_t n, int64_t m, const float *a, const int32_t *rows, const float *X,
                 int64_t ld, const float *base, float scale, float *g);
void gather_axpy(int64_t n, int64_t m, const double *a, const int32_t *rows, const double *X,
                 int64_t ld, const double *base, double scale, double *g);
// The same with base = w, and Y[rows[j] ld + (0, n)] += a[j] w for each j: the
// decoder's two products over one output row's entries (w = W_u, g = its
// gradient, Y = dH).
void gather_axpy_scatter(int64_t n, int64_t m, const float *a, const int32_t *rows,
                         const float *X, const float *w, float *Y, int64_t ld, float scale, float *g);
void gather_axpy_scatter(int64_t n, int64_t m, const double *a, const int32_t *rows,
                         const double *X, const double *w, double *Y, int64_t ld, double scale,
                         double *g);
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
// prefetch != 0: also asks for p, m, v that many elements ahead (a parameter row
// the caller will update next), into L2, one line per line updated.
void adam(int64_t n, float *p, float *m, float *v, const float *g, float b1, float b2,
          float inv_sqrt_bc2, float eps, float lr, int64_t prefetch = 0);
void adam(int64_t n, double *p, double *m, double *v, const double *g, double b1, double b2,
          double inv_sqrt_bc2, double eps, double lr, int64_t prefetch = 0);

// One SGD step over a run, PyTorch's formula: with momentum, buf = momentum·buf + g
// and p -= lr·buf; without, p -= lr·g (buf untouched).
void sgd(int64_t n, float *p, float *buf, const float *g, float momentum, float lr);
void sgd(int64_t n, double *p, double *buf, const double *g, double momentum, double lr);

// Element-wise passes of the dense layers (branch-free, vectorised):
// d[i] *= act'(from the output h[i]), with c = act_grad_coef(f).
void mul_act_grad(int64_t n, float *d, const float *h, const ActGradCoef<float> &c);
void mul_act_grad(int64_t n, double *d, const double *h, const ActGradCoef<double> &c);
// Masked squared error over the entries with target != 0: grad[i] = scale (out - t) act'(out)
// there, 0 elsewhere; returns Σ (out - t)² over them (float64).
double masked_sq_err_grad(int64_t n, const float *out, const float *target, float scale,
                          const ActGradCoef<float> &c, float *grad);
double masked_sq_err_grad(int64_t n, const double *out, const double *target, double scale,
                          const ActGradCoef<double> &c, double *grad);
// Σ x[i]² in float64.
double sum_squares(int64_t n, const float *x);
double sum_squares(int64_t n, const double *x);
int64_t count_nonzero(int64_t n, const float *x);
int64_t count_nonzero(int64_t n, const double *x);
// e[i] = min(z[i], 0); then, with e holding exp(min(z, 0)), the ELU family:
// z[i] = z[i] > 0 ? scale z[i] : neg (e[i] - 1).
void min_zero(int64_t n, const float *z, float *e);
void min_zero(int64_t n, const double *z, double *e);
void elu_from_exp(int64_t n, float *z, const float *e, float scale, float neg);
void elu_from_exp(int64_t n, double *z, const double *e, double scale, double neg);
// In place z[i] = 1 / (1 + exp(-z[i])); e is n elements of scratch. float: the
// vectorised exp on -|z| (never overflows), then a select; double: std::exp.
void sigmoid(int64_t n, float *z, float *e);
void sigmoid(int64_t n, double *z, double *e);

// out[j] = w · X[rows[j] ld + (0, n)] for j < m: the decoder's dots for one
// output row, four X rows at a time so each w load serves four products.
void dot_rows(int64_t n, const float *w, int64_t m, const int32_t *rows, const float *X, int64_t ld,
              float *out);
void dot_rows(int64_t n, const double *w, int64_t m, const int32_t *rows, const double *X,
              int64_t ld, double *out);

}  // namespace autorec::cpu::vec
