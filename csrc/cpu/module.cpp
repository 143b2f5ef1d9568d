// The _cpu extension: pybind11 bindings of the OpenMP kernels. Every entry point
// checks its arguments first, then releases the GIL around the kernel.
#include <omp.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <limits>
#include <optional>
#include <type_traits>
#include <vector>

#include "common/array_args.h"
#include "cpu/vec.h"
#include "cpu/sparse_layer.h"
#include "cpu/blas.h"
#include "cpu/dense_ops.h"
#include "cpu/loss.h"
#include "cpu/optim.h"
#include "cpu/ease.h"
#include "cpu/gru.h"
#include "cpu/ranking.h"
#include "cpu/sampling.h"
#include "cpu/transpose.h"

namespace py = pybind11;
using namespace autorec;

namespace {

template <typename T> void check_square(const py::array &a, const std::string &arg) {
  check_ndim(a, 2, arg);
  if (a.shape(0) != a.shape(1)) fail(arg, "expected a square matrix");
}

template <typename T>
void bind_dtype(py::module_ &m) {
  m.def(
      "gram_upper",
      [](const In<int64_t> &indptr, const In<int32_t> &indices, const In<T> &data, Out<T> out) {
        check_square<T>(out, "out");
        const int64_t n = out.shape(0);
        auto X = csr_view<T>(indptr, indices, data.data(), data.size(), n, "X");
        T *G = writable(out, "out");
        py::gil_scoped_release release;
        cpu::gram_upper(X, G);
      },
      py::arg("indptr"), py::arg("indices"), py::arg("data"), py::arg("out").noconvert(),
      "out += upper triangle of X^T X (row-major, j >= i) for the CSR matrix X.");
  m.def(
      "cholesky_inverse_upper",
      [](Out<T> a) {
        check_square<T>(a, "a");
        T *p = writable(a, "a");
        const int64_t n = a.shape(0);
        py::gil_scoped_release release;
        return cpu::cholesky_inverse_upper(p, n);
      },
      py::arg("a").noconvert(),
      "In place: SPD matrix (upper triangle, row-major) -> its inverse in the upper triangle "
      "(LAPACK potrf + potri). Returns LAPACK info.");
  m.def(
      "ease_weights_from_inverse",
      [](Out<T> a) {
        check_square<T>(a, "a");
        T *p = writable(a, "a");
        const int64_t n = a.shape(0);
        py::gil_scoped_release release;
        cpu::ease_weights_from_inverse(p, n);
      },
      py::arg("a").noconvert(), "In place: inverse P (upper triangle) -> EASE weights B.");
  m.def(
      "ease_fit",
      [](const In<int64_t> &indptr, const In<int32_t> &indices, const In<T> &data, double l2,
         Out<T> out) {
        if (!(l2 > 0) || !std::isfinite(l2)) fail("l2", "must be a finite number > 0");
        check_square<T>(out, "out");
        const int64_t n = out.shape(0);
        auto X = csr_view<T>(indptr, indices, data.data(), data.size(), n, "X");
        T *B = writable(out, "out");
        py::gil_scoped_release release;
        cpu::ease_fit(X, static_cast<T>(l2), B);
      },
      py::arg("indptr"), py::arg("indices"), py::arg("data"), py::arg("l2"),
      py::arg("out").noconvert(),
      "EASE weights in the caller's zeroed n x n buffer (the only large allocation).");
  m.def(
      "csr_matmul_dense",
      [](const In<int64_t> &indptr, const In<int32_t> &indices, const In<T> &data, const In<T> &W,
         Out<T> out) {
        check_ndim(W, 2, "W");
        check_ndim(out, 2, "out");
        auto X = csr_view<T>(indptr, indices, data.data(), data.size(), W.shape(0), "X");
        if (out.shape(0) != X.n_rows || out.shape(1) != W.shape(1))
          fail("out", "shape must be (X rows, W columns)");
        T *o = writable(out, "out");
        const T *w = W.data();
        const int64_t m = W.shape(1);
        py::gil_scoped_release release;
        cpu::csr_matmul_dense(X, w, m, o);
      },
      py::arg("indptr"), py::arg("indices"), py::arg("data"), py::arg("W").noconvert(),
      py::arg("out").noconvert(), "out = X @ W for CSR X and dense row-major W.");
  m.def(
      "topk_exclude",
      [](const In<T> &scores, std::optional<In<int64_t>> ex_indptr,
         std::optional<In<int32_t>> ex_indices, int64_t k) {
        check_ndim(scores, 2, "scores");
        const int64_t n_rows = scores.shape(0), n_items = scores.shape(1);
        if (k <= 0) fail("k", "must be >= 1");
        if (k > n_items) fail("k", "must be <= the number of items (" + std::to_string(n_items) + ")");
        std::optional<CsrView<float>> ex;
        if (ex_indptr.has_value() != ex_indices.has_value())
          fail("exclude", "give both indptr and indices, or neither");
        if (ex_indptr) {
          ex = csr_view<float>(*ex_indptr, *ex_indices, nullptr, 0, n_items, "exclude");
          if (ex->n_rows != n_rows) fail("exclude", "must have one row per row of scores");
        }
        py::array_t<int64_t> idx({n_rows, k});
        py::array_t<T> val({n_rows, k});
        int64_t *pi = idx.mutable_data();
        T *pv = val.mutable_data();
        const T *s = scores.data();
        {
          py::gil_scoped_release release;
          cpu::topk_exclude(s, n_rows, n_items, ex ? &*ex : nullptr, k, pi, pv);
        }
        return py::make_tuple(idx, val);
      },
      py::arg("scores").noconvert(), py::arg("exclude_indptr") = py::none(),
      py::arg("exclude_indices") = py::none(), py::arg("k"),
      "Top-k item indices and scores per row, excluded items skipped.");
  m.def(
      "first_hit_rank",
      [](const In<T> &scores, std::optional<In<int64_t>> ex_indptr,
         std::optional<In<int32_t>> ex_indices, const In<int64_t> &tg_indptr,
         const In<int32_t> &tg_indices) {
        check_ndim(scores, 2, "scores");
        const int64_t n_rows = scores.shape(0), n_items = scores.shape(1);
        std::optional<CsrView<float>> ex;
        if (ex_indptr.has_value() != ex_indices.has_value())
          fail("exclude", "give both indptr and indices, or neither");
        if (ex_indptr) {
          ex = csr_view<float>(*ex_indptr, *ex_indices, nullptr, 0, n_items, "exclude");
          if (ex->n_rows != n_rows) fail("exclude", "must have one row per row of scores");
        }
        auto tg = csr_view<float>(tg_indptr, tg_indices, nullptr, 0, n_items, "targets");
        if (tg.n_rows != n_rows) fail("targets", "must have one row per row of scores");
        py::array_t<int64_t> rank(n_rows);
        int64_t *pr = rank.mutable_data();
        const T *s = scores.data();
        {
          py::gil_scoped_release release;
          cpu::first_hit_rank(s, n_rows, n_items, ex ? &*ex : nullptr, tg, pr);
        }
        return rank;
      },
      py::arg("scores").noconvert(), py::arg("exclude_indptr"), py::arg("exclude_indices"),
      py::arg("target_indptr"), py::arg("target_indices"),
      "1-based full-ranking rank of each row's best target (0: no target).");
}

// ---- AutoRec ------------------------------------------------------------------

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

// params = (Vt, mu, W, b); grads / s1 / s2: tuples of arrays shaped like params, or None.
template <typename T>
cpu::AutoRecNet<T> make_net(const py::tuple &params, const py::object &grads, const py::object &s1,
                            const py::object &s2, int hidden, int output) {
  if (params.size() != 4) fail("params", "expected (Vt, mu, W, b)");
  auto Vt = py::reinterpret_borrow<py::array>(params[0]);
  auto W = py::reinterpret_borrow<py::array>(params[2]);
  check_ndim(Vt, 2, "params[0] (Vt)");
  check_ndim(W, 2, "params[2] (W)");
  cpu::AutoRecNet<T> net;
  net.n_in = Vt.shape(0);
  net.k = Vt.shape(1);
  net.n_out = W.shape(0);
  if (W.shape(1) != net.k) fail("params[2] (W)", "must have as many columns as Vt (the hidden size)");
  const int64_t sizes[4] = {net.n_in * net.k, net.k, net.n_out * net.k, net.n_out};
  const char *names[4] = {"Vt", "mu", "W", "b"};
  Slot<T> *slots[4] = {&net.Vt, &net.mu, &net.W, &net.b};
  auto pick = [&](const py::object &tup, const char *what, int i) -> T * {
    if (tup.is_none()) return nullptr;
    auto t = py::reinterpret_borrow<py::tuple>(tup);
    if (t.size() != 4) fail(what, "expected a tuple of 4 arrays");
    return state_ptr<T>(t[i], sizes[i], std::string(what) + "[" + std::to_string(i) + "]");
  };
  for (int i = 0; i < 4; ++i) {
    slots[i]->param = state_ptr<T>(params[i], sizes[i], std::string("params (") + names[i] + ")");
    slots[i]->grad = pick(grads, "grads", i);
    slots[i]->s1 = pick(s1, "state1", i);
    slots[i]->s2 = pick(s2, "state2", i);
  }
  net.hidden = act_of(hidden, "hidden_activation");
  net.output = act_of(output, "output_activation");
  return net;
}

// One parameter's slot: the array itself plus optional grad / state arrays of its size.
template <typename T>
Slot<T> make_slot(const py::handle &param, const py::object &grad, const py::object &s1,
                  const py::object &s2, int64_t size, const std::string &arg) {
  Slot<T> s{state_ptr<T>(param, size, arg), nullptr, nullptr, nullptr};
  if (!grad.is_none()) s.grad = state_ptr<T>(grad, size, "grad");
  if (!s1.is_none()) s.s1 = state_ptr<T>(s1, size, "state1");
  if (!s2.is_none()) s.s2 = state_ptr<T>(s2, size, "state2");
  return s;
}

void check_slot_for(const OptConfig &c, bool has_grad, bool has_s1, bool has_s2) {
  if (c.kind == Opt::GradOnly && !has_grad) fail("grad", "required when the optimizer is 'none'");
  if ((c.kind == Opt::Adam || c.kind == Opt::Rprop) && !(has_s1 && has_s2))
    fail("state1", "state1 and state2 are required");
  if ((c.kind == Opt::Adagrad || (c.kind == Opt::Sgd && c.momentum != 0)) && !has_s1)
    fail("state1", "required by this optimizer");
}

// The optimizer's state arrays must be there (checked on Vt; make_net checked all shapes).
template <typename T> void check_slots_for(const OptConfig &c, const cpu::AutoRecNet<T> &n) {
  switch (c.kind) {
    case Opt::GradOnly:
      if (!n.Vt.grad) fail("grads", "required when the optimizer is 'none'");
      break;
    case Opt::Sgd:
      if (c.momentum != 0 && !n.Vt.s1) fail("state1", "required for SGD with momentum");
      break;
    case Opt::Adagrad:
      if (!n.Vt.s1) fail("state1", "required for Adagrad");
      break;
    case Opt::Adam:
    case Opt::Rprop:
      if (!n.Vt.s1 || !n.Vt.s2) fail("state1", "state1 and state2 are required");
      break;
  }
}

template <typename T>
double autorec_batch_typed(const py::array &in_indptr, const py::array &in_indices,
                           const py::array &in_data, const py::array &tg_indptr,
                           const py::array &tg_indices, const py::array &tg_data,
                           const py::tuple &params, const py::object &grads, const py::object &s1,
                           const py::object &s2, int hidden, int output, double l2_scale,
                           const OptConfig &opt, int loss, const py::object &rows) {
  auto net = make_net<T>(params, grads, s1, s2, hidden, output);
  if (loss < 0 || loss > 1) fail("loss", "unknown loss code " + std::to_string(loss));
  net.loss = static_cast<Loss>(loss);
  check_slots_for(opt, net);
  In<int64_t> xip = In<int64_t>::ensure(in_indptr), yip = In<int64_t>::ensure(tg_indptr);
  In<int32_t> xix = In<int32_t>::ensure(in_indices), yix = In<int32_t>::ensure(tg_indices);
  In<T> xd = In<T>::ensure(in_data), yd = In<T>::ensure(tg_data);
  if (!xip || !yip || !xix || !yix || !xd || !yd) throw py::error_already_set();
  CsrView<T> X, Y;
  if (rows.is_none()) {
    X = csr_view<T>(xip, xix, xd.data(), xd.size(), net.n_in, "inputs");
    Y = csr_view<T>(yip, yix, yd.data(), yd.size(), net.n_out, "targets");
  } else {  // inputs and targets are whole matrices; the batch is their rows `rows`
    In<int64_t> r = In<int64_t>::ensure(rows);
    if (!r) throw py::error_already_set();
    thread_local CsrRows<T> x_rows, y_rows;  // storage kept across batches
    X = x_rows.gather(xip, xix, xd, r, net.n_in, "inputs");
    const bool same = in_indptr.is(tg_indptr) && in_indices.is(tg_indices) && in_data.is(tg_data);
    if (same && net.n_in == net.n_out) {
      Y = X;  // one copy: the kernel sees one pattern for both
    } else {
      Y = y_rows.gather(yip, yix, yd, r, net.n_out, "targets");
    }
  }
  if (X.n_rows != Y.n_rows) fail("targets", "must have as many rows as inputs");
  py::gil_scoped_release release;
  return cpu::autorec_batch(X, Y, net, static_cast<T>(l2_scale), opt);
}

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

void check_shape2(const py::array &a, int64_t rows, int64_t cols, const std::string &arg) {
  check_ndim(a, 2, arg);
  if (a.shape(0) != rows || a.shape(1) != cols)
    fail(arg, "expected shape (" + std::to_string(rows) + ", " + std::to_string(cols) + "), got (" +
                  std::to_string(a.shape(0)) + ", " + std::to_string(a.shape(1)) + ")");
}

template <typename T> void bind_gru(py::module_ &m) {
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
  m.def(
      "squared_norm",
      [](const In<T> &x) {
        const T *p = x.data();
        const int64_t n = x.size();
        py::gil_scoped_release release;
        return cpu::squared_norm(p, n);
      },
      py::arg("x"), "Σ x² over all elements, accumulated in float64.");
  m.def(
      "gemm",
      [](const In<T> &A, bool trans_a, const In<T> &B, bool trans_b, Out<T> C, double alpha,
         double beta) {
        check_ndim(A, 2, "A");
        check_ndim(B, 2, "B");
        check_ndim(C, 2, "C");
        const int64_t m = trans_a ? A.shape(1) : A.shape(0), k = trans_a ? A.shape(0) : A.shape(1);
        const int64_t kb = trans_b ? B.shape(1) : B.shape(0), n = trans_b ? B.shape(0) : B.shape(1);
        if (k != kb) fail("B", "inner dimensions differ");
        check_shape2(C, m, n, "C");
        const int64_t lim = std::numeric_limits<int>::max();
        if (A.shape(0) > lim || A.shape(1) > lim || B.shape(0) > lim || B.shape(1) > lim)
          fail("A", "dimension too large for 32-bit BLAS");
        T *c = writable(C, "C");
        py::gil_scoped_release release;
        cpu::gemm_rowmajor<T>(trans_a, trans_b, m, n, k, static_cast<T>(alpha), A.data(), A.shape(1),
                              B.data(), B.shape(1), static_cast<T>(beta), c, n);
      },
      py::arg("A"), py::arg("trans_a"), py::arg("B"), py::arg("trans_b"), py::arg("C").noconvert(),
      py::arg("alpha") = 1.0, py::arg("beta") = 0.0,
      "C = alpha op(A) op(B) + beta C (row-major) through SciPy's OpenBLAS.");
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
}

}  // namespace

PYBIND11_MODULE(_cpu, m) {
  m.doc() = "autorec_fast CPU kernels (C++ / OpenMP; BLAS and LAPACK through SciPy's OpenBLAS)";
  m.def("_init_blas", &blas::init_from_capsules, py::arg("lapack_capi"), py::arg("blas_capi"),
        "Take SciPy's cython_lapack / cython_blas __pyx_capi__ capsules.");
  bind_dtype<float>(m);
  bind_dtype<double>(m);
  bind_gru<float>(m);
  bind_gru<double>(m);
  m.def(
      "hits_at_k",
      [](const In<int64_t> &topk, const In<int64_t> &tg_indptr, const In<int32_t> &tg_indices,
         int64_t n_items) {
        check_ndim(topk, 2, "topk");
        const int64_t n_rows = topk.shape(0), k = topk.shape(1);
        auto tg = csr_view<float>(tg_indptr, tg_indices, nullptr, 0, n_items, "targets");
        if (tg.n_rows != n_rows) fail("targets", "must have one row per row of topk");
        const int64_t *t = topk.data();
        for (int64_t i = 0; i < n_rows * k; ++i)
          if (t[i] >= n_items) fail("topk", "item index out of range");
        py::array_t<uint8_t> hits({n_rows, k});
        uint8_t *h = hits.mutable_data();
        {
          py::gil_scoped_release release;
          cpu::hits_at_k(t, n_rows, k, tg, h);
        }
        return hits;
      },
      py::arg("topk"), py::arg("target_indptr"), py::arg("target_indices"), py::arg("n_items"),
      "hits[r, i] = 1 when topk[r, i] is a target of row r.");
  m.def(
      "autorec_batch",
      [](const py::array &in_indptr, const py::array &in_indices, const py::array &in_data,
         const py::array &tg_indptr, const py::array &tg_indices, const py::array &tg_data,
         const py::tuple &params, const py::object &grads, const py::object &state1,
         const py::object &state2, int hidden_activation, int output_activation, double l2_scale,
         int optimizer, double lr, double beta1, double beta2, double eps, double momentum,
         int64_t step, int loss, const py::object &rows) {
        const OptConfig opt = make_opt_config(optimizer, lr, beta1, beta2, eps, momentum, step);
        auto Vt = py::reinterpret_borrow<py::array>(params[0]);
        if (Vt.dtype().is(py::dtype::of<float>()))
          return autorec_batch_typed<float>(in_indptr, in_indices, in_data, tg_indptr, tg_indices,
                                            tg_data, params, grads, state1, state2,
                                            hidden_activation, output_activation, l2_scale, opt,
                                            loss, rows);
        if (Vt.dtype().is(py::dtype::of<double>()))
          return autorec_batch_typed<double>(in_indptr, in_indices, in_data, tg_indptr, tg_indices,
                                             tg_data, params, grads, state1, state2,
                                             hidden_activation, output_activation, l2_scale, opt,
                                             loss, rows);
        fail("params", "must be float32 or float64");
        return 0.0;
      },
      py::arg("in_indptr"), py::arg("in_indices"), py::arg("in_data"), py::arg("tg_indptr"),
      py::arg("tg_indices"), py::arg("tg_data"), py::arg("params"), py::arg("grads"),
      py::arg("state1"), py::arg("state2"), py::arg("hidden_activation"),
      py::arg("output_activation"), py::arg("l2_scale"), py::arg("optimizer"), py::arg("lr"),
      py::arg("beta1") = 0.9, py::arg("beta2") = 0.999, py::arg("eps") = 1e-8,
      py::arg("momentum") = 0.0, py::arg("step") = 1, py::arg("loss") = 0,
      py::arg("rows") = py::none(),
      "One AutoRec mini-batch: forward, the loss at the observed targets (0: squared error, "
      "1: logistic), backward and the fused optimizer step (optimizer 0 writes the gradients to "
      "`grads` instead). Returns the batch's summed loss without the L2 term. With `rows`, the "
      "inputs and targets are whole matrices and the batch is their rows `rows` (int64 ids).");
  m.def(
      "sparse_input_grad_step",
      [](const py::array &indptr, const py::array &indices, const py::array &data,
         const py::array &dZ, const py::array &param, const py::object &grad,
         const py::object &state1, const py::object &state2, double l2_scale, int optimizer,
         double lr, double beta1, double beta2, double eps, double momentum, int64_t step) {
        const OptConfig opt = make_opt_config(optimizer, lr, beta1, beta2, eps, momentum, step);
        check_slot_for(opt, !grad.is_none(), !state1.is_none(), !state2.is_none());
        check_ndim(param, 2, "param");
        check_ndim(dZ, 2, "dZ");
        const int64_t n_in = param.shape(0), k = param.shape(1);
        auto run = [&](auto zero) {
          using T = decltype(zero);
          auto P = make_slot<T>(param, grad, state1, state2, n_in * k, "param");
          const T *dz = state_ptr<T>(dZ, dZ.size(), "dZ");
          In<int64_t> xip = In<int64_t>::ensure(indptr);
          In<int32_t> xix = In<int32_t>::ensure(indices);
          In<T> xd = In<T>::ensure(data);
          if (!xip || !xix || !xd) throw py::error_already_set();
          auto X = csr_view<T>(xip, xix, xd.data(), xd.size(), n_in, "X");
          if (dZ.shape(0) != X.n_rows || dZ.shape(1) != k) fail("dZ", "shape must be (X rows, k)");
          py::gil_scoped_release release;
          cpu::sparse_input_grad_step(X, dz, k, P, static_cast<T>(l2_scale), opt);
        };
        if (param.dtype().is(py::dtype::of<float>())) return run(float(0));
        if (param.dtype().is(py::dtype::of<double>())) return run(double(0));
        fail("param", "must be float32 or float64");
      },
      py::arg("indptr"), py::arg("indices"), py::arg("data"), py::arg("dZ"), py::arg("param"),
      py::arg("grad"), py::arg("state1"), py::arg("state2"), py::arg("l2_scale"),
      py::arg("optimizer"), py::arg("lr"), py::arg("beta1") = 0.9, py::arg("beta2") = 0.999,
      py::arg("eps") = 1e-8, py::arg("momentum") = 0.0, py::arg("step") = 1,
      "Sparse input layer: g = l2_scale * param + Xᵀ dZ, then the optimizer step (or g -> grad).");
  m.def(
      "optimizer_step",
      [](const py::array &param, const py::array &grad, const py::object &state1,
         const py::object &state2, double l2_scale, int optimizer, double lr, double beta1,
         double beta2, double eps, double momentum, int64_t step) {
        const OptConfig opt = make_opt_config(optimizer, lr, beta1, beta2, eps, momentum, step);
        if (opt.kind == Opt::GradOnly) fail("optimizer", "'none' has nothing to do here");
        check_slot_for(opt, true, !state1.is_none(), !state2.is_none());
        const int64_t n = param.size();
        auto run = [&](auto zero) {
          using T = decltype(zero);
          auto S = make_slot<T>(param, py::none(), state1, state2, n, "param");
          const T *g = state_ptr<T>(grad, n, "grad");
          py::gil_scoped_release release;
          cpu::dense_step(S, n, g, static_cast<T>(l2_scale), opt);
        };
        if (param.dtype().is(py::dtype::of<float>())) return run(float(0));
        if (param.dtype().is(py::dtype::of<double>())) return run(double(0));
        fail("param", "must be float32 or float64");
      },
      py::arg("param"), py::arg("grad"), py::arg("state1"), py::arg("state2"), py::arg("l2_scale"),
      py::arg("optimizer"), py::arg("lr"), py::arg("beta1") = 0.9, py::arg("beta2") = 0.999,
      py::arg("eps") = 1e-8, py::arg("momentum") = 0.0, py::arg("step") = 1,
      "In place on a dense parameter: gradient grad + l2_scale * param, then the optimizer step.");
  m.def(
      "multinomial_nll_grad",
      [](const py::array &logits, const py::object &bias, const py::array &indptr,
         const py::array &indices, const py::array &data, double scale) {
        check_ndim(logits, 2, "logits");
        const int64_t n_rows = logits.shape(0), n = logits.shape(1);
        auto run = [&](auto zero) {
          using T = decltype(zero);
          T *l = state_ptr<T>(logits, logits.size(), "logits");
          const T *b = bias.is_none() ? nullptr : state_ptr<T>(bias, n, "bias");
          const CsrArg<T> X(indptr, indices, data, n, "X");
          if (X.view.n_rows != n_rows) fail("X", "must have one row per row of logits");
          py::gil_scoped_release release;
          return cpu::multinomial_nll_grad(l, b, X.view, static_cast<T>(scale));
        };
        if (logits.dtype().is(py::dtype::of<float>())) return run(float(0));
        if (logits.dtype().is(py::dtype::of<double>())) return run(double(0));
        fail("logits", "must be float32 or float64");
        return 0.0;
      },
      py::arg("logits"), py::arg("bias"), py::arg("indptr"), py::arg("indices"), py::arg("data"),
      py::arg("scale"),
      "In place: logits (+ bias) -> scale * d/dl of -Σ x log softmax; returns scale * the loss.");
  m.def(
      "logistic_loss_grad",
      [](const py::array &Z, const py::object &bias, const py::array &indptr, const py::array &indices,
         const py::array &data) {
        check_ndim(Z, 2, "Z");
        const int64_t n_rows = Z.shape(0), n = Z.shape(1);
        auto run = [&](auto zero) {
          using T = decltype(zero);
          T *z = state_ptr<T>(Z, Z.size(), "Z");
          const T *b = bias.is_none() ? nullptr : state_ptr<T>(bias, n, "bias");
          const CsrArg<T> Y(indptr, indices, data, n, "Y");
          if (Y.view.n_rows != n_rows) fail("Y", "must have one row per row of Z");
          py::gil_scoped_release release;
          return cpu::logistic_loss_grad(z, b, Y.view);
        };
        if (Z.dtype().is(py::dtype::of<float>())) return run(float(0));
        if (Z.dtype().is(py::dtype::of<double>())) return run(double(0));
        fail("Z", "must be float32 or float64");
        return 0.0;
      },
      py::arg("Z"), py::arg("bias"), py::arg("indptr"), py::arg("indices"), py::arg("data"),
      "In place: Z (+ bias) -> σ(z) − y for the targets y of the CSR rows (0 elsewhere); returns "
      "Σ softplus(z) − y·z over every entry.");
  m.def(
      "bias_activation",
      [](const py::array &Z, const py::object &bias, int activation) {
        check_ndim(Z, 2, "Z");
        const Act f = act_of(activation, "activation");
        auto run = [&](auto zero) {
          using T = decltype(zero);
          T *z = state_ptr<T>(Z, Z.size(), "Z");
          const T *b = bias.is_none() ? nullptr : state_ptr<T>(bias, Z.shape(1), "bias");
          py::gil_scoped_release release;
          cpu::bias_activation(z, Z.shape(0), Z.shape(1), b, f);
        };
        if (Z.dtype().is(py::dtype::of<float>())) return run(float(0));
        if (Z.dtype().is(py::dtype::of<double>())) return run(double(0));
        fail("Z", "must be float32 or float64");
      },
      py::arg("Z"), py::arg("bias"), py::arg("activation"), "In place: Z <- f(Z + bias).");
  m.def(
      "mul_activation_grad",
      [](const py::array &D, const py::array &H, int activation) {
        check_ndim(D, 2, "D");
        const Act f = act_of(activation, "activation");
        auto run = [&](auto zero) {
          using T = decltype(zero);
          T *d = state_ptr<T>(D, D.size(), "D");
          const T *h = state_ptr<T>(H, D.size(), "H");
          py::gil_scoped_release release;
          cpu::mul_activation_grad(d, h, D.shape(0), D.shape(1), f);
        };
        if (D.dtype().is(py::dtype::of<float>())) return run(float(0));
        if (D.dtype().is(py::dtype::of<double>())) return run(double(0));
        fail("D", "must be float32 or float64");
      },
      py::arg("D"), py::arg("H"), py::arg("activation"), "In place: D *= f'(H), H the activation's output.");
  m.def(
      "masked_mse_grad",
      [](const py::array &out, const py::array &target, int activation, const py::array &grad) {
        check_ndim(out, 2, "out");
        const Act f = act_of(activation, "activation");
        auto run = [&](auto zero) {
          using T = decltype(zero);
          const T *o = state_ptr<T>(out, out.size(), "out");
          const T *t = state_ptr<T>(target, out.size(), "target");
          T *g = state_ptr<T>(grad, out.size(), "grad");
          py::gil_scoped_release release;
          return cpu::masked_mse_grad(o, t, out.shape(0), out.shape(1), f, g);
        };
        if (out.dtype().is(py::dtype::of<float>())) return run(float(0));
        if (out.dtype().is(py::dtype::of<double>())) return run(double(0));
        fail("out", "must be float32 or float64");
        return 0.0;
      },
      py::arg("out"), py::arg("target"), py::arg("activation"), py::arg("grad"),
      "Masked MSE over the non-zero targets (mean) and its gradient w.r.t. the pre-activation.");
  m.def(
      "sample_negatives",
      [](const In<int64_t> &indptr, const In<int32_t> &indices, int64_t n_cols, int64_t ratio,
         uint64_t seed) {
        if (ratio < 0) fail("ratio", "must be >= 0");
        auto X = csr_view<float>(indptr, indices, nullptr, 0, n_cols, "positives");
        cpu::SampledTargets t;
        {
          py::gil_scoped_release release;
          t = cpu::sample_negatives(X, ratio, seed);
        }
        return py::make_tuple(py::array_t<int64_t>(t.indptr.size(), t.indptr.data()),
                              py::array_t<int32_t>(t.indices.size(), t.indices.data()),
                              py::array_t<float>(t.targets.size(), t.targets.data()));
      },
      py::arg("indptr"), py::arg("indices"), py::arg("n_cols"), py::arg("ratio"), py::arg("seed"),
      "Per row: the positives (target 1), then min(ratio * n_pos, free) distinct uniformly drawn "
      "non-positive items (target 0). Returns CSR (indptr, indices, targets).");
  m.def(
      "autorec_encode",
      [](const py::array &in_indptr, const py::array &in_indices, const py::array &in_data,
         const py::tuple &params, int hidden_activation) -> py::array {
        auto Vt = py::reinterpret_borrow<py::array>(params[0]);
        auto run = [&](auto zero) -> py::array {
          using T = decltype(zero);
          auto net = make_net<T>(params, py::none(), py::none(), py::none(), hidden_activation, 0);
          In<int64_t> xip = In<int64_t>::ensure(in_indptr);
          In<int32_t> xix = In<int32_t>::ensure(in_indices);
          In<T> xd = In<T>::ensure(in_data);
          if (!xip || !xix || !xd) throw py::error_already_set();
          auto X = csr_view<T>(xip, xix, xd.data(), xd.size(), net.n_in, "inputs");
          py::array_t<T> H({X.n_rows, net.k});
          T *h = H.mutable_data();
          {
            py::gil_scoped_release release;
            cpu::autorec_encode(X, net, h);
          }
          return H;
        };
        if (Vt.dtype().is(py::dtype::of<float>())) return run(float(0));
        if (Vt.dtype().is(py::dtype::of<double>())) return run(double(0));
        fail("params", "must be float32 or float64");
        return py::array();
      },
      py::arg("in_indptr"), py::arg("in_indices"), py::arg("in_data"), py::arg("params"),
      py::arg("hidden_activation"), "H = g(X·Vt + mu) for the rows of X.");
  m.def(
      "autorec_predict",
      [](const py::array &in_indptr, const py::array &in_indices, const py::array &in_data,
         const py::tuple &params, int hidden_activation, int output_activation,
         const In<int64_t> &rows, const In<int64_t> &cols) -> py::array {
        auto Vt = py::reinterpret_borrow<py::array>(params[0]);
        auto run = [&](auto zero) -> py::array {
          using T = decltype(zero);
          auto net = make_net<T>(params, py::none(), py::none(), py::none(), hidden_activation,
                                 output_activation);
          In<int64_t> xip = In<int64_t>::ensure(in_indptr);
          In<int32_t> xix = In<int32_t>::ensure(in_indices);
          In<T> xd = In<T>::ensure(in_data);
          if (!xip || !xix || !xd) throw py::error_already_set();
          auto X = csr_view<T>(xip, xix, xd.data(), xd.size(), net.n_in, "inputs");
          check_ndim(rows, 1, "rows");
          check_ndim(cols, 1, "cols");
          const int64_t n = rows.shape(0);
          if (cols.shape(0) != n) fail("cols", "must have as many entries as rows");
          const int64_t *pr = rows.data(), *pc = cols.data();
          for (int64_t i = 0; i < n; ++i) {
            if (pr[i] < 0 || pr[i] >= X.n_rows) fail("rows", "index out of range");
            if (pc[i] < 0 || pc[i] >= net.n_out) fail("cols", "index out of range");
          }
          py::array_t<T> out(n);
          T *po = out.mutable_data();
          {
            py::gil_scoped_release release;
            std::vector<T> H(X.n_rows * net.k);
            cpu::autorec_encode(X, net, H.data());
            cpu::autorec_decode_pairs(H.data(), pr, pc, n, net, po);
          }
          return out;
        };
        if (Vt.dtype().is(py::dtype::of<float>())) return run(float(0));
        if (Vt.dtype().is(py::dtype::of<double>())) return run(double(0));
        fail("params", "must be float32 or float64");
        return py::array();
      },
      py::arg("in_indptr"), py::arg("in_indices"), py::arg("in_data"), py::arg("params"),
      py::arg("hidden_activation"), py::arg("output_activation"), py::arg("rows"), py::arg("cols"),
      "Encode the input rows, then decode only the requested (row, output) pairs.");
  m.def(
      "transpose_pattern",
      [](const In<int64_t> &indptr, const In<int32_t> &indices, int64_t n_cols) {
        auto X = csr_view<float>(indptr, indices, nullptr, 0, n_cols, "pattern");
        cpu::Transposed t;
        {
          py::gil_scoped_release release;
          t = cpu::transpose_pattern(X.indptr, X.indices, X.n_rows, n_cols);
        }
        return py::make_tuple(py::array_t<int64_t>(t.colptr.size(), t.colptr.data()),
                              py::array_t<int32_t>(t.row.size(), t.row.data()),
                              py::array_t<int64_t>(t.entry.size(), t.entry.data()));
      },
      py::arg("indptr"), py::arg("indices"), py::arg("n_cols"),
      "CSC view of a CSR pattern: (colptr, row of each entry, its CSR position).");
  m.def("get_num_threads", []() { return omp_get_max_threads(); },
        "Threads the OpenMP kernels use.");
  m.def(
      "set_num_threads",
      [](int n) {
        if (n < 1) fail("n", "must be >= 1");
        omp_set_num_threads(n);
      },
      py::arg("n"), "Set the number of OpenMP threads for the kernels.");
}
