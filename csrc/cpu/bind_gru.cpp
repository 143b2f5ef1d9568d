// Bindings of SVAE's GRU over packed sequences (csrc/cpu/gru.h).
#include "cpu/bind.h"
#include "cpu/gru.h"

namespace autorec::bind {

namespace {

// Packed-sequence step counts: positive, non-increasing; returns their sum.
int64_t check_batch_sizes(const In<int64_t> &bs) {
  check_ndim(bs, 1, "batch_sizes");
  const int64_t *b = bs.data();
  int64_t total = 0;
  for (int64_t t = 0; t < bs.shape(0); ++t) {
    if (b[t] <= 0) fail("batch_sizes", "entries must be positive");
    if (t > 0 && b[t] > b[t - 1]) fail("batch_sizes", "must be non-increasing (sequences sorted by length, longest first)");
    total += b[t];
  }
  return total;
}

template <typename T> void bind_typed(py::module_ &m) {
  m.def(
      "gru_forward",
      [](const In<T> &Xi, const In<int64_t> &batch_sizes, const In<T> &W_hh, const In<T> &b_hh) {
        check_ndim(W_hh, 2, "W_hh");
        const int64_t G = W_hh.shape(0);
        check_shape2(W_hh, G, 3 * G, "W_hh");
        if (b_hh.ndim() != 1 || b_hh.shape(0) != 3 * G) fail("b_hh", "expected shape (3 * hidden,)");
        const int64_t rows = check_batch_sizes(batch_sizes);
        check_shape2(Xi, rows, 3 * G, "Xi");
        py::array_t<T> H({rows, G}), cache({rows, 4 * G});
        T *h = H.mutable_data(), *c = cache.mutable_data();
        {
          py::gil_scoped_release release;
          cpu::gru_forward(Xi.data(), batch_sizes.data(), batch_sizes.shape(0), G, W_hh.data(),
                           b_hh.data(), h, c);
        }
        return py::make_tuple(H, cache);
      },
      py::arg("Xi"), py::arg("batch_sizes"), py::arg("W_hh"), py::arg("b_hh"),
      "GRU over packed sequences (PyTorch gates r, z, n; h0 = 0). Xi = x·W_ih + b_ih "
      "(rows x 3G), W_hh (G x 3G). Returns (H, cache): outputs (rows x G) and r|z|n|hn "
      "(rows x 4G) for gru_backward.");
  m.def(
      "gru_backward",
      [](const In<T> &dH, const In<T> &H, const In<T> &cache, const In<int64_t> &batch_sizes,
         const In<T> &W_hh, Out<T> dW_hh, Out<T> db_hh) {
        check_ndim(W_hh, 2, "W_hh");
        const int64_t G = W_hh.shape(0);
        check_shape2(W_hh, G, 3 * G, "W_hh");
        const int64_t rows = check_batch_sizes(batch_sizes);
        check_shape2(dH, rows, G, "dH");
        check_shape2(H, rows, G, "H");
        check_shape2(cache, rows, 4 * G, "cache");
        check_shape2(dW_hh, G, 3 * G, "dW_hh");
        if (db_hh.ndim() != 1 || db_hh.shape(0) != 3 * G) fail("db_hh", "expected shape (3 * hidden,)");
        T *dw = writable(dW_hh, "dW_hh"), *db = writable(db_hh, "db_hh");
        py::array_t<T> dXi({rows, 3 * G});
        T *dx = dXi.mutable_data();
        {
          py::gil_scoped_release release;
          cpu::gru_backward(dH.data(), H.data(), cache.data(), batch_sizes.data(),
                            batch_sizes.shape(0), G, W_hh.data(), dx, dw, db);
        }
        return dXi;
      },
      py::arg("dH"), py::arg("H"), py::arg("cache"), py::arg("batch_sizes"), py::arg("W_hh"),
      py::arg("dW_hh").noconvert(), py::arg("db_hh").noconvert(),
      "Backward through time of gru_forward: returns dXi (rows x 3G) and adds into dW_hh, db_hh.");
}

}  // namespace

void bind_gru(py::module_ &m) { bind_typed<float>(m); bind_typed<double>(m); }

}  // namespace autorec::bind
