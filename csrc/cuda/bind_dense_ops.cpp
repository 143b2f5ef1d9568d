// Bindings of the dense-layer element-wise passes (csrc/cuda/dense_ops.h).
#include "common/optimizer.h"  // act_of
#include "cuda/bind.h"
#include "cuda/dense_ops.h"

namespace autorec::bind {

namespace {

template <typename T> void bind_typed(py::module_ &m) {
  m.def(typed_name<T>("bias_activation").c_str(),
        [](std::uintptr_t Z, int64_t n_rows, int64_t n, std::uintptr_t bias, int activation,
           std::uintptr_t stream) {
          if (n_rows < 0 || n <= 0) fail("Z", "shape must be (n_rows >= 0, n > 0)");
          const Act f = act_of(activation, "activation");
          py::gil_scoped_release release;
          check(cuda::bias_activation<T>(ptr<T>(Z), n_rows, n, ptr<const T>(bias), f,
                                         stream_of(stream)),
                "bias_activation");
        },
        py::arg("Z"), py::arg("n_rows"), py::arg("n"), py::arg("bias"), py::arg("activation"),
        py::arg("stream"), "In place: Z <- f(Z + bias), Z row-major (n_rows x n); bias 0: none.");
  m.def(typed_name<T>("mul_activation_grad").c_str(),
        [](std::uintptr_t D, std::uintptr_t H, int64_t total, int activation, std::uintptr_t stream) {
          if (total < 0) fail("total", "must be >= 0");
          const Act f = act_of(activation, "activation");
          py::gil_scoped_release release;
          check(cuda::mul_activation_grad<T>(ptr<T>(D), ptr<const T>(H), total, f, stream_of(stream)),
                "mul_activation_grad");
        },
        py::arg("D"), py::arg("H"), py::arg("total"), py::arg("activation"), py::arg("stream"),
        "In place: D *= f'(H), H the activation's output.");
}

}  // namespace

void bind_dense_ops(py::module_ &m) { bind_typed<float>(m); bind_typed<double>(m); }

}  // namespace autorec::bind
