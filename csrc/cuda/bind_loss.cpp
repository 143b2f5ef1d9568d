// Bindings of the loss + gradient kernels (csrc/cuda/loss.h).
#include "common/optimizer.h"  // act_of
#include "cuda/bind.h"
#include "cuda/loss.h"

namespace autorec::bind {

namespace {

template <typename T> void bind_typed(py::module_ &m) {
  m.def(typed_name<T>("multinomial_nll_grad").c_str(),
        [](std::uintptr_t logits, std::uintptr_t bias, std::uintptr_t indptr, std::uintptr_t indices,
           std::uintptr_t x, int64_t n_rows, int64_t n, double scale, std::uintptr_t loss,
           std::uintptr_t stream) {
          py::gil_scoped_release release;
          check(cuda::multinomial_nll_grad<T>(ptr<T>(logits), ptr<const T>(bias),
                                              ptr<const int64_t>(indptr), ptr<const int32_t>(indices),
                                              ptr<const T>(x), n_rows, n, static_cast<T>(scale),
                                              ptr<double>(loss), stream_of(stream)),
                "multinomial_nll_grad");
        },
        py::arg("logits"), py::arg("bias"), py::arg("indptr"), py::arg("indices"), py::arg("x"),
        py::arg("n_rows"), py::arg("n"), py::arg("scale"), py::arg("loss"), py::arg("stream"));
  m.def(typed_name<T>("masked_mse_grad").c_str(),
        [](std::uintptr_t out, std::uintptr_t target, int64_t total, int activation,
           std::uintptr_t grad, std::uintptr_t count, std::uintptr_t loss, std::uintptr_t stream) {
          if (total < 0) fail("total", "must be >= 0");
          const Act f = act_of(activation, "activation");
          py::gil_scoped_release release;
          check(cuda::masked_mse_grad<T>(ptr<const T>(out), ptr<const T>(target), total, f,
                                         ptr<T>(grad), ptr<unsigned long long>(count),
                                         ptr<double>(loss), stream_of(stream)),
                "masked_mse_grad");
        },
        py::arg("out"), py::arg("target"), py::arg("total"), py::arg("activation"), py::arg("grad"),
        py::arg("count"), py::arg("loss"), py::arg("stream"),
        "Masked MSE over the non-zero targets: grad, *loss = the mean, *count = the non-zeros.");
}

}  // namespace

void bind_loss(py::module_ &m) { bind_typed<float>(m); bind_typed<double>(m); }

}  // namespace autorec::bind
