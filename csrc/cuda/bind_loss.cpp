// Bindings of the loss + gradient kernels (csrc/cuda/loss.h).
#include "cuda/bind.h"
#include "cuda/loss.h"

namespace autorec::bind {

namespace {

template <typename T> void bind_typed(py::module_ &m) {
  m.def(
      "multinomial_nll_grad",
      [](const DeviceArrayOf<T> &logits, const std::optional<DeviceArray> &bias,
         const DeviceArray &indptr, const DeviceArray &indices, const DeviceArray &x, double scale,
         const DeviceArray &loss, std::uintptr_t stream) {
        T *l = logits.data("logits", {kAnySize, kAnySize}, Use::Write);
        const int64_t n_rows = logits.dim(0), n = logits.dim(1);
        const T *b = data_or_null<T>(bias, "bias", {n}, Use::Read);
        const auto X = device_csr<T>(indptr, indices, &x, {"indptr", "indices", "x"});
        if (X.n_rows != n_rows) fail("indptr", "must have one entry per row of logits, plus one");
        double *total = loss.data<double>("loss", {1}, Use::Write);
        py::gil_scoped_release release;
        check(cuda::multinomial_nll_grad<T>(l, b, X.indptr, X.indices, X.data, n_rows, n,
                                            static_cast<T>(scale), total, stream_of(stream)),
              "multinomial_nll_grad");
      },
      py::arg("logits"), py::arg("bias"), py::arg("indptr"), py::arg("indices"), py::arg("x"),
      py::arg("scale"), py::arg("loss"), py::arg("stream"),
      "In place: logits (n_rows x n, + bias) -> scale * d/dl of -Σ x log softmax for the CSR rows "
      "(indptr, indices, x); adds scale * the loss to loss[0] (float64).");
  m.def(
      "masked_mse_grad",
      [](const DeviceArrayOf<T> &out, const DeviceArray &target, int activation, const DeviceArray &grad,
         const DeviceArray &count, const DeviceArray &loss, std::uintptr_t stream) {
        const T *o = out.data("out", Use::Read);
        const T *t = target.data<T>("target", out.shape(), Use::Read);
        T *g = grad.data<T>("grad", out.shape(), Use::Write);
        auto *c = count.data<unsigned long long>("count", {1}, Use::Write);
        double *l = loss.data<double>("loss", {1}, Use::Write);
        const Act f = act_of(activation, "activation");
        py::gil_scoped_release release;
        check(cuda::masked_mse_grad<T>(o, t, out.size(), f, g, c, l, stream_of(stream)), "masked_mse_grad");
      },
      py::arg("out"), py::arg("target"), py::arg("activation"), py::arg("grad"), py::arg("count"),
      py::arg("loss"), py::arg("stream"),
      "Masked MSE over the non-zero targets: grad (out's shape); loss[0] = the mean (float64), "
      "count[0] = the non-zeros (uint64).");
}

}  // namespace

void bind_loss(py::module_ &m) { bind_typed<float>(m); bind_typed<double>(m); }

}  // namespace autorec::bind
