// BLAS/LAPACK reached through SciPy's bundled OpenBLAS.
//
// SciPy exports its BLAS/LAPACK wrappers as PyCapsules (scipy.linalg.cython_blas
// and cython_lapack `__pyx_capi__`). The Python layer hands those capsules to
// `init_from_capsules` at import time, so the wheel links no BLAS of its own and
// needs no system BLAS. Fortran calling convention: column-major, 32-bit ints,
// every argument by pointer.
//
// Threading rule: call these only from serial code, never inside an OpenMP
// parallel region. OpenBLAS runs its own thread pool; calling it from OpenMP
// workers would multiply the thread count and oversubscribe the cores.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>

namespace autorec::blas {

template <typename T> struct Fn {
  using potrf_t = void (*)(char *uplo, int *n, T *a, int *lda, int *info);
  using potri_t = void (*)(char *uplo, int *n, T *a, int *lda, int *info);
  using gemm_t = void (*)(char *transa, char *transb, int *m, int *n, int *k, T *alpha,
                          T *a, int *lda, T *b, int *ldb, T *beta, T *c, int *ldc);
};

struct Table {
  Fn<float>::potrf_t spotrf = nullptr;
  Fn<double>::potrf_t dpotrf = nullptr;
  Fn<float>::potri_t spotri = nullptr;
  Fn<double>::potri_t dpotri = nullptr;
  Fn<float>::gemm_t sgemm = nullptr;
  Fn<double>::gemm_t dgemm = nullptr;
};

const Table &table();  // throws if init_from_capsules has not run
void init_from_capsules(const pybind11::dict &lapack_capi, const pybind11::dict &blas_capi);

template <typename T> typename Fn<T>::potrf_t potrf();
template <typename T> typename Fn<T>::potri_t potri();
template <typename T> typename Fn<T>::gemm_t gemm();

}  // namespace autorec::blas

namespace autorec::cpu {

// Row-major C (m x n) = alpha op(A) op(B) + beta C through the BLAS table.
// Serial code only (OpenBLAS runs its own threads).
template <typename T>
void gemm_rowmajor(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha,
                   const T *A, int64_t lda, const T *B, int64_t ldb, T beta, T *C, int64_t ldc);

}  // namespace autorec::cpu
