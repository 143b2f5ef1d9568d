// Bindings of the AutoRec / CDAE sparse layer pair (csrc/cuda/sparse_layer.h).
#include <array>

#include "common/optimizer.h"
#include "cuda/bind.h"
#include "cuda/sparse_layer.h"

namespace autorec::bind {

namespace {

// A tuple of 4 device pointers (Vt, mu, W, b), or None -> nullptrs.
template <typename T> std::array<T *, 4> ptr4(const py::object &o) {
  std::array<T *, 4> out{nullptr, nullptr, nullptr, nullptr};
  if (o.is_none()) return out;
  auto t = py::reinterpret_borrow<py::tuple>(o);
  if (t.size() != 4) fail("params", "expected 4 device pointers (Vt, mu, W, b)");
  for (int i = 0; i < 4; ++i) out[i] = ptr<T>(t[i].cast<std::uintptr_t>());
  return out;
}

template <typename T>
cuda::AutoRecDeviceNet<T> device_net(int64_t n_in, int64_t n_out, int64_t k, const py::object &params,
                                     const py::object &grads, const py::object &s1,
                                     const py::object &s2, int hidden, int output) {
  if (n_in <= 0 || n_out <= 0 || k <= 0) fail("shape", "n_in, n_out and k must be positive");
  const auto p = ptr4<T>(params), g = ptr4<T>(grads), a = ptr4<T>(s1), b = ptr4<T>(s2);
  cuda::AutoRecDeviceNet<T> net;
  net.n_in = n_in;
  net.n_out = n_out;
  net.k = k;
  Slot<T> *slots[4] = {&net.Vt, &net.mu, &net.W, &net.b};
  for (int i = 0; i < 4; ++i) *slots[i] = Slot<T>{p[i], g[i], a[i], b[i]};
  net.hidden = act_of(hidden, "hidden_activation");
  net.output = act_of(output, "output_activation");
  return net;
}

std::uintptr_t item(const py::tuple &t, int i) { return t[i].cast<std::uintptr_t>(); }

// (indptr, indices, data) device pointers.
template <typename T> cuda::DeviceCsr<T> device_csr(const py::tuple &t) {
  return {ptr<const int64_t>(item(t, 0)), ptr<const int32_t>(item(t, 1)), ptr<const T>(item(t, 2))};
}

// (colptr, row, entry) device pointers, as transpose_pattern returns them.
cuda::DeviceTransposed device_transposed(const py::tuple &t) {
  return {ptr<const int64_t>(item(t, 0)), ptr<const int32_t>(item(t, 1)), ptr<const int64_t>(item(t, 2))};
}

template <typename T> void bind_typed(py::module_ &m) {
  m.def(typed_name<T>("autorec_batch").c_str(),
        [](int64_t n_rows, py::tuple x, py::tuple y, py::tuple xt, py::tuple yt, int64_t n_in,
           int64_t n_out, int64_t k, py::object params, py::object grads, py::object s1,
           py::object s2, int hidden, int output, double l2_scale, int optimizer, double lr,
           double beta1, double beta2, double eps, double momentum, int64_t step,
           std::uintptr_t H, std::uintptr_t dZ, std::uintptr_t D, std::uintptr_t loss,
           std::uintptr_t stream, int loss_kind) {
          const OptConfig opt = make_opt_config(optimizer, lr, beta1, beta2, eps, momentum, step);
          auto net = device_net<T>(n_in, n_out, k, params, grads, s1, s2, hidden, output);
          if (loss_kind < 0 || loss_kind > 1) fail("loss", "unknown loss code");
          net.loss = static_cast<Loss>(loss_kind);
          if (x.size() != 3 || y.size() != 3 || xt.size() != 3 || yt.size() != 3)
            fail("x", "x, y, xt, yt are (ptr, ptr, ptr) triples");
          cuda::AutoRecBatch<T> bt;
          bt.n_rows = n_rows;
          bt.x = device_csr<T>(x);
          bt.y = device_csr<T>(y);
          bt.xt = device_transposed(xt);
          bt.yt = device_transposed(yt);
          py::gil_scoped_release release;
          check(cuda::autorec_batch<T>(bt, net, static_cast<T>(l2_scale), opt, ptr<T>(H), ptr<T>(dZ),
                                       ptr<T>(D), ptr<double>(loss), stream_of(stream)),
                "autorec_batch");
        },
        py::arg("n_rows"), py::arg("x"), py::arg("y"), py::arg("xt"), py::arg("yt"), py::arg("n_in"),
        py::arg("n_out"), py::arg("k"), py::arg("params"), py::arg("grads"), py::arg("state1"),
        py::arg("state2"), py::arg("hidden_activation"), py::arg("output_activation"),
        py::arg("l2_scale"), py::arg("optimizer"), py::arg("lr"), py::arg("beta1"), py::arg("beta2"),
        py::arg("eps"), py::arg("momentum"), py::arg("step"), py::arg("H"), py::arg("dZ"),
        py::arg("D"), py::arg("loss"), py::arg("stream"), py::arg("loss_kind") = 0);
  m.def(typed_name<T>("autorec_predict").c_str(),
        [](std::uintptr_t indptr, std::uintptr_t indices, std::uintptr_t data, int64_t n_rows,
           int64_t n_in, int64_t n_out, int64_t k, py::object params, int hidden, int output,
           std::uintptr_t rows, std::uintptr_t cols, int64_t n_pairs, std::uintptr_t H,
           std::uintptr_t out, std::uintptr_t stream) {
          auto net = device_net<T>(n_in, n_out, k, params, py::none(), py::none(), py::none(),
                                   hidden, output);
          py::gil_scoped_release release;
          check(cuda::autorec_predict<T>(ptr<const int64_t>(indptr), ptr<const int32_t>(indices),
                                         ptr<const T>(data), n_rows, net, ptr<const int64_t>(rows),
                                         ptr<const int64_t>(cols), n_pairs, ptr<T>(H), ptr<T>(out),
                                         stream_of(stream)),
                "autorec_predict");
        },
        py::arg("indptr"), py::arg("indices"), py::arg("data"), py::arg("n_rows"), py::arg("n_in"),
        py::arg("n_out"), py::arg("k"), py::arg("params"), py::arg("hidden_activation"),
        py::arg("output_activation"), py::arg("rows"), py::arg("cols"), py::arg("n_pairs"),
        py::arg("H"), py::arg("out"), py::arg("stream"));
}

}  // namespace

void bind_sparse_layer(py::module_ &m) { bind_typed<float>(m); bind_typed<double>(m); }

}  // namespace autorec::bind
