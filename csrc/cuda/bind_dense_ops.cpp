// Bindings of the dense-layer element-wise passes (csrc/cuda/dense_ops.h).
#include "cuda/bind.h"
#include "cuda/dense_ops.h"

namespace autorec::bind {

namespace {

template <typename T> void bind_typed(py::module_ &m) {
  m.def(
      "bias_activation",
      [](const DeviceArrayOf<T> &Z, const std::optional<DeviceArray> &bias, int activation,
         std::uintptr_t stream) {
        T *z = Z.data("Z", {kAnySize, kAnySize}, Use::Write);
        const int64_t n_rows = Z.dim(0), n = Z.dim(1);
        const T *b = data_or_null<T>(bias, "bias", {n}, Use::Read);
        const Act f = act_of(activation, "activation");
        py::gil_scoped_release release;
        check(cuda::bias_activation<T>(z, n_rows, n, b, f, stream_of(stream)), "bias_activation");
      },
      py::arg("Z"), py::arg("bias"), py::arg("activation"), py::arg("stream"),
      "In place: Z <- f(Z + bias), Z (n_rows x n); bias (n) or None.");
  m.def(
      "mul_activation_grad",
      [](const DeviceArrayOf<T> &D, const DeviceArray &H, int activation, std::uintptr_t stream) {
        T *d = D.data("D", Use::Write);
        const T *h = H.data<T>("H", D.shape(), Use::Read);
        const Act f = act_of(activation, "activation");
        py::gil_scoped_release release;
        check(cuda::mul_activation_grad<T>(d, h, D.size(), f, stream_of(stream)), "mul_activation_grad");
      },
      py::arg("D"), py::arg("H"), py::arg("activation"), py::arg("stream"),
      "In place: D *= f'(H), H the activation's output (D's shape).");
}

}  // namespace

void bind_dense_ops(py::module_ &m) { bind_typed<float>(m); bind_typed<double>(m); }

}  // namespace autorec::bind
