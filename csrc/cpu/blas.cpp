#include "cpu/blas.h"

#include <stdexcept>
#include <string>

namespace py = pybind11;

namespace autorec::blas {
namespace {
Table g_table;
bool g_ready = false;

template <typename F> F from_capsule(const py::dict &capi, const char *name) {
  if (!capi.contains(name)) {
    throw std::runtime_error(std::string("SciPy does not export the LAPACK/BLAS routine ") + name);
  }
  py::object cap = capi[name];
  PyObject *obj = cap.ptr();
  const char *sig = PyCapsule_GetName(obj);
  void *ptr = PyCapsule_GetPointer(obj, sig);
  if (ptr == nullptr) throw py::error_already_set();
  return reinterpret_cast<F>(ptr);
}
}  // namespace

void init_from_capsules(const py::dict &lapack_capi, const py::dict &blas_capi) {
  Table t;
  t.spotrf = from_capsule<Fn<float>::potrf_t>(lapack_capi, "spotrf");
  t.dpotrf = from_capsule<Fn<double>::potrf_t>(lapack_capi, "dpotrf");
  t.spotri = from_capsule<Fn<float>::potri_t>(lapack_capi, "spotri");
  t.dpotri = from_capsule<Fn<double>::potri_t>(lapack_capi, "dpotri");
  t.sgemm = from_capsule<Fn<float>::gemm_t>(blas_capi, "sgemm");
  t.dgemm = from_capsule<Fn<double>::gemm_t>(blas_capi, "dgemm");
  g_table = t;
  g_ready = true;
}

const Table &table() {
  if (!g_ready) throw std::runtime_error("autorec_fast: BLAS/LAPACK table not initialised");
  return g_table;
}

template <> Fn<float>::potrf_t potrf<float>() { return table().spotrf; }
template <> Fn<double>::potrf_t potrf<double>() { return table().dpotrf; }
template <> Fn<float>::potri_t potri<float>() { return table().spotri; }
template <> Fn<double>::potri_t potri<double>() { return table().dpotri; }
template <> Fn<float>::gemm_t gemm<float>() { return table().sgemm; }
template <> Fn<double>::gemm_t gemm<double>() { return table().dgemm; }

}  // namespace autorec::blas
