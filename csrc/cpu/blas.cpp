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

namespace autorec::cpu {

template <typename T>
void gemm_rowmajor(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha,
                   const T *A, int64_t lda, const T *B, int64_t ldb, T beta, T *C, int64_t ldc) {
  if (m == 0 || n == 0) return;
  // Row-major C = op(A) op(B) is column-major Cᵀ = op(B)ᵀ op(A)ᵀ: swap the operands.
  char ta = trans_b ? 'T' : 'N', tb = trans_a ? 'T' : 'N';
  int M = static_cast<int>(n), N = static_cast<int>(m), K = static_cast<int>(k);
  int la = static_cast<int>(ldb), lb = static_cast<int>(lda), lc = static_cast<int>(ldc);
  if (K == 0) {  // BLAS would still scale C by beta; do the same without reading A/B
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) C[i * ldc + j] = beta == T(0) ? T(0) : beta * C[i * ldc + j];
    return;
  }
  blas::gemm<T>()(&ta, &tb, &M, &N, &K, &alpha, const_cast<T *>(B), &la, const_cast<T *>(A), &lb,
                  &beta, C, &lc);
}

template void gemm_rowmajor<float>(bool, bool, int64_t, int64_t, int64_t, float, const float *,
                                   int64_t, const float *, int64_t, float, float *, int64_t);
template void gemm_rowmajor<double>(bool, bool, int64_t, int64_t, int64_t, double, const double *,
                                    int64_t, const double *, int64_t, double, double *, int64_t);

}  // namespace autorec::cpu
