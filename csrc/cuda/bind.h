// The _cuda extension's bindings, one bind_<area>.cpp per kernel area, and what
// they share. Arrays arrive as raw device pointers of CuPy arrays (the Python
// layer owns and checks them) and kernels run on the given stream (CuPy's
// current stream).
//
// dtype dispatch, the same style as the CPU bindings (csrc/cpu/bind.h): an
// area's functions are written once in a template over T (bind_<area>_typed<T>),
// which bind_<area> registers for float and double. Device pointers carry no
// dtype, so here the two are told apart by name: <name>_f32 and <name>_f64.
#pragma once

#include <cuda_runtime.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "common/csr.h"  // fail()

namespace autorec::bind {

namespace py = pybind11;

// The name of T's variant of a function: name + "_f32" or "_f64".
template <typename T> std::string typed_name(const char *name) {
  return std::string(name) + (std::is_same_v<T, float> ? "_f32" : "_f64");
}

inline void check(cudaError_t err, const char *what) {
  if (err != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(err));
}
template <typename T> T *ptr(std::uintptr_t p) { return reinterpret_cast<T *>(p); }
inline cudaStream_t stream_of(std::uintptr_t s) { return reinterpret_cast<cudaStream_t>(s); }

void bind_dense_ops(py::module_ &m);     // bias_activation_*, mul_activation_grad_*
void bind_ease(py::module_ &m);          // gram_upper_*, ease_weights_from_inverse_*, ...
void bind_gru(py::module_ &m);           // gru_gates_forward_*, gru_gates_backward_*
void bind_loss(py::module_ &m);          // multinomial_nll_grad_*, masked_mse_grad_*
void bind_optim(py::module_ &m);         // optimizer_step_*
void bind_ranking(py::module_ &m);       // fill_pattern_*
void bind_runtime(py::module_ &m);       // device_count, device_error, runtime_version
void bind_sparse_layer(py::module_ &m);  // autorec_batch_*, autorec_predict_*

}  // namespace autorec::bind
