// The _cuda extension: pybind11 bindings of the CUDA kernels, one
// bind_<area>.cpp per kernel area (see bind.h for what they share). Without a
// device the module still imports; device_count() then reports 0 and
// device_error() says why.
#include "common/bind_codes.h"
#include "cuda/bind.h"

PYBIND11_MODULE(_cuda, m) {
  using namespace autorec::bind;
  m.doc() = "autorec_fast CUDA kernels (on device arrays: CuPy arrays or any __cuda_array_interface__)";
  bind_codes(m);
  bind_runtime(m);
  bind_ease(m);
  bind_ranking(m);
  bind_sparse_layer(m);
  bind_loss(m);
  bind_optim(m);
  bind_dense_ops(m);
  bind_gru(m);
}
