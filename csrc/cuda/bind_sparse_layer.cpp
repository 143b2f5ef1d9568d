// Bindings of the AutoRec / CDAE sparse layer pair (csrc/cuda/sparse_layer.h).
#include "cuda/bind.h"
#include "cuda/sparse_layer.h"

namespace autorec::bind {

namespace {

// params = (Vt, mu, W, b): Vt (n_in x k), mu (k), W (n_out x k), b (n_out), as the
// CPU's AutoRec net; grads / state1 / state2: tuples of 4 arrays shaped like
// params, or None. `use`: whether the kernel updates the parameters.
template <typename T>
cuda::AutoRecDeviceNet<T> device_net(const ParamsOf<T> &params, const std::optional<DeviceArrays> &grads,
                                     const std::optional<DeviceArrays> &s1,
                                     const std::optional<DeviceArrays> &s2, int hidden, int output, Use use) {
  static constexpr const char *names[4] = {"Vt", "mu", "W", "b"};
  const char *what = "(Vt, mu, W, b)";
  const std::vector<DeviceArray> p = device_tuple(params.tuple, 4, "params", what);
  p[0].check_float(element_name("params", 0, names[0]));
  p[0].data<T>(element_name("params", 0, names[0]), {kAnySize, kAnySize}, use);
  p[2].data<T>(element_name("params", 2, names[2]), {kAnySize, kAnySize}, use);
  cuda::AutoRecDeviceNet<T> net;
  net.n_in = p[0].dim(0);
  net.k = p[0].dim(1);
  net.n_out = p[2].dim(0);
  if (net.n_in <= 0 || net.k <= 0) fail("params[0] (Vt)", "must be (n_in x k) with n_in, k > 0");
  if (net.n_out <= 0) fail("params[2] (W)", "must have n_out > 0 rows");
  const std::vector<int64_t> shapes[4] = {{net.n_in, net.k}, {net.k}, {net.n_out, net.k}, {net.n_out}};
  Slot<T> *slots[4] = {&net.Vt, &net.mu, &net.W, &net.b};
  for (size_t i = 0; i < 4; ++i) slots[i]->param = p[i].data<T>(element_name("params", i, names[i]), shapes[i], use);
  // The optional tuples: each array of its parameter's shape, written by the kernel.
  const auto fill = [&](const std::optional<DeviceArrays> &arrays, const char *arg, T *Slot<T>::*member) {
    if (!arrays) return;
    const std::vector<DeviceArray> t = device_tuple(arrays->tuple, 4, arg, what);
    for (size_t i = 0; i < 4; ++i)
      slots[i]->*member = t[i].data<T>(element_name(arg, i, names[i]), shapes[i], Use::Write);
  };
  fill(grads, "grads", &Slot<T>::grad);
  fill(s1, "state1", &Slot<T>::s1);
  fill(s2, "state2", &Slot<T>::s2);
  net.hidden = act_of(hidden, "hidden_activation");
  net.output = act_of(output, "output_activation");
  return net;
}

template <typename T> void bind_typed(py::module_ &m) {
  m.def(
      "autorec_batch",
      [](const DeviceArrays &x, const DeviceArrays &y, const DeviceArrays &xt, const DeviceArrays &yt,
         const ParamsOf<T> &params, const std::optional<DeviceArrays> &grads,
         const std::optional<DeviceArrays> &state1, const std::optional<DeviceArrays> &state2, int hidden, int output, double l2_scale, int optimizer, double lr,
         double beta1, double beta2, double eps, double momentum, int64_t step, const DeviceArray &H,
         const DeviceArray &dZ, const DeviceArray &D, const DeviceArray &loss, std::uintptr_t stream,
         int loss_kind) {
        const OptConfig opt = make_opt_config(optimizer, lr, beta1, beta2, eps, momentum, step);
        auto net = device_net<T>(params, grads, state1, state2, hidden, output, Use::Write);
        require_states(opt, net.Vt.grad != nullptr, net.Vt.s1 != nullptr, net.Vt.s2 != nullptr);
        if (loss_kind < 0 || loss_kind > 1) fail("loss_kind", "unknown loss code " + std::to_string(loss_kind));
        net.loss = static_cast<Loss>(loss_kind);
        const char *csr = "(indptr, indices, data)", *csc = "(colptr, row, entry)";
        const auto X = device_csr_tuple<T>(x, "x", {"indptr", "indices", "data"}, csr);
        const auto Y = device_csr_tuple<T>(y, "y", {"indptr", "indices", "data"}, csr);
        if (Y.n_rows != X.n_rows) fail("y", "must have as many rows as x");
        // The transposed patterns: per input / output column, the entries of x / y.
        const auto Xt = device_csr_tuple<int64_t>(xt, "xt", {"colptr", "row", "entry"}, csc);
        const auto Yt = device_csr_tuple<int64_t>(yt, "yt", {"colptr", "row", "entry"}, csc);
        if (Xt.n_rows != net.n_in || Xt.nnz != X.nnz) fail("xt", "must be x's transposed pattern (n_in columns)");
        if (Yt.n_rows != net.n_out || Yt.nnz != Y.nnz) fail("yt", "must be y's transposed pattern (n_out columns)");
        cuda::AutoRecBatch<T> bt;
        bt.n_rows = X.n_rows;
        bt.x = {X.indptr, X.indices, X.data};
        bt.y = {Y.indptr, Y.indices, Y.data};
        bt.xt = {Xt.indptr, Xt.indices, Xt.data};
        bt.yt = {Yt.indptr, Yt.indices, Yt.data};
        T *h = H.data<T>("H", {X.n_rows, net.k}, Use::Write);
        T *dz = dZ.data<T>("dZ", {X.n_rows, net.k}, Use::Write);
        T *d = D.data<T>("D", {Y.nnz}, Use::Write);
        double *total = loss.data<double>("loss", {1}, Use::Write);
        py::gil_scoped_release release;
        check(cuda::autorec_batch<T>(bt, net, static_cast<T>(l2_scale), opt, h, dz, d, total, stream_of(stream)),
              "autorec_batch");
      },
      py::arg("x"), py::arg("y"), py::arg("xt"), py::arg("yt"), py::arg("params"), py::arg("grads"),
      py::arg("state1"), py::arg("state2"), py::arg("hidden_activation"), py::arg("output_activation"),
      py::arg("l2_scale"), py::arg("optimizer"), py::arg("lr"), py::arg("beta1"), py::arg("beta2"),
      py::arg("eps"), py::arg("momentum"), py::arg("step"), py::arg("H"), py::arg("dZ"), py::arg("D"),
      py::arg("loss"), py::arg("stream"), py::arg("loss_kind") = 0,
      "One AutoRec mini-batch: forward, the loss at the targets y (added to loss[0], float64), "
      "backward and the fused optimizer step. x, y: (indptr, indices, data) of the batch's rows; "
      "xt, yt: their transposed patterns; scratch H, dZ (rows x k) and D (y's nnz).");
  m.def(
      "autorec_predict",
      [](const DeviceArray &indptr, const DeviceArray &indices, const DeviceArray &data,
         const ParamsOf<T> &params, int hidden, int output, const DeviceArray &rows, const DeviceArray &cols,
         const DeviceArray &H, const DeviceArray &out, std::uintptr_t stream) {
        const auto net = device_net<T>(params, std::nullopt, std::nullopt, std::nullopt, hidden, output, Use::Read);
        const auto X = device_csr<T>(indptr, indices, &data, {"indptr", "indices", "data"});
        const int64_t *r = rows.data<int64_t>("rows", {kAnySize}, Use::Read);
        const int64_t n_pairs = rows.dim(0);
        const int64_t *c = cols.data<int64_t>("cols", {n_pairs}, Use::Read);
        T *h = H.data<T>("H", {X.n_rows, net.k}, Use::Write);
        T *o = out.data<T>("out", {n_pairs}, Use::Write);
        py::gil_scoped_release release;
        check(cuda::autorec_predict<T>(X.indptr, X.indices, X.data, X.n_rows, net, r, c, n_pairs, h, o,
                                       stream_of(stream)),
              "autorec_predict");
      },
      py::arg("indptr"), py::arg("indices"), py::arg("data"), py::arg("params"), py::arg("hidden_activation"),
      py::arg("output_activation"), py::arg("rows"), py::arg("cols"), py::arg("H"), py::arg("out"),
      py::arg("stream"),
      "Encode the CSR rows into H (rows x k), then out[p] = f(W[cols[p]]·H[rows[p]] + b[cols[p]]); "
      "rows and cols (int64) must be in range (not checked: device memory).");
}

}  // namespace

void bind_sparse_layer(py::module_ &m) { bind_typed<float>(m); bind_typed<double>(m); }

}  // namespace autorec::bind
