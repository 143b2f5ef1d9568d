// Binding of the optimizer step over a dense parameter (csrc/cuda/optim.h).
#include "cuda/bind.h"
#include "cuda/optim.h"

namespace autorec::bind {

namespace {

// An array of `n` elements of dtype T in any shape (as the CPU's optimizer_step:
// the gradient and states match the parameter in size), or null for None.
template <typename T>
T *sized(const std::optional<DeviceArray> &a, int64_t n, const std::string &arg, Use use) {
  if (!a) return nullptr;
  T *p = a->data<T>(arg, use);
  if (a->size() != n) fail(arg, "size " + std::to_string(a->size()) + ", expected " + std::to_string(n));
  return p;
}

template <typename T> void bind_typed(py::module_ &m) {
  m.def(
      "optimizer_step",
      [](const DeviceArrayOf<T> &param, const DeviceArray &grad, const std::optional<DeviceArray> &state1,
         const std::optional<DeviceArray> &state2, double l2_scale, int optimizer, double lr, double beta1,
         double beta2, double eps, double momentum, int64_t step, std::uintptr_t stream) {
        const OptConfig opt = make_opt_config(optimizer, lr, beta1, beta2, eps, momentum, step);
        if (opt.kind == Opt::GradOnly) fail("optimizer", "'none' has nothing to do here");
        T *p = param.data("param", Use::Write);
        const int64_t n = param.size();
        const T *g = sized<T>(grad, n, "grad", Use::Read);
        Slot<T> slot{p, nullptr, sized<T>(state1, n, "state1", Use::Write),
                     sized<T>(state2, n, "state2", Use::Write)};
        require_states(opt, true, slot.s1 != nullptr, slot.s2 != nullptr);
        py::gil_scoped_release release;
        check(cuda::dense_step<T>(slot, n, g, static_cast<T>(l2_scale), opt, stream_of(stream)),
              "optimizer_step");
      },
      py::arg("param"), py::arg("grad"), py::arg("state1"), py::arg("state2"),  // param's size (None: unused)
      py::arg("l2_scale"), py::arg("optimizer"), py::arg("lr"), py::arg("beta1"), py::arg("beta2"),
      py::arg("eps"), py::arg("momentum"), py::arg("step"), py::arg("stream"),
      "In place on a dense parameter: gradient grad + l2_scale * param, then the optimizer step.");
}

}  // namespace

void bind_optim(py::module_ &m) { bind_typed<float>(m); bind_typed<double>(m); }

}  // namespace autorec::bind
