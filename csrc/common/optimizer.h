// Optimizer steps applied to one contiguous slice of a parameter, so the
// kernels can update a row right after computing its gradient (the gradient
// never makes a round trip through memory). Shared by CPU and CUDA code.
#pragma once

#include <cmath>
#include <cstdint>

#include "common/activations.h"  // AUTOREC_HD

namespace autorec {

// The optimizer codes the kernels take (Python: _cpu.Optimizer).
enum class Opt : int { GradOnly = 0, Sgd = 1, Adam = 2, Rprop = 3, Adagrad = 4 };

// Adam's defaults, PyTorch's (Python: _cpu.ADAM_BETA1, ADAM_BETA2, ADAM_EPS).
constexpr double kAdamBeta1 = 0.9, kAdamBeta2 = 0.999, kAdamEps = 1e-8;

struct OptConfig {
  Opt kind = Opt::GradOnly;
  double lr = 1e-3;
  double beta1 = kAdamBeta1, beta2 = kAdamBeta2, eps = kAdamEps;  // Adam; eps also for Adagrad
  double momentum = 0.0;                          // SGD
  int64_t step = 1;                               // Adam bias correction (1-based)
  double eta_minus = 0.5, eta_plus = 1.2, step_min = 1e-6, step_max = 50.0;  // Rprop
  // Derived once per step by prepare(): Adam's bias corrections.
  double lr_bc1 = 1e-3, sqrt_bc2 = 1.0;

  void prepare() {
    lr_bc1 = lr / (1.0 - std::pow(beta1, double(step)));
    sqrt_bc2 = std::sqrt(1.0 - std::pow(beta2, double(step)));
  }
};

// State of one parameter slice: `grad` receives the gradient (GradOnly), s1/s2
// are the optimizer's moments (Adam m/v, SGD momentum buffer in s1, Rprop
// previous gradient/step size, Adagrad sum of squares in s1).
template <typename T> struct Slot {
  T *param;
  T *grad;
  T *s1;
  T *s2;
};

// Update element e of the slot with gradient g (PyTorch's formulas, so results
// match torch.optim at equal settings).
template <typename T>
AUTOREC_HD void opt_update(const OptConfig &c, const Slot<T> &s, int64_t e, T g) {
  switch (c.kind) {
    case Opt::GradOnly: s.grad[e] = g; return;
    case Opt::Sgd:
      if (c.momentum != 0.0) {
        // torch: buf = momentum * buf + g (first step: buf = g, s1 starts at 0 -> same)
        const T buf = T(c.momentum) * s.s1[e] + g;
        s.s1[e] = buf;
        s.param[e] -= T(c.lr) * buf;
      } else {
        s.param[e] -= T(c.lr) * g;
      }
      return;
    case Opt::Adam: {
      const T m = T(c.beta1) * s.s1[e] + T(1 - c.beta1) * g;
      const T v = T(c.beta2) * s.s2[e] + T(1 - c.beta2) * g * g;
      s.s1[e] = m;
      s.s2[e] = v;
      const T denom = sqrt(v) / T(c.sqrt_bc2) + T(c.eps);
      s.param[e] -= T(c.lr_bc1) * m / denom;
      return;
    }
    case Opt::Rprop: {
      // iRprop- as torch.optim.Rprop; s1 = previous gradient, s2 = step size.
      const T prev = s.s1[e];
      T step = s.s2[e];
      T gg = g;
      if (prev * g > T(0)) {
        step = step * T(c.eta_plus);
        if (step > T(c.step_max)) step = T(c.step_max);
      } else if (prev * g < T(0)) {
        step = step * T(c.eta_minus);
        if (step < T(c.step_min)) step = T(c.step_min);
        gg = T(0);
      }
      s.s2[e] = step;
      s.s1[e] = gg;
      s.param[e] -= (gg > T(0) ? step : (gg < T(0) ? -step : T(0)));
      return;
    }
    case Opt::Adagrad: {
      const T acc = s.s1[e] + g * g;
      s.s1[e] = acc;
      s.param[e] -= T(c.lr) * g / (sqrt(acc) + T(c.eps));
      return;
    }
  }
}

#ifndef __CUDACC__
}  // namespace autorec
#include "common/csr.h"  // fail()
namespace autorec {
// The bindings' optimizer arguments -> a checked, prepared OptConfig.
inline OptConfig make_opt_config(int kind, double lr, double beta1, double beta2, double eps,
                                 double momentum, int64_t step) {
  if (kind < 0 || kind > 4) fail("optimizer", "unknown optimizer code " + std::to_string(kind));
  if (step < 1) fail("step", "must be >= 1");
  OptConfig c;
  c.kind = static_cast<Opt>(kind);
  c.lr = lr;
  c.beta1 = beta1;
  c.beta2 = beta2;
  c.eps = eps;
  c.momentum = momentum;
  c.step = step;
  c.prepare();
  return c;
}

inline Act act_of(int code, const std::string &arg) {
  if (code < 0 || code > 5) fail(arg, "unknown activation code " + std::to_string(code));
  return static_cast<Act>(code);
}
#endif

}  // namespace autorec
