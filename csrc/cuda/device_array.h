// Device arrays at the CUDA binding boundary: any Python object exposing
// __cuda_array_interface__ (CuPy arrays do; the protocol:
// https://numba.readthedocs.io/en/stable/cuda/cuda_array_interface.html),
// read once into a DeviceArray: data pointer, read-only flag, dtype (typestr),
// shape and C-contiguity.
//
// A pybind11 type caster cannot know the name of the argument it loads, and a
// bad argument must raise an error that names it (as the CPU bindings'
// errors do). So loading never fails: what is wrong with an object is kept, and the
// binding's first data<T>(arg, ...) raises it, naming `arg`: TypeError for an
// object without a valid interface or of the wrong dtype, ValueError for a
// mask, a null pointer under a non-empty array, a wrong shape, a
// non-C-contiguous layout, a misaligned pointer or a read-only output.
//
// Only O(1) checks are possible here: the data live in device memory, which the
// host cannot read without a copy and a sync. Contents (index ranges, CSR row
// pointers) are the Python layer's to validate on the host before the upload
// (autorec_fast/_validation.py, check_csr) or are built by our own code.
#pragma once

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>  // std::optional<DeviceArray>: None for a missing array

#include <climits>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/csr.h"  // fail(): ValueError naming the argument

namespace autorec::bind {

namespace py = pybind11;

// A TypeError naming the argument (fail() raises a ValueError).
[[noreturn]] inline void fail_type(const std::string &arg, const std::string &what) {
  throw py::type_error("argument '" + arg + "': " + what);
}

// The interface's typestr of each element type the kernels take, and its NumPy name.
template <typename T> struct DType;
template <> struct DType<float> { static constexpr const char *typestr = "<f4", *name = "float32"; };
template <> struct DType<double> { static constexpr const char *typestr = "<f8", *name = "float64"; };
template <> struct DType<int32_t> { static constexpr const char *typestr = "<i4", *name = "int32"; };
template <> struct DType<int64_t> { static constexpr const char *typestr = "<i8", *name = "int64"; };
template <> struct DType<unsigned long long> {
  static constexpr const char *typestr = "<u8", *name = "uint64";
};

// What a kernel does with an array: reads it, or writes it (then it must be writable).
enum class Use { Read, Write };

// An extent of an expected shape that matches any size.
constexpr int64_t kAnySize = -1;

class DeviceArray {
 public:
  DeviceArray() = default;
  explicit DeviceArray(const py::handle &src);

  // The data as T*, once checked (else a TypeError / ValueError naming `arg`):
  // a valid interface, dtype T, `shape` (kAnySize: any extent), C-contiguous,
  // aligned, writable when the kernel writes it. The second form takes any shape.
  template <typename T> T *data(const std::string &arg, const std::vector<int64_t> &shape, Use use) const {
    check_dtype<T>(arg);
    check_shape(arg, shape);
    return checked_ptr<T>(arg, use);
  }
  template <typename T> T *data(const std::string &arg, Use use) const {
    check_dtype<T>(arg);
    return checked_ptr<T>(arg, use);
  }

  // The float32 or float64 array that decides a call's dtype: anything else is
  // a TypeError naming `arg` (raised before data<T>'s own checks).
  void check_float(const std::string &arg) const {
    raise_if_invalid(arg);
    if (typestr_ != DType<float>::typestr && typestr_ != DType<double>::typestr)
      fail_type(arg, "expected a float32 or float64 device array, got " + dtype_name());
  }

  // Valid interface, with this typestr (the overloads' dtype test; raises nothing).
  bool has_typestr(const char *typestr) const { return error_.empty() && typestr_ == typestr; }

  // Read after a data<T>() call has checked the array.
  const std::vector<int64_t> &shape() const { return shape_; }
  int64_t dim(size_t i) const { return shape_.at(i); }
  int64_t size() const { return size_; }

 private:
  void raise_if_invalid(const std::string &arg) const {
    if (error_.empty()) return;
    if (error_is_type_) fail_type(arg, error_);
    fail(arg, error_);
  }
  template <typename T> void check_dtype(const std::string &arg) const {
    raise_if_invalid(arg);
    if (typestr_ != DType<T>::typestr)
      fail_type(arg, std::string("expected dtype ") + DType<T>::name + ", got " + dtype_name());
  }
  template <typename T> T *checked_ptr(const std::string &arg, Use use) const {
    if (!c_contiguous_) fail(arg, "must be C-contiguous");
    if (use == Use::Write && readonly_) fail(arg, "is read-only, but the kernel writes to it");
    if (ptr_ % alignof(T) != 0) fail(arg, "data pointer is not aligned to its elements");
    return reinterpret_cast<T *>(ptr_);
  }
  void check_shape(const std::string &arg, const std::vector<int64_t> &shape) const;
  std::string dtype_name() const;
  void parse(const py::dict &iface);
  void invalid(const std::string &why, bool type_error = true) {
    error_ = why;
    error_is_type_ = type_error;
  }

  py::object obj_;            // the producer, kept alive for the call
  std::string error_;         // why the object is not a usable device array ('' when it is)
  bool error_is_type_ = true;  // TypeError (no or a malformed interface) or ValueError
  std::uintptr_t ptr_ = 0;
  bool readonly_ = false;
  std::string typestr_;
  size_t itemsize_ = 0;
  std::vector<int64_t> shape_;
  int64_t size_ = 0;
  bool c_contiguous_ = false;
};

// A float array that decides which dtype's overload runs (see bind.h): the
// float overload loads only float32 arrays, the double one everything else, so
// every wrong object reaches a body whose data() names the argument.
template <typename T> class DeviceArrayOf : public DeviceArray {
 public:
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
  using DeviceArray::DeviceArray;
  T *data(const std::string &arg, const std::vector<int64_t> &shape, Use use) const {
    check_float(arg);
    return DeviceArray::data<T>(arg, shape, use);
  }
  T *data(const std::string &arg, Use use) const {
    check_float(arg);
    return DeviceArray::data<T>(arg, use);
  }
};

// A tuple of device arrays given as one argument, read with device_tuple()
// (which names what is wrong); ParamsOf<T>: the parameters (Vt, mu, W, b), whose
// first array decides the dtype, as above.
struct DeviceArrays {
  py::object tuple;
};
template <typename T> struct ParamsOf : DeviceArrays {};

// Whether a loaded object belongs to T's overload: float takes float32 arrays
// only, double (registered last) takes every other object, so its checks can
// name what is wrong.
template <typename T> bool overload_takes(const DeviceArray &a) {
  return !std::is_same_v<T, float> || a.has_typestr(DType<float>::typestr);
}

// An optional array's data (null for None), checked as DeviceArray::data.
template <typename T>
T *data_or_null(const std::optional<DeviceArray> &a, const std::string &arg,
                const std::vector<int64_t> &shape, Use use) {
  return a ? a->data<T>(arg, shape, use) : nullptr;
}

// The n device arrays of a tuple argument (TypeError if it is not a tuple,
// ValueError if its length differs); their own checks come with data().
inline std::vector<DeviceArray> device_tuple(const py::handle &obj, size_t n, const std::string &arg,
                                             const char *what);

// "arg[i] (name)": how a tuple element is named in errors.
inline std::string element_name(const std::string &arg, size_t i, const char *name) {
  return arg + "[" + std::to_string(i) + "] (" + name + ")";
}

// ---- reading the interface ------------------------------------------------

inline std::string type_name(const py::handle &obj) { return Py_TYPE(obj.ptr())->tp_name; }

inline std::string shape_text(const std::vector<int64_t> &shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + (shape[i] == kAnySize ? std::string("*") : std::to_string(shape[i]));
  return s + (shape.size() == 1 ? ",)" : ")");
}

// A Python int as int64_t (false for anything else, or out of range).
inline bool int_value(const py::handle &obj, int64_t *out) {
  if (!py::isinstance<py::int_>(obj)) return false;
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(obj.ptr(), &overflow);
  if (overflow != 0 || (v == -1 && PyErr_Occurred())) {
    PyErr_Clear();
    return false;
  }
  *out = v;
  return true;
}

// A Python int as an address (false for anything else, negative or too large).
inline bool address_value(const py::handle &obj, std::uintptr_t *out) {
  if (!py::isinstance<py::int_>(obj)) return false;
  const unsigned long long v = PyLong_AsUnsignedLongLong(obj.ptr());
  if (PyErr_Occurred()) {
    PyErr_Clear();
    return false;
  }
  *out = static_cast<std::uintptr_t>(v);
  return true;
}

inline DeviceArray::DeviceArray(const py::handle &src)
    : obj_(py::reinterpret_borrow<py::object>(src)) {
  const py::object iface = py::getattr(src, "__cuda_array_interface__", py::none());
  if (iface.is_none()) {
    invalid("expected a device array exposing __cuda_array_interface__ (e.g. a CuPy array), got " +
            type_name(src));
  } else if (!py::isinstance<py::dict>(iface)) {
    invalid("__cuda_array_interface__ is not a dict");
  } else {
    parse(py::reinterpret_borrow<py::dict>(iface));
  }
}

inline void DeviceArray::parse(const py::dict &d) {
  const auto item = [&d](const char *key) { return d.contains(key) ? py::object(d[key]) : py::none(); };
  int64_t v = 0;
  if (!int_value(item("version"), &v)) return invalid("__cuda_array_interface__ has no integer 'version'");
  // 'stream' is not read: the kernels run on the stream the caller passes (the
  // backend: CuPy's current stream, the one CuPy exports here), in order after
  // the work that wrote the arrays.
  const py::object typestr = item("typestr"), shape = item("shape"), data = item("data"),
                   strides = item("strides");
  if (!py::isinstance<py::str>(typestr)) return invalid("'typestr' is not a string");
  typestr_ = typestr.cast<std::string>();
  const size_t digits = typestr_.find_first_not_of("0123456789", 2);
  if (typestr_.size() < 3 || digits != std::string::npos) return invalid("malformed 'typestr' " + typestr_);
  itemsize_ = std::stoul(typestr_.substr(2));
  if (itemsize_ == 0) return invalid("malformed 'typestr' " + typestr_);
  if (!py::isinstance<py::tuple>(shape)) return invalid("'shape' is not a tuple");
  bool empty = false;
  for (const py::handle e : shape) {
    if (!int_value(e, &v) || v < 0) return invalid("'shape' is not a tuple of sizes >= 0");
    shape_.push_back(v);
    empty = empty || v == 0;
  }
  size_ = empty ? 0 : 1;
  for (const int64_t e : shape_) {
    if (!empty && size_ > INT64_MAX / static_cast<int64_t>(itemsize_) / e)
      return invalid("'shape' is too large", false);
    size_ *= e;
  }
  if (!py::isinstance<py::tuple>(data) || py::len(data) != 2 || !address_value(data[py::int_(0)], &ptr_))
    return invalid("'data' is not a (pointer, read-only) tuple");
  readonly_ = py::bool_(data[py::int_(1)]);
  if (item("mask").ptr() != Py_None) return invalid("masked arrays are not supported", false);
  if (ptr_ == 0 && size_ > 0) return invalid("null data pointer for a non-empty array", false);
  // C-contiguous: no strides, or the C strides (extents of 1 may have any stride).
  c_contiguous_ = true;
  if (strides.is_none()) return;
  if (!py::isinstance<py::tuple>(strides) || py::len(strides) != shape_.size())
    return invalid("'strides' is neither None nor a tuple of one stride per dimension");
  int64_t expected = static_cast<int64_t>(itemsize_);
  for (size_t i = shape_.size(); i-- > 0;) {
    if (!int_value(strides[py::int_(i)], &v)) return invalid("'strides' holds a non-integer");
    if (shape_[i] != 1 && v != expected) c_contiguous_ = false;
    expected *= shape_[i];
  }
  c_contiguous_ = c_contiguous_ || size_ == 0;
}

inline void DeviceArray::check_shape(const std::string &arg, const std::vector<int64_t> &shape) const {
  raise_if_invalid(arg);
  if (shape.size() != shape_.size())
    fail(arg, "expected a " + std::to_string(shape.size()) + "-D array, got " +
                  std::to_string(shape_.size()) + "-D");
  for (size_t i = 0; i < shape.size(); ++i)
    if (shape[i] != kAnySize && shape[i] != shape_[i])
      fail(arg, "expected shape " + shape_text(shape) + ", got " + shape_text(shape_));
}

inline std::string DeviceArray::dtype_name() const {
  for (const auto &[typestr, name] : {std::pair{DType<float>::typestr, DType<float>::name},
                                      {DType<double>::typestr, DType<double>::name},
                                      {DType<int32_t>::typestr, DType<int32_t>::name},
                                      {DType<int64_t>::typestr, DType<int64_t>::name},
                                      {DType<unsigned long long>::typestr, DType<unsigned long long>::name}})
    if (typestr_ == typestr) return name;
  return "typestr '" + typestr_ + "'";
}

inline std::vector<DeviceArray> device_tuple(const py::handle &obj, size_t n, const std::string &arg,
                                             const char *what) {
  if (!py::isinstance<py::tuple>(obj))
    fail_type(arg, std::string("expected a tuple ") + what + " of device arrays, got " + type_name(obj));
  const auto t = py::reinterpret_borrow<py::tuple>(obj);
  if (t.size() != n)
    fail(arg, std::string("expected a tuple ") + what + " of " + std::to_string(n) + " device arrays, got " +
                  std::to_string(t.size()) + " items");
  std::vector<DeviceArray> out;
  for (const py::handle e : t) out.emplace_back(e);
  return out;
}

}  // namespace autorec::bind

namespace pybind11::detail {

template <> struct type_caster<autorec::bind::DeviceArray> {
  PYBIND11_TYPE_CASTER(autorec::bind::DeviceArray, const_name("DeviceArray"));
  bool load(handle src, bool /*convert*/) {
    value = autorec::bind::DeviceArray(src);
    return true;  // errors are raised by the binding, which knows the argument's name
  }
};

// "float32" or "float64" in the signatures pybind11 writes.
template <typename T> constexpr auto float_name() {
  return const_name<std::is_same_v<T, float>>("float32", "float64");
}

template <typename T> struct type_caster<autorec::bind::DeviceArrayOf<T>> {
  PYBIND11_TYPE_CASTER(autorec::bind::DeviceArrayOf<T>,
                       const_name("DeviceArray[") + float_name<T>() + const_name("]"));
  bool load(handle src, bool /*convert*/) {
    value = autorec::bind::DeviceArrayOf<T>(src);
    return autorec::bind::overload_takes<T>(value);
  }
};

template <> struct type_caster<autorec::bind::DeviceArrays> {
  PYBIND11_TYPE_CASTER(autorec::bind::DeviceArrays, const_name("tuple[DeviceArray, ...]"));
  bool load(handle src, bool /*convert*/) {
    value.tuple = reinterpret_borrow<object>(src);
    return true;  // as DeviceArray's
  }
};

template <typename T> struct type_caster<autorec::bind::ParamsOf<T>> {
  PYBIND11_TYPE_CASTER(autorec::bind::ParamsOf<T>,
                       const_name("tuple[DeviceArray[") + float_name<T>() + const_name("], ...]"));
  bool load(handle src, bool /*convert*/) {
    value.tuple = reinterpret_borrow<object>(src);
    if (!std::is_same_v<T, float>) return true;  // see overload_takes
    if (!isinstance<tuple>(src) || len(src) == 0) return false;
    return autorec::bind::overload_takes<T>(autorec::bind::DeviceArray(reinterpret_borrow<tuple>(src)[0]));
  }
};

}  // namespace pybind11::detail
