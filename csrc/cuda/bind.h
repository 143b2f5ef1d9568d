// The _cuda extension's bindings, one bind_<area>.cpp per kernel area, and what
// they share. Arrays arrive as device arrays (CuPy arrays, or any object with
// __cuda_array_interface__; device_array.h), checked before any CUDA call: a
// TypeError or ValueError naming the argument for a wrong dtype, shape or
// layout, a read-only output or a missing required array (None stands for an
// optional one). Sizes are the arrays' own shapes. Only O(1) checks: device
// memory is not read, so contents (index ranges, CSR row pointers) are the
// Python layer's to validate on the host (autorec_fast/_validation.py). Kernels
// run on the given stream (an integer: CuPy's current stream), with the GIL
// released; a CUDA error is a RuntimeError.
//
// dtype dispatch, the same style as the CPU bindings (csrc/cpu/bind.h): an
// area's functions are written once in a template over T (bind_typed<T> in its
// file), which bind_<area> registers for float, then double, as pybind11
// overloads of one name. The array that decides (an output, or the parameters)
// is typed DeviceArrayOf<T> / ParamsOf<T>: the float overload loads float32
// only, the double one every other object, whose checks then reject anything
// but float64 with a TypeError naming it. The call's other float arrays must
// have the same dtype.
#pragma once

#include <cuda_runtime.h>
#include <pybind11/pybind11.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "common/optimizer.h"  // OptConfig, make_opt_config, act_of
#include "cuda/device_array.h"

namespace autorec::bind {

namespace py = pybind11;

inline void check(cudaError_t err, const char *what) {
  if (err != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(err));
}
inline cudaStream_t stream_of(std::uintptr_t s) { return reinterpret_cast<cudaStream_t>(s); }

// A CSR matrix on the device from its arrays: indptr int64 (n_rows + 1), indices
// int32 (nnz) and, when given, values of dtype V (nnz). `names` are the three
// arguments' names for errors. The contents (indptr[0] == 0, non-decreasing,
// indptr[-1] == nnz, column range) are not checked: device memory.
template <typename V> struct DeviceCsrArgs {
  const int64_t *indptr = nullptr;
  const int32_t *indices = nullptr;
  const V *data = nullptr;
  int64_t n_rows = 0, nnz = 0;
};
template <typename V>
DeviceCsrArgs<V> device_csr(const DeviceArray &indptr, const DeviceArray &indices, const DeviceArray *data,
                            const std::array<std::string, 3> &names) {
  DeviceCsrArgs<V> c;
  c.indptr = indptr.data<int64_t>(names[0], {kAnySize}, Use::Read);
  c.n_rows = indptr.dim(0) - 1;
  if (c.n_rows < 0) fail(names[0], "must have n_rows + 1 >= 1 entries");
  c.indices = indices.data<int32_t>(names[1], {kAnySize}, Use::Read);
  c.nnz = indices.dim(0);
  if (data != nullptr) c.data = data->data<V>(names[2], {c.nnz}, Use::Read);
  return c;
}

// The same, given as one tuple argument `arg` = (indptr, indices, values);
// `parts` names the three (e.g. {"indptr", "indices", "data"}).
template <typename V>
DeviceCsrArgs<V> device_csr_tuple(const DeviceArrays &obj, const std::string &arg,
                                  const std::array<const char *, 3> &parts, const char *what) {
  const std::vector<DeviceArray> t = device_tuple(obj.tuple, 3, arg, what);
  return device_csr<V>(t[0], t[1], &t[2],
                       {element_name(arg, 0, parts[0]), element_name(arg, 1, parts[1]),
                        element_name(arg, 2, parts[2])});
}

// A square matrix's order (its data were checked 2-D by the caller).
inline int64_t square_order(const DeviceArray &a, const std::string &arg) {
  if (a.dim(0) != a.dim(1)) fail(arg, "expected a square matrix");
  return a.dim(0);
}

// The arrays the optimizer's update touches are there: grads for 'none', state1
// for SGD with momentum and Adagrad, state1 and state2 for Adam and Rprop
// (otherwise the kernel would write through a null pointer).
inline void require_states(const OptConfig &c, bool has_grads, bool has_s1, bool has_s2) {
  const bool two = c.kind == Opt::Adam || c.kind == Opt::Rprop;
  const bool one = two || c.kind == Opt::Adagrad || (c.kind == Opt::Sgd && c.momentum != 0.0);
  if (c.kind == Opt::GradOnly && !has_grads) fail("grads", "required when the optimizer is 'none'");
  if (one && !has_s1) fail("state1", "required by this optimizer");
  if (two && !has_s2) fail("state2", "required by this optimizer");
}

void bind_dense_ops(py::module_ &m);     // bias_activation, mul_activation_grad
void bind_ease(py::module_ &m);          // gram_upper, ease_weights_from_inverse, symmetrize_from_upper
void bind_gru(py::module_ &m);           // gru_gates_forward, gru_gates_backward
void bind_loss(py::module_ &m);          // multinomial_nll_grad, masked_mse_grad
void bind_optim(py::module_ &m);         // optimizer_step
void bind_ranking(py::module_ &m);       // fill_pattern
void bind_runtime(py::module_ &m);       // device_count, device_error, runtime_version
void bind_sparse_layer(py::module_ &m);  // autorec_batch, autorec_predict

}  // namespace autorec::bind
