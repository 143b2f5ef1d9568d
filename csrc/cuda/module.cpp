// The _cuda extension: bindings of the CUDA kernels. Arrays arrive as raw device
// pointers of CuPy arrays (the Python layer owns and checks them) and kernels run
// on the given stream (CuPy's current stream). Without a device the module still
// imports; device_count() then reports 0 and device_error() says why.
#include <cuda_runtime.h>
#include <pybind11/pybind11.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "common/csr.h"
#include "common/optimizer.h"
#include "cuda/dense_ops.h"
#include "cuda/ease.h"
#include "cuda/gru.h"
#include "cuda/loss.h"
#include "cuda/optim.h"
#include "cuda/ranking.h"
#include "cuda/sparse_layer.h"

namespace py = pybind11;
using namespace autorec;

namespace {
void check(cudaError_t err, const char *what) {
  if (err != cudaSuccess)
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(err));
}
template <typename T> T *ptr(std::uintptr_t p) { return reinterpret_cast<T *>(p); }
cudaStream_t stream_of(std::uintptr_t s) { return reinterpret_cast<cudaStream_t>(s); }

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

template <typename T> void bind_dtype(py::module_ &m, const char *suffix) {
  const std::string sfx(suffix);
  m.def(("gram_upper_" + sfx).c_str(),
        [](std::uintptr_t indptr, std::uintptr_t indices, std::uintptr_t data, int64_t n_rows,
           int64_t n_cols, std::uintptr_t G, std::uintptr_t stream) {
          py::gil_scoped_release release;
          check(cuda::gram_upper<T>(ptr<const int64_t>(indptr), ptr<const int32_t>(indices),
                                    ptr<const T>(data), n_rows, n_cols, ptr<T>(G), stream_of(stream)),
                "gram_upper");
        },
        py::arg("indptr"), py::arg("indices"), py::arg("data"), py::arg("n_rows"),
        py::arg("n_cols"), py::arg("G"), py::arg("stream"));
  m.def(("ease_weights_from_inverse_" + sfx).c_str(),
        [](std::uintptr_t P, int64_t n, std::uintptr_t diag, std::uintptr_t stream) {
          py::gil_scoped_release release;
          check(cuda::ease_weights_from_inverse<T>(ptr<T>(P), n, ptr<T>(diag), stream_of(stream)),
                "ease_weights_from_inverse");
        },
        py::arg("P"), py::arg("n"), py::arg("diag"), py::arg("stream"));
  m.def(("symmetrize_from_upper_" + sfx).c_str(),
        [](std::uintptr_t A, int64_t n, std::uintptr_t stream) {
          py::gil_scoped_release release;
          check(cuda::symmetrize_from_upper<T>(ptr<T>(A), n, stream_of(stream)),
                "symmetrize_from_upper");
        },
        py::arg("A"), py::arg("n"), py::arg("stream"));
  m.def(("fill_pattern_" + sfx).c_str(),
        [](std::uintptr_t scores, int64_t n_rows, int64_t n_items, std::uintptr_t indptr,
           std::uintptr_t indices, double value, std::uintptr_t stream) {
          py::gil_scoped_release release;
          check(cuda::fill_pattern<T>(ptr<T>(scores), n_rows, n_items, ptr<const int64_t>(indptr),
                                      ptr<const int32_t>(indices), static_cast<T>(value),
                                      stream_of(stream)),
                "fill_pattern");
        },
        py::arg("scores"), py::arg("n_rows"), py::arg("n_items"), py::arg("indptr"),
        py::arg("indices"), py::arg("value"), py::arg("stream"));
  m.def(("autorec_batch_" + sfx).c_str(),
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
          auto u = [](const py::tuple &t, int i) { return t[i].cast<std::uintptr_t>(); };
          cuda::AutoRecBatch<T> bt;
          bt.n_rows = n_rows;
          bt.x.indptr = ptr<const int64_t>(u(x, 0));
          bt.x.indices = ptr<const int32_t>(u(x, 1));
          bt.x.data = ptr<const T>(u(x, 2));
          bt.y.indptr = ptr<const int64_t>(u(y, 0));
          bt.y.indices = ptr<const int32_t>(u(y, 1));
          bt.y.data = ptr<const T>(u(y, 2));
          bt.xt.colptr = ptr<const int64_t>(u(xt, 0));
          bt.xt.row = ptr<const int32_t>(u(xt, 1));
          bt.xt.entry = ptr<const int64_t>(u(xt, 2));
          bt.yt.colptr = ptr<const int64_t>(u(yt, 0));
          bt.yt.row = ptr<const int32_t>(u(yt, 1));
          bt.yt.entry = ptr<const int64_t>(u(yt, 2));
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
  m.def(("multinomial_nll_grad_" + sfx).c_str(),
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
  m.def(("gru_gates_forward_" + sfx).c_str(),
        [](std::uintptr_t Xi, std::uintptr_t gh, std::uintptr_t b_hh, std::uintptr_t h_prev,
           std::uintptr_t H, std::uintptr_t cache, int64_t B, int64_t G, std::uintptr_t stream) {
          if (B < 0 || G <= 0) fail("B", "batch size must be >= 0 and hidden size > 0");
          py::gil_scoped_release release;
          check(cuda::gru_gates_forward<T>(ptr<const T>(Xi), ptr<const T>(gh), ptr<const T>(b_hh),
                                           ptr<const T>(h_prev), ptr<T>(H), ptr<T>(cache), B, G,
                                           stream_of(stream)),
                "gru_gates_forward");
        },
        py::arg("Xi"), py::arg("gh"), py::arg("b_hh"), py::arg("h_prev"), py::arg("H"),
        py::arg("cache"), py::arg("B"), py::arg("G"), py::arg("stream"),
        "One packed GRU step's gates (gh and h_prev are 0 at the first step).");
  m.def(("gru_gates_backward_" + sfx).c_str(),
        [](std::uintptr_t dH, std::uintptr_t d_next, int64_t B_next, std::uintptr_t cache,
           std::uintptr_t h_prev, std::uintptr_t dXi, std::uintptr_t dGh, std::uintptr_t d_cur,
           int64_t B, int64_t G, std::uintptr_t stream) {
          if (B < 0 || G <= 0 || B_next < 0 || B_next > B) fail("B", "inconsistent step sizes");
          py::gil_scoped_release release;
          check(cuda::gru_gates_backward<T>(ptr<const T>(dH), ptr<const T>(d_next), B_next,
                                            ptr<const T>(cache), ptr<const T>(h_prev), ptr<T>(dXi),
                                            ptr<T>(dGh), ptr<T>(d_cur), B, G, stream_of(stream)),
                "gru_gates_backward");
        },
        py::arg("dH"), py::arg("d_next"), py::arg("B_next"), py::arg("cache"), py::arg("h_prev"),
        py::arg("dXi"), py::arg("dGh"), py::arg("d_cur"), py::arg("B"), py::arg("G"),
        py::arg("stream"), "One packed GRU step backward (the caller adds dGh·W_hhᵀ to d_cur).");
  m.def(("optimizer_step_" + sfx).c_str(),
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
  m.def(("autorec_predict_" + sfx).c_str(),
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
  m.def(("bias_activation_" + sfx).c_str(),
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
  m.def(("mul_activation_grad_" + sfx).c_str(),
        [](std::uintptr_t D, std::uintptr_t H, int64_t total, int activation, std::uintptr_t stream) {
          if (total < 0) fail("total", "must be >= 0");
          const Act f = act_of(activation, "activation");
          py::gil_scoped_release release;
          check(cuda::mul_activation_grad<T>(ptr<T>(D), ptr<const T>(H), total, f, stream_of(stream)),
                "mul_activation_grad");
        },
        py::arg("D"), py::arg("H"), py::arg("total"), py::arg("activation"), py::arg("stream"),
        "In place: D *= f'(H), H the activation's output.");
  m.def(("masked_mse_grad_" + sfx).c_str(),
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

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "autorec_fast CUDA kernels (device pointers from CuPy arrays)";
  m.def("device_count", []() {
    int n = 0;
    return cudaGetDeviceCount(&n) == cudaSuccess ? n : 0;
  }, "Number of usable CUDA devices (0 when there is no device or driver).");
  m.def("device_error", []() {
    int n = 0;
    const cudaError_t err = cudaGetDeviceCount(&n);
    return err == cudaSuccess ? std::string() : std::string(cudaGetErrorString(err));
  }, "Why no device is usable ('' when one is).");
  m.def("runtime_version", []() {
    int v = 0;
    cudaRuntimeGetVersion(&v);
    return v;
  }, "CUDA runtime version the extension was built with (e.g. 13000).");
  bind_dtype<float>(m, "f32");
  bind_dtype<double>(m, "f64");
}
