// The _cpu extension's bindings, one bind_<area>.cpp per kernel area, and what
// they share. Every entry point checks its arguments first (a ValueError naming
// the argument), then releases the GIL around the kernel.
//
// dtype dispatch, one style everywhere: an area's float32/float64 functions are
// written once in a template over T (bind_typed<T> in its file), which
// bind_<area> registers for float, then double, as pybind11 overloads; its
// dtype-free functions, if any, are in bind_untyped. The arguments' types pick
// the overload: the array that decides (an output, or the parameters) is typed
// Typed<T> / Out<T> with .noconvert(), so only its own dtype's overload accepts
// it; inputs typed In<T> are converted to that dtype. A call that no overload
// matches exactly takes the first one (float) that converts.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "common/array_args.h"
#include "common/optimizer.h"

namespace autorec::bind {

namespace py = pybind11;

// An array of dtype T in any layout (the kernels' own checks follow, e.g.
// state_ptr); with .noconvert() it selects the T overload.
template <typename T> using Typed = py::array_t<T>;

void bind_blas(py::module_ &m);          // _init_blas, gemm
void bind_dense_ops(py::module_ &m);     // bias_activation, mul_activation_grad, sampled_dot, ...
void bind_ease(py::module_ &m);          // gram_upper, cholesky_inverse_upper, ease_weights_from_inverse
void bind_gru(py::module_ &m);           // gru_forward, gru_backward
void bind_loss(py::module_ &m);          // multinomial_nll_grad, logistic_loss_grad, masked_mse_grad
void bind_optim(py::module_ &m);         // optimizer_step
void bind_ranking(py::module_ &m);       // csr_matmul_dense, topk_exclude, first_hit_rank, hits_at_k
void bind_runtime(py::module_ &m);       // get_num_threads, set_num_threads
void bind_sampling(py::module_ &m);      // sample_negatives
void bind_sparse_layer(py::module_ &m);  // autorec_batch, autorec_encode, ..., transpose_pattern

// ---- argument checks shared by the areas ------------------------------------

inline void check_square(const py::array &a, const std::string &arg) {
  check_ndim(a, 2, arg);
  if (a.shape(0) != a.shape(1)) fail(arg, "expected a square matrix");
}

inline void check_shape2(const py::array &a, int64_t rows, int64_t cols, const std::string &arg) {
  check_ndim(a, 2, arg);
  if (a.shape(0) != rows || a.shape(1) != cols)
    fail(arg, "expected shape (" + std::to_string(rows) + ", " + std::to_string(cols) + "), got (" +
                  std::to_string(a.shape(0)) + ", " + std::to_string(a.shape(1)) + ")");
}

// A writable, C-contiguous array of dtype T with `size` elements, or a clear error.
template <typename T> T *state_ptr(const py::handle &obj, int64_t size, const std::string &arg) {
  if (!py::isinstance<py::array>(obj)) fail(arg, "expected a NumPy array");
  auto a = py::reinterpret_borrow<py::array>(obj);
  if (!a.dtype().is(py::dtype::of<T>())) fail(arg, "dtype differs from the parameters'");
  if (!(a.flags() & py::array::c_style)) fail(arg, "must be C-contiguous");
  if (!a.writeable()) fail(arg, "must be writable");
  if (a.size() != size) fail(arg, "size " + std::to_string(a.size()) + ", expected " + std::to_string(size));
  return static_cast<T *>(a.mutable_data());
}

// state_ptr, or null for None.
template <typename T>
T *state_ptr_or_null(const py::handle &obj, int64_t size, const std::string &arg) {
  return obj.is_none() ? nullptr : state_ptr<T>(obj, size, arg);
}

// One parameter's slot: the array itself plus optional grad / state arrays of its size.
template <typename T>
Slot<T> make_slot(const py::handle &param, const py::object &grad, const py::object &s1,
                  const py::object &s2, int64_t size, const std::string &arg) {
  return Slot<T>{state_ptr<T>(param, size, arg), state_ptr_or_null<T>(grad, size, "grad"),
                 state_ptr_or_null<T>(s1, size, "state1"), state_ptr_or_null<T>(s2, size, "state2")};
}

// A 2-D array updated in place and the activation code that comes with it, checked.
template <typename T> struct RowsInPlace {
  T *data;
  int64_t rows, n;
  Act f;
};
template <typename T>
RowsInPlace<T> rows_in_place(const Typed<T> &a, const char *name, int activation) {
  check_ndim(a, 2, name);
  const Act f = act_of(activation, "activation");
  return {state_ptr<T>(a, a.size(), name), a.shape(0), a.shape(1), f};
}

// The optimizer's state arrays are there (grad for 'none', state1/state2 as it needs).
inline void check_slot_for(const OptConfig &c, bool has_grad, bool has_s1, bool has_s2) {
  if (c.kind == Opt::GradOnly && !has_grad) fail("grad", "required when the optimizer is 'none'");
  if ((c.kind == Opt::Adam || c.kind == Opt::Rprop) && !(has_s1 && has_s2))
    fail("state1", "state1 and state2 are required");
  if ((c.kind == Opt::Adagrad || (c.kind == Opt::Sgd && c.momentum != 0)) && !has_s1)
    fail("state1", "required by this optimizer");
}

}  // namespace autorec::bind
