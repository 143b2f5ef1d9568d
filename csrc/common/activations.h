// Activation functions shared by the CPU and CUDA kernels. The derivative is
// expressed through the activation's output h (not its input z), so the
// kernels keep only h: sigmoid' = h(1-h), tanh' = 1-h², relu' = [h>0],
// elu' = h>0 ? 1 : h+α, selu' = h>0 ? λ : h+λα.
#pragma once

#include <cmath>

#ifdef __CUDACC__
#define AUTOREC_HD __host__ __device__ __forceinline__
#else
#define AUTOREC_HD inline
#endif

namespace autorec {

enum class Act : int { Identity = 0, Sigmoid = 1, Tanh = 2, Relu = 3, Elu = 4, Selu = 5 };

constexpr double kSeluLambda = 1.0507009873554804934193349852946;
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;

template <typename T> AUTOREC_HD T act_forward(Act a, T z) {
  switch (a) {
    case Act::Identity: return z;
    case Act::Sigmoid: return T(1) / (T(1) + exp(-z));
    case Act::Tanh: return tanh(z);
    case Act::Relu: return z > T(0) ? z : T(0);
    case Act::Elu: return z > T(0) ? z : expm1(z);
    case Act::Selu:
      return z > T(0) ? T(kSeluLambda) * z : T(kSeluLambda * kSeluAlpha) * expm1(z);
  }
  return z;
}

template <typename T> AUTOREC_HD T act_grad_from_output(Act a, T h) {
  switch (a) {
    case Act::Identity: return T(1);
    case Act::Sigmoid: return h * (T(1) - h);
    case Act::Tanh: return T(1) - h * h;
    case Act::Relu: return h > T(0) ? T(1) : T(0);
    case Act::Elu: return h > T(0) ? T(1) : h + T(1);
    case Act::Selu: return h > T(0) ? T(kSeluLambda) : h + T(kSeluLambda * kSeluAlpha);
  }
  return T(1);
}

}  // namespace autorec
