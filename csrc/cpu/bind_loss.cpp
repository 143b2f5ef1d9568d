// Bindings of the fused loss + gradient passes (csrc/cpu/loss.h).
#include "cpu/bind.h"
#include "cpu/loss.h"

namespace autorec::bind {

namespace {

// A dense output layer (rows x n, updated in place), its optional bias (n) and
// the CSR targets of its rows, checked.
template <typename T> struct OutputArgs {
  T *out;
  const T *bias;
  CsrArg<T> targets;

  OutputArgs(const Typed<T> &Z, const char *z_name, const py::object &b, const py::array &indptr,
             const py::array &indices, const py::array &data, const char *targets_name)
      : out(state_ptr<T>(Z, Z.size(), z_name)),
        bias(state_ptr_or_null<T>(b, Z.shape(1), "bias")),
        targets(indptr, indices, data, Z.shape(1), targets_name) {
    if (targets.view.n_rows != Z.shape(0))
      fail(targets_name, std::string("must have one row per row of ") + z_name);
  }
};

template <typename T> void bind_typed(py::module_ &m) {
  m.def(
      "multinomial_nll_grad",
      [](const Typed<T> &logits, const py::object &bias, const py::array &indptr,
         const py::array &indices, const py::array &data, double scale) {
        check_ndim(logits, 2, "logits");
        const OutputArgs<T> a(logits, "logits", bias, indptr, indices, data, "X");
        py::gil_scoped_release release;
        return cpu::multinomial_nll_grad(a.out, a.bias, a.targets.view, static_cast<T>(scale));
      },
      py::arg("logits").noconvert(), py::arg("bias"), py::arg("indptr"), py::arg("indices"),
      py::arg("data"), py::arg("scale"),
      "In place: logits (+ bias) -> scale * d/dl of -Σ x log softmax; returns scale * the loss.");
  m.def(
      "logistic_loss_grad",
      [](const Typed<T> &Z, const py::object &bias, const py::array &indptr, const py::array &indices,
         const py::array &data) {
        check_ndim(Z, 2, "Z");
        const OutputArgs<T> a(Z, "Z", bias, indptr, indices, data, "Y");
        py::gil_scoped_release release;
        return cpu::logistic_loss_grad(a.out, a.bias, a.targets.view);
      },
      py::arg("Z").noconvert(), py::arg("bias"), py::arg("indptr"), py::arg("indices"),
      py::arg("data"),
      "In place: Z (+ bias) -> σ(z) − y for the targets y of the CSR rows (0 elsewhere); returns "
      "Σ softplus(z) − y·z over every entry.");
  m.def(
      "masked_mse_grad",
      [](const Typed<T> &out, const py::array &target, int activation, const py::array &grad) {
        const RowsInPlace<T> o = rows_in_place(out, "out", activation);  // read only
        const T *t = state_ptr<T>(target, out.size(), "target");
        T *g = state_ptr<T>(grad, out.size(), "grad");
        py::gil_scoped_release release;
        return cpu::masked_mse_grad<T>(o.data, t, o.rows, o.n, o.f, g);
      },
      py::arg("out").noconvert(), py::arg("target"), py::arg("activation"), py::arg("grad"),
      "Masked MSE over the non-zero targets (mean) and its gradient w.r.t. the pre-activation.");
}

}  // namespace

void bind_loss(py::module_ &m) { bind_typed<float>(m); bind_typed<double>(m); }

}  // namespace autorec::bind
