// Bindings of the AutoRec / CDAE sparse layer pair (csrc/cpu/sparse_layer.h)
// and of the CSR pattern transpose the CUDA sparse layer takes.
#include <vector>

#include "cpu/bind.h"
#include "cpu/sparse_layer.h"
#include "cpu/transpose.h"

namespace autorec::bind {

// The parameters (Vt, mu, W, b) of a sparse layer pair whose Vt has dtype T.
// As an argument type it selects the T overload; make_net checks the rest.
template <typename T> struct Params {
  py::tuple t;
};

}  // namespace autorec::bind

namespace pybind11::detail {
template <typename T> struct type_caster<autorec::bind::Params<T>> {
  PYBIND11_TYPE_CASTER(autorec::bind::Params<T>,
                       const_name("tuple[numpy.typing.NDArray[") +
                           npy_format_descriptor<T>::name + const_name("], ...]"));
  bool load(handle src, bool /*convert*/) {
    if (!isinstance<tuple>(src)) return false;
    auto t = reinterpret_borrow<tuple>(src);
    if (t.empty() || !isinstance<array_t<T>>(t[0])) return false;
    value.t = std::move(t);
    return true;
  }
};
}  // namespace pybind11::detail

namespace autorec::bind {

namespace {

// params = (Vt, mu, W, b); grads / s1 / s2: tuples of arrays shaped like params, or None.
template <typename T>
cpu::AutoRecNet<T> make_net(const py::tuple &params, const py::object &grads, const py::object &s1,
                            const py::object &s2, int hidden, int output) {
  if (params.size() != 4) fail("params", "expected (Vt, mu, W, b)");
  auto Vt = py::reinterpret_borrow<py::array>(params[0]);
  auto W = py::reinterpret_borrow<py::array>(params[2]);
  check_ndim(Vt, 2, "params[0] (Vt)");
  check_ndim(W, 2, "params[2] (W)");
  cpu::AutoRecNet<T> net;
  net.n_in = Vt.shape(0);
  net.k = Vt.shape(1);
  net.n_out = W.shape(0);
  if (W.shape(1) != net.k) fail("params[2] (W)", "must have as many columns as Vt (the hidden size)");
  const int64_t sizes[4] = {net.n_in * net.k, net.k, net.n_out * net.k, net.n_out};
  const char *names[4] = {"Vt", "mu", "W", "b"};
  Slot<T> *slots[4] = {&net.Vt, &net.mu, &net.W, &net.b};
  auto pick = [&](const py::object &tup, const char *what, int i) -> T * {
    if (tup.is_none()) return nullptr;
    auto t = py::reinterpret_borrow<py::tuple>(tup);
    if (t.size() != 4) fail(what, "expected a tuple of 4 arrays");
    return state_ptr<T>(t[i], sizes[i], std::string(what) + "[" + std::to_string(i) + "]");
  };
  for (int i = 0; i < 4; ++i) {
    slots[i]->param = state_ptr<T>(params[i], sizes[i], std::string("params (") + names[i] + ")");
    slots[i]->grad = pick(grads, "grads", i);
    slots[i]->s1 = pick(s1, "state1", i);
    slots[i]->s2 = pick(s2, "state2", i);
  }
  net.hidden = act_of(hidden, "hidden_activation");
  net.output = act_of(output, "output_activation");
  return net;
}

// The optimizer's state arrays must be there (checked on Vt; make_net checked all shapes).
template <typename T> void check_slots_for(const OptConfig &c, const cpu::AutoRecNet<T> &n) {
  switch (c.kind) {
    case Opt::GradOnly:
      if (!n.Vt.grad) fail("grads", "required when the optimizer is 'none'");
      break;
    case Opt::Sgd:
      if (c.momentum != 0 && !n.Vt.s1) fail("state1", "required for SGD with momentum");
      break;
    case Opt::Adagrad:
      if (!n.Vt.s1) fail("state1", "required for Adagrad");
      break;
    case Opt::Adam:
    case Opt::Rprop:
      if (!n.Vt.s1 || !n.Vt.s2) fail("state1", "state1 and state2 are required");
      break;
  }
}

template <typename T> void bind_typed(py::module_ &m) {
  m.def(
      "autorec_batch",
      [](const py::array &in_indptr, const py::array &in_indices, const py::array &in_data,
         const py::array &tg_indptr, const py::array &tg_indices, const py::array &tg_data,
         const Params<T> &params, const py::object &grads, const py::object &state1,
         const py::object &state2, int hidden_activation, int output_activation, double l2_scale,
         int optimizer, double lr, double beta1, double beta2, double eps, double momentum,
         int64_t step, int loss, const py::object &rows) {
        const OptConfig opt = make_opt_config(optimizer, lr, beta1, beta2, eps, momentum, step);
        auto net = make_net<T>(params.t, grads, state1, state2, hidden_activation, output_activation);
        if (loss < 0 || loss > 1) fail("loss", "unknown loss code " + std::to_string(loss));
        net.loss = static_cast<Loss>(loss);
        check_slots_for(opt, net);
        In<int64_t> xip = In<int64_t>::ensure(in_indptr), yip = In<int64_t>::ensure(tg_indptr);
        In<int32_t> xix = In<int32_t>::ensure(in_indices), yix = In<int32_t>::ensure(tg_indices);
        In<T> xd = In<T>::ensure(in_data), yd = In<T>::ensure(tg_data);
        if (!xip || !yip || !xix || !yix || !xd || !yd) throw py::error_already_set();
        CsrView<T> X, Y;
        if (rows.is_none()) {
          X = csr_view<T>(xip, xix, xd.data(), xd.size(), net.n_in, "inputs");
          Y = csr_view<T>(yip, yix, yd.data(), yd.size(), net.n_out, "targets");
        } else {  // inputs and targets are whole matrices; the batch is their rows `rows`
          In<int64_t> r = In<int64_t>::ensure(rows);
          if (!r) throw py::error_already_set();
          thread_local CsrRows<T> x_rows, y_rows;  // storage kept across batches
          X = x_rows.gather(xip, xix, xd, r, net.n_in, "inputs");
          const bool same = in_indptr.is(tg_indptr) && in_indices.is(tg_indices) && in_data.is(tg_data);
          if (same && net.n_in == net.n_out) {
            Y = X;  // one copy: the kernel sees one pattern for both
          } else {
            Y = y_rows.gather(yip, yix, yd, r, net.n_out, "targets");
          }
        }
        if (X.n_rows != Y.n_rows) fail("targets", "must have as many rows as inputs");
        py::gil_scoped_release release;
        return cpu::autorec_batch(X, Y, net, static_cast<T>(l2_scale), opt);
      },
      py::arg("in_indptr"), py::arg("in_indices"), py::arg("in_data"), py::arg("tg_indptr"),
      py::arg("tg_indices"), py::arg("tg_data"), py::arg("params"), py::arg("grads"),
      py::arg("state1"), py::arg("state2"), py::arg("hidden_activation"),
      py::arg("output_activation"), py::arg("l2_scale"), py::arg("optimizer"), py::arg("lr"),
      py::arg("beta1") = kAdamBeta1, py::arg("beta2") = kAdamBeta2, py::arg("eps") = kAdamEps,
      py::arg("momentum") = 0.0, py::arg("step") = 1, py::arg("loss") = 0,
      py::arg("rows") = py::none(),
      "One AutoRec mini-batch: forward, the loss at the observed targets (0: squared error, "
      "1: logistic), backward and the fused optimizer step (optimizer 0 writes the gradients to "
      "`grads` instead). Returns the batch's summed loss without the L2 term. With `rows`, the "
      "inputs and targets are whole matrices and the batch is their rows `rows` (int64 ids).");
  m.def(
      "sparse_input_grad_step",
      [](const py::array &indptr, const py::array &indices, const py::array &data,
         const py::array &dZ, const Typed<T> &param, const py::object &grad,
         const py::object &state1, const py::object &state2, double l2_scale, int optimizer,
         double lr, double beta1, double beta2, double eps, double momentum, int64_t step) {
        const OptConfig opt = make_opt_config(optimizer, lr, beta1, beta2, eps, momentum, step);
        check_slot_for(opt, !grad.is_none(), !state1.is_none(), !state2.is_none());
        check_ndim(param, 2, "param");
        check_ndim(dZ, 2, "dZ");
        const int64_t n_in = param.shape(0), k = param.shape(1);
        const Slot<T> P = make_slot<T>(param, grad, state1, state2, n_in * k, "param");
        const T *dz = state_ptr<T>(dZ, dZ.size(), "dZ");
        const CsrArg<T> X(indptr, indices, data, n_in, "X");
        if (dZ.shape(0) != X.view.n_rows || dZ.shape(1) != k) fail("dZ", "shape must be (X rows, k)");
        py::gil_scoped_release release;
        cpu::sparse_input_grad_step(X.view, dz, k, P, static_cast<T>(l2_scale), opt);
      },
      py::arg("indptr"), py::arg("indices"), py::arg("data"), py::arg("dZ"),
      py::arg("param").noconvert(), py::arg("grad"), py::arg("state1"), py::arg("state2"),
      py::arg("l2_scale"), py::arg("optimizer"), py::arg("lr"), py::arg("beta1") = kAdamBeta1,
      py::arg("beta2") = kAdamBeta2, py::arg("eps") = kAdamEps, py::arg("momentum") = 0.0,
      py::arg("step") = 1,
      "Sparse input layer: g = l2_scale * param + Xᵀ dZ, then the optimizer step (or g -> grad).");
  m.def(
      "autorec_encode",
      [](const py::array &in_indptr, const py::array &in_indices, const py::array &in_data,
         const Params<T> &params, int hidden_activation) -> py::array {
        auto net = make_net<T>(params.t, py::none(), py::none(), py::none(), hidden_activation, 0);
        const CsrArg<T> X(in_indptr, in_indices, in_data, net.n_in, "inputs");
        py::array_t<T> H({X.view.n_rows, net.k});
        T *h = H.mutable_data();
        {
          py::gil_scoped_release release;
          cpu::autorec_encode(X.view, net, h);
        }
        return H;
      },
      py::arg("in_indptr"), py::arg("in_indices"), py::arg("in_data"), py::arg("params"),
      py::arg("hidden_activation"), "H = g(X·Vt + mu) for the rows of X.");
  m.def(
      "autorec_predict",
      [](const py::array &in_indptr, const py::array &in_indices, const py::array &in_data,
         const Params<T> &params, int hidden_activation, int output_activation,
         const In<int64_t> &rows, const In<int64_t> &cols) -> py::array {
        auto net = make_net<T>(params.t, py::none(), py::none(), py::none(), hidden_activation,
                               output_activation);
        const CsrArg<T> X(in_indptr, in_indices, in_data, net.n_in, "inputs");
        check_ndim(rows, 1, "rows");
        check_ndim(cols, 1, "cols");
        const int64_t n = rows.shape(0);
        if (cols.shape(0) != n) fail("cols", "must have as many entries as rows");
        const int64_t *pr = rows.data(), *pc = cols.data();
        for (int64_t i = 0; i < n; ++i) {
          if (pr[i] < 0 || pr[i] >= X.view.n_rows) fail("rows", "index out of range");
          if (pc[i] < 0 || pc[i] >= net.n_out) fail("cols", "index out of range");
        }
        py::array_t<T> out(n);
        T *po = out.mutable_data();
        {
          py::gil_scoped_release release;
          std::vector<T> H(X.view.n_rows * net.k);
          cpu::autorec_encode(X.view, net, H.data());
          cpu::autorec_decode_pairs(H.data(), pr, pc, n, net, po);
        }
        return out;
      },
      py::arg("in_indptr"), py::arg("in_indices"), py::arg("in_data"), py::arg("params"),
      py::arg("hidden_activation"), py::arg("output_activation"), py::arg("rows"), py::arg("cols"),
      "Encode the input rows, then decode only the requested (row, output) pairs.");
}

void bind_untyped(py::module_ &m) {
  m.def(
      "transpose_pattern",
      [](const In<int64_t> &indptr, const In<int32_t> &indices, int64_t n_cols) {
        auto X = csr_view<float>(indptr, indices, nullptr, 0, n_cols, "pattern");
        cpu::Transposed t;
        {
          py::gil_scoped_release release;
          t = cpu::transpose_pattern(X.indptr, X.indices, X.n_rows, n_cols);
        }
        return py::make_tuple(py::array_t<int64_t>(t.colptr.size(), t.colptr.data()),
                              py::array_t<int32_t>(t.row.size(), t.row.data()),
                              py::array_t<int64_t>(t.entry.size(), t.entry.data()));
      },
      py::arg("indptr"), py::arg("indices"), py::arg("n_cols"),
      "CSC view of a CSR pattern: (colptr, row of each entry, its CSR position).");
}

}  // namespace

void bind_sparse_layer(py::module_ &m) { bind_typed<float>(m); bind_typed<double>(m); bind_untyped(m); }

}  // namespace autorec::bind
