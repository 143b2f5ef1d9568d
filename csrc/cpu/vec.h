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

}  // namespace autorec::cpu::vec
