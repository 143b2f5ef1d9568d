// Bindings of the dense-layer passes (csrc/cpu/dense_ops.h).
#include "cpu/bind.h"
#include "cpu/dense_ops.h"

namespace autorec::bind {

namespace {

template <typename T> void bind_typed(py::module_ &m) {
  m.def(
      "bias_activation",
      [](const Typed<T> &Z, const py::object &bias, int activation) {
        const RowsInPlace<T> z = rows_in_place(Z, "Z", activation);
        const T *b = state_ptr_or_null<T>(bias, z.n, "bias");
        py::gil_scoped_release release;
        cpu::bias_activation(z.data, z.rows, z.n, b, z.f);
      },
      py::arg("Z").noconvert(), py::arg("bias"), py::arg("activation"), "In place: Z <- f(Z + bias).");
  m.def(
      "mul_activation_grad",
      [](const Typed<T> &D, const py::array &H, int activation) {
        const RowsInPlace<T> d = rows_in_place(D, "D", activation);
        const T *h = state_ptr<T>(H, D.size(), "H");
        py::gil_scoped_release release;
        cpu::mul_activation_grad(d.data, h, d.rows, d.n, d.f);
      },
      py::arg("D").noconvert(), py::arg("H"), py::arg("activation"),
      "In place: D *= f'(H), H the activation's output.");
  m.def(
      "sampled_dot",
      [](const In<T> &A, const In<T> &B, const In<int64_t> &rows, const In<int64_t> &cols) {
        check_ndim(A, 2, "A");
        check_ndim(B, 2, "B");
        check_ndim(rows, 1, "rows");
        check_ndim(cols, 1, "cols");
        const int64_t k = A.shape(1), n = rows.shape(0);
        if (B.shape(1) != k) fail("B", "must have as many columns as A");
        if (cols.shape(0) != n) fail("cols", "must have as many entries as rows");
        const int64_t *pr = rows.data(), *pc = cols.data();
        for (int64_t p = 0; p < n; ++p) {
          if (pr[p] < 0 || pr[p] >= A.shape(0)) fail("rows", "index out of range");
          if (pc[p] < 0 || pc[p] >= B.shape(0)) fail("cols", "index out of range");
        }
        py::array_t<T> out(n);
        T *o = out.mutable_data();
        {
          py::gil_scoped_release release;
          cpu::sampled_dot(A.data(), B.data(), k, pr, pc, n, o);
        }
        return out;
      },
      py::arg("A"), py::arg("B"), py::arg("rows"), py::arg("cols"),
      "out[p] = A[rows[p]] . B[cols[p]]: a product evaluated at the given pairs only.");
  m.def(
      "scatter_add_rows",
      [](const In<int64_t> &idx, const In<T> &src, Out<T> out) {
        check_ndim(idx, 1, "idx");
        check_ndim(out, 2, "out");
        const int64_t n = idx.shape(0), d = out.shape(1);
        check_shape2(src, n, d, "src");
        const int64_t *ix = idx.data();
        for (int64_t i = 0; i < n; ++i)
          if (ix[i] < 0 || ix[i] >= out.shape(0)) fail("idx", "row index out of range");
        T *o = writable(out, "out");
        py::gil_scoped_release release;
        cpu::scatter_add_rows(ix, n, src.data(), d, o);
      },
      py::arg("idx"), py::arg("src"), py::arg("out").noconvert(),
      "out[idx[i]] += src[i] for every row i (duplicates add up).");
  m.def(
      "squared_norm",
      [](const In<T> &x) {
        const T *p = x.data();
        const int64_t n = x.size();
        py::gil_scoped_release release;
        return cpu::squared_norm(p, n);
      },
      py::arg("x"), "Σ x² over all elements, accumulated in float64.");
}

}  // namespace

void bind_dense_ops(py::module_ &m) { bind_typed<float>(m); bind_typed<double>(m); }

}  // namespace autorec::bind
