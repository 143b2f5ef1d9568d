// Bindings of the full-ranking kernels (csrc/cpu/ranking.h).
#include <pybind11/stl.h>

#include <optional>

#include "cpu/bind.h"
#include "cpu/ranking.h"

namespace autorec::bind {

namespace {

// The optional pattern of excluded items: both arrays or neither, one row per row of scores.
std::optional<CsrView<float>> exclude_view(const std::optional<In<int64_t>> &indptr,
                                           const std::optional<In<int32_t>> &indices,
                                           int64_t n_rows, int64_t n_items) {
  if (indptr.has_value() != indices.has_value())
    fail("exclude", "give both indptr and indices, or neither");
  if (!indptr) return std::nullopt;
  auto ex = csr_view<float>(*indptr, *indices, nullptr, 0, n_items, "exclude");
  if (ex.n_rows != n_rows) fail("exclude", "must have one row per row of scores");
  return ex;
}

template <typename T> void bind_typed(py::module_ &m) {
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
        const auto ex = exclude_view(ex_indptr, ex_indices, n_rows, n_items);
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
        const auto ex = exclude_view(ex_indptr, ex_indices, n_rows, n_items);
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

void bind_untyped(py::module_ &m) {
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
}

}  // namespace

void bind_ranking(py::module_ &m) { bind_typed<float>(m); bind_typed<double>(m); bind_untyped(m); }

}  // namespace autorec::bind
