// Binding of the optimizer step over a dense parameter (csrc/cpu/optim.h).
#include "cpu/bind.h"
#include "cpu/optim.h"

namespace autorec::bind {

namespace {

template <typename T> void bind_typed(py::module_ &m) {
  m.def(
      "optimizer_step",
      [](const Typed<T> &param, const py::array &grad, const py::object &state1,
         const py::object &state2, double l2_scale, int optimizer, double lr, double beta1,
         double beta2, double eps, double momentum, int64_t step) {
        const OptConfig opt = make_opt_config(optimizer, lr, beta1, beta2, eps, momentum, step);
        if (opt.kind == Opt::GradOnly) fail("optimizer", "'none' has nothing to do here");
        check_slot_for(opt, true, !state1.is_none(), !state2.is_none());
        const int64_t n = param.size();
        const Slot<T> S = make_slot<T>(param, py::none(), state1, state2, n, "param");
        const T *g = state_ptr<T>(grad, n, "grad");
        py::gil_scoped_release release;
        cpu::dense_step(S, n, g, static_cast<T>(l2_scale), opt);
      },
      py::arg("param").noconvert(), py::arg("grad"), py::arg("state1"), py::arg("state2"),
      py::arg("l2_scale"), py::arg("optimizer"), py::arg("lr"), py::arg("beta1") = kAdamBeta1,
      py::arg("beta2") = kAdamBeta2, py::arg("eps") = kAdamEps, py::arg("momentum") = 0.0,
      py::arg("step") = 1,
      "In place on a dense parameter: gradient grad + l2_scale * param, then the optimizer step.");
}

}  // namespace

void bind_optim(py::module_ &m) { bind_typed<float>(m); bind_typed<double>(m); }

}  // namespace autorec::bind
