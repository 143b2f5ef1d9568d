// The _cpu extension: pybind11 bindings of the OpenMP kernels, one
// bind_<area>.cpp per kernel area (see bind.h for what they share).
#include "common/bind_codes.h"
#include "cpu/bind.h"

PYBIND11_MODULE(_cpu, m) {
  using namespace autorec::bind;
  m.doc() = "autorec_fast CPU kernels (C++ / OpenMP; BLAS and LAPACK through SciPy's OpenBLAS)";
  bind_blas(m);
  bind_codes(m);
  bind_runtime(m);
  bind_ease(m);
  bind_ranking(m);
  bind_sparse_layer(m);
  bind_optim(m);
  bind_loss(m);
  bind_dense_ops(m);
  bind_sampling(m);
  bind_gru(m);
}
