// Bindings of SVAE's GRU gate kernels, one packed time step (csrc/cuda/gru.h):
// the step's B rows of each array, hidden size G > 0.
#include "cuda/bind.h"
#include "cuda/gru.h"

namespace autorec::bind {

namespace {

// The step's batch size B and hidden size G from the array that decides (B x G).
inline std::array<int64_t, 2> step_sizes(const DeviceArray &a, const char *arg) {
  if (a.dim(1) <= 0) fail(arg, "the hidden size (columns) must be > 0");
  return {a.dim(0), a.dim(1)};
}

template <typename T> void bind_typed(py::module_ &m) {
  m.def(
      "gru_gates_forward",
      [](const DeviceArray &Xi, const std::optional<DeviceArray> &gh, const DeviceArray &b_hh,
         const std::optional<DeviceArray> &h_prev, const DeviceArrayOf<T> &H, const DeviceArray &cache,
         std::uintptr_t stream) {
        T *h = H.data("H", {kAnySize, kAnySize}, Use::Write);
        const auto [B, G] = step_sizes(H, "H");
        const T *xi = Xi.data<T>("Xi", {B, 3 * G}, Use::Read);
        const T *g = data_or_null<T>(gh, "gh", {B, 3 * G}, Use::Read);
        const T *bias = b_hh.data<T>("b_hh", {3 * G}, Use::Read);
        const T *hp = data_or_null<T>(h_prev, "h_prev", {B, G}, Use::Read);
        T *c = cache.data<T>("cache", {B, 4 * G}, Use::Write);
        py::gil_scoped_release release;
        check(cuda::gru_gates_forward<T>(xi, g, bias, hp, h, c, B, G, stream_of(stream)),
              "gru_gates_forward");
      },
      py::arg("Xi"), py::arg("gh"), py::arg("b_hh"), py::arg("h_prev"), py::arg("H"), py::arg("cache"),
      py::arg("stream"),
      "One packed GRU step's gates: Xi (B x 3G), gh = h_prev·W_hh (B x 3G), b_hh (3G), h_prev "
      "(B x G) -> H (B x G), cache (B x 4G); gh and h_prev are None at the first step.");
  m.def(
      "gru_gates_backward",
      [](const DeviceArray &dH, const DeviceArray &d_next, const DeviceArray &cache,
         const std::optional<DeviceArray> &h_prev, const DeviceArray &dXi, const DeviceArray &dGh,
         const DeviceArrayOf<T> &d_cur, std::uintptr_t stream) {
        T *dc = d_cur.data("d_cur", {kAnySize, kAnySize}, Use::Write);
        const auto [B, G] = step_sizes(d_cur, "d_cur");
        const T *dh = dH.data<T>("dH", {B, G}, Use::Read);
        const T *dn = d_next.data<T>("d_next", {kAnySize, G}, Use::Read);
        const int64_t B_next = d_next.dim(0);
        if (B_next > B) fail("d_next", "has more rows than the step (the next step's batch is smaller)");
        const T *c = cache.data<T>("cache", {B, 4 * G}, Use::Read);
        const T *hp = data_or_null<T>(h_prev, "h_prev", {B, G}, Use::Read);
        T *dxi = dXi.data<T>("dXi", {B, 3 * G}, Use::Write);
        T *dgh = dGh.data<T>("dGh", {B, 3 * G}, Use::Write);
        py::gil_scoped_release release;
        check(cuda::gru_gates_backward<T>(dh, dn, B_next, c, hp, dxi, dgh, dc, B, G, stream_of(stream)),
              "gru_gates_backward");
      },
      py::arg("dH"), py::arg("d_next"), py::arg("cache"), py::arg("h_prev"), py::arg("dXi"),
      py::arg("dGh"), py::arg("d_cur"), py::arg("stream"),
      "One packed GRU step backward: dH (B x G) + d_next (B_next <= B rows) -> dXi, dGh (B x 3G), "
      "d_cur (B x G) (the caller adds dGh·W_hhᵀ to d_cur); h_prev None at the first step.");
}

}  // namespace

void bind_gru(py::module_ &m) { bind_typed<float>(m); bind_typed<double>(m); }

}  // namespace autorec::bind
