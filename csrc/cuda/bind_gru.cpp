// Bindings of SVAE's GRU gate kernels, one packed time step (csrc/cuda/gru.h).
#include "cuda/bind.h"
#include "cuda/gru.h"

namespace autorec::bind {

namespace {

template <typename T> void bind_typed(py::module_ &m) {
  m.def(typed_name<T>("gru_gates_forward").c_str(),
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
  m.def(typed_name<T>("gru_gates_backward").c_str(),
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
}

}  // namespace

void bind_gru(py::module_ &m) { bind_typed<float>(m); bind_typed<double>(m); }

}  // namespace autorec::bind
