// Binding of the optimizer step over a dense parameter (csrc/cuda/optim.h).
#include "cuda/bind.h"
#include "cuda/optim.h"

namespace autorec::bind {

namespace {

template <typename T> void bind_typed(py::module_ &m) {
  m.def(typed_name<T>("optimizer_step").c_str(),
        [](std::uintptr_t param, std::uintptr_t grad, std::uintptr_t s1, std::uintptr_t s2, int64_t n,
           double l2_scale, int optimizer, double lr, double beta1, double beta2, double eps,
           double momentum, int64_t step, std::uintptr_t stream) {
          const OptConfig opt = make_opt_config(optimizer, lr, beta1, beta2, eps, momentum, step);
          if (opt.kind == Opt::GradOnly) fail("optimizer", "'none' has nothing to do here");
          Slot<T> slot{ptr<T>(param), nullptr, ptr<T>(s1), ptr<T>(s2)};
          py::gil_scoped_release release;
          check(cuda::dense_step<T>(slot, n, ptr<const T>(grad), static_cast<T>(l2_scale), opt,
                                    stream_of(stream)),
                "optimizer_step");
        },
        py::arg("param"), py::arg("grad"), py::arg("state1"), py::arg("state2"), py::arg("n"),
        py::arg("l2_scale"), py::arg("optimizer"), py::arg("lr"), py::arg("beta1"), py::arg("beta2"),
        py::arg("eps"), py::arg("momentum"), py::arg("step"), py::arg("stream"));
}

}  // namespace

void bind_optim(py::module_ &m) { bind_typed<float>(m); bind_typed<double>(m); }

}  // namespace autorec::bind
