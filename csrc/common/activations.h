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

// The activation codes the kernels take (Python: _cpu.Activation).
enum class Act : int { Identity = 0, Sigmoid = 1, Tanh = 2, Relu = 3, Elu = 4, Selu = 5 };

constexpr double kSeluLambda = 1.0507009873554804934193349852946;
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;

template <typename T> AUTOREC_HD T act_forward(Act a, T z) {
  switch (a) {
    case Act::Identity: return z;
    case Act::Sigmoid: return T(1) / (T(1) + exp(-z));
    case Act::Tanh: return tanh(z);
    case Act::Relu: return z < T(0) ? T(0) : z;  // NaN stays NaN (a diverged fit must show)
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

// act_grad_from_output as one branch-free formula,
//   g(h) = (h > 0 ? p : a·h + q) + d·h + c·h²,
// with per-activation coefficients: CPU loops over many h then vectorise (a
// switch per element does not). Same values as act_grad_from_output.
template <typename T> struct ActGradCoef {
  T p, a, q, d, c;
};
template <typename T> AUTOREC_HD ActGradCoef<T> act_grad_coef(Act f) {
  switch (f) {
    case Act::Identity: return {T(1), T(0), T(1), T(0), T(0)};
    case Act::Sigmoid: return {T(0), T(0), T(0), T(1), T(-1)};
    case Act::Tanh: return {T(1), T(0), T(1), T(0), T(-1)};
    case Act::Relu: return {T(1), T(0), T(0), T(0), T(0)};
    case Act::Elu: return {T(1), T(1), T(1), T(0), T(0)};
    case Act::Selu: return {T(kSeluLambda), T(1), T(kSeluLambda * kSeluAlpha), T(0), T(0)};
  }
  return {T(1), T(0), T(1), T(0), T(0)};
}

// Loss at one observed output. Squared: (f(y) - t)²; Logistic: binary cross-entropy
// of sigmoid(y) against t, computed from the logit y (stable), whatever f is.
// The loss codes the kernels take (Python: _cpu.Loss).
enum class Loss : int { Squared = 0, Logistic = 1 };

// Returns the loss and writes dLoss/dy to *d, given the pre-activation y.
template <typename T> AUTOREC_HD T loss_and_grad(Loss loss, Act output, T y, T target, T *d) {
  if (loss == Loss::Logistic) {
    const T o = T(1) / (T(1) + exp(-y));
    *d = o - target;
    // softplus(y) - t*y = -(t log o + (1-t) log(1-o))
    return (y > T(0) ? y : T(0)) + log1p(exp(-(y > T(0) ? y : -y))) - target * y;
  }
  const T o = act_forward(output, y);
  const T err = o - target;
  *d = T(2) * err * act_grad_from_output(output, o);
  return err * err;
}

}  // namespace autorec
