#include "cpu/ranking.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "cpu/transpose.h"
#include "cpu/vec.h"

namespace autorec::cpu {

namespace {
// Below this much work (elements touched) a parallel region costs more than it saves.
constexpr int64_t kParallelWork = 1 << 16;
// Output widths up to this use the row-parallel product in csr_matmul_dense.
constexpr int64_t kNarrowOutput = 1024;

// Per-thread marker over the items: mark(r) tags a set of items with row r's
// stamp, so no clearing is needed between rows.
struct Stamps {
  std::vector<int64_t> v;
  explicit Stamps(int64_t n) : v(n, -1) {}
  template <typename U> void mark(const CsrView<U> *m, int64_t r) {
    if (m == nullptr) return;
    for (int64_t p = m->indptr[r]; p < m->indptr[r + 1]; ++p) v[m->indices[p]] = r;
  }
  bool has(int64_t item, int64_t r) const { return v[item] == r; }
};
}  // namespace

template <typename T> void csr_matmul_dense(const CsrView<T> &X, const T *W, int64_t m, T *out) {
  const int64_t n_rows = X.n_rows, k = X.n_cols;
  if (m <= kNarrowOutput) {
    // Narrow outputs (a hidden layer: m of a few hundred): each output row
    // accumulates its entries' W rows while it stays in L1, rows split across
    // the threads; W is read from L2/L3 per entry. Measured on DeepRec's first
    // layer (128 x 3,706 batch, m = 512): 2.6 ms per call for the column-
    // blocked form below, which leaves m / 256 blocks for the threads to share.
#pragma omp parallel for schedule(dynamic, 8) if (X.nnz() * m > kParallelWork)
    for (int64_t r = 0; r < n_rows; ++r) {
      T *orow = out + r * m;
      std::fill(orow, orow + m, T(0));
      for (int64_t p = X.indptr[r]; p < X.indptr[r + 1]; ++p)
        vec::axpy(m, X.data ? X.data[p] : T(1), W + int64_t(X.indices[p]) * m, orow);
    }
    return;
  }
  // CSC of X: for each row j of W, the rows of X that use it.
  const Transposed t = transpose_pattern(X.indptr, X.indices, n_rows, k);
  constexpr int64_t kBlock = 256;  // block of output columns kept hot in cache
  const int64_t n_blocks = (m + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(dynamic, 1) if (X.nnz() * m > kParallelWork)
  for (int64_t b = 0; b < n_blocks; ++b) {
    const int64_t c0 = b * kBlock, c1 = std::min(m, c0 + kBlock), w = c1 - c0;
    for (int64_t r = 0; r < n_rows; ++r) std::fill(out + r * m + c0, out + r * m + c1, T(0));
    for (int64_t j = 0; j < k; ++j) {
      const T *wrow = W + j * m + c0;
      for (int64_t p = t.colptr[j]; p < t.colptr[j + 1]; ++p) {
        T *orow = out + int64_t(t.row[p]) * m + c0;
        const T x = X.data ? X.data[t.entry[p]] : T(1);
#pragma omp simd
        for (int64_t c = 0; c < w; ++c) orow[c] += x * wrow[c];
      }
    }
  }
}

// Candidates above the running threshold go to a buffer of a few k entries;
// when it fills, a selection (nth_element) keeps the k best and raises the
// threshold to the k-th best score. The threshold test is a SIMD compare mask
// over each block (16 floats at a time with AVX-512): only the few positions
// above it are looked at one by one.
template <typename T>
void topk_exclude(const T *scores, int64_t n_rows, int64_t n_items, const CsrView<float> *exclude,
                  int64_t k, int64_t *out_index, T *out_score) {
  using Entry = std::pair<T, int64_t>;
  // Best first: higher score, then lower item index.
  auto better = [](const Entry &a, const Entry &b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  const int64_t capacity = std::max<int64_t>(4 * k, 256);
#pragma omp parallel if (n_rows * n_items > kParallelWork)
  {
    Stamps excluded(n_items);
    std::vector<Entry> buf;
    buf.reserve(capacity);
#pragma omp for schedule(dynamic, 16)
    for (int64_t r = 0; r < n_rows; ++r) {
      excluded.mark(exclude, r);
      const T *s = scores + r * n_items;
      buf.clear();
      T threshold = -std::numeric_limits<T>::infinity();
      bool full = false;  // once k are kept, only scores > threshold can enter
      constexpr int64_t kBlock = 256;
      int32_t cand[kBlock];
      for (int64_t j0 = 0; j0 < n_items; j0 += kBlock) {
        const int64_t len = std::min(n_items - j0, kBlock);
        // Before the buffer first fills, every non-NaN score is a candidate.
        const int64_t n_cand = vec::positions_above(
            len, s + j0, full ? threshold : -std::numeric_limits<T>::infinity(), cand);
        for (int64_t c = 0; c < n_cand; ++c) {
          const int64_t j = j0 + cand[c];
          const T v = s[j];
          // Items come in ascending index order: an equal score never beats a kept one.
          if ((full && !(v > threshold)) || excluded.has(j, r)) continue;
          buf.emplace_back(v, j);
          if (static_cast<int64_t>(buf.size()) == capacity) {
            std::nth_element(buf.begin(), buf.begin() + (k - 1), buf.end(), better);
            buf.resize(k);
            threshold = buf[k - 1].first;
            full = true;
          }
        }
      }
      const int64_t got = std::min<int64_t>(k, buf.size());
      if (static_cast<int64_t>(buf.size()) > got)
        std::nth_element(buf.begin(), buf.begin() + (got - 1), buf.end(), better);
      std::sort(buf.begin(), buf.begin() + got, better);
      int64_t *idx = out_index + r * k;
      T *val = out_score + r * k;
      for (int64_t i = 0; i < got; ++i) {
        idx[i] = buf[i].second;
        val[i] = buf[i].first;
      }
      for (int64_t i = got; i < k; ++i) {
        idx[i] = -1;
        val[i] = -std::numeric_limits<T>::infinity();
      }
    }
  }
}

void hits_at_k(const int64_t *topk, int64_t n_rows, int64_t k, const CsrView<float> &targets,
               uint8_t *hits) {
#pragma omp parallel if (n_rows * k > kParallelWork)
  {
    Stamps is_target(targets.n_cols);
#pragma omp for schedule(static)
    for (int64_t r = 0; r < n_rows; ++r) {
      is_target.mark(&targets, r);
      for (int64_t i = 0; i < k; ++i) {
        const int64_t item = topk[r * k + i];
        hits[r * k + i] = (item >= 0 && is_target.has(item, r)) ? 1 : 0;
      }
    }
  }
}

template <typename T>
void first_hit_rank(const T *scores, int64_t n_rows, int64_t n_items, const CsrView<float> *exclude,
                    const CsrView<float> &targets, int64_t *rank) {
#pragma omp parallel if (n_rows * n_items > kParallelWork)
  {
    Stamps excluded(n_items);
#pragma omp for schedule(dynamic, 16)
    for (int64_t r = 0; r < n_rows; ++r) {
      const T *s = scores + r * n_items;
      if (targets.indptr[r] == targets.indptr[r + 1]) {
        rank[r] = 0;
        continue;
      }
      excluded.mark(exclude, r);
      // The best target under the top-K order: score descending, then index ascending.
      T best = -std::numeric_limits<T>::infinity();
      int64_t best_j = -1;
      for (int64_t p = targets.indptr[r]; p < targets.indptr[r + 1]; ++p) {
        const int64_t j = targets.indices[p];
        if (excluded.has(j, r) || std::isnan(s[j])) continue;
        if (best_j < 0 || s[j] > best || (s[j] == best && j < best_j)) {
          best = s[j];
          best_j = j;
        }
      }
      if (best_j < 0) {
        rank[r] = 0;
        continue;
      }
      int64_t above = 0;
      for (int64_t j = 0; j < n_items; ++j)
        above += (s[j] > best || (s[j] == best && j < best_j)) && !excluded.has(j, r);
      rank[r] = above + 1;
    }
  }
}

#define AUTOREC_INSTANTIATE(T)                                                                  \
  template void csr_matmul_dense<T>(const CsrView<T> &, const T *, int64_t, T *);              \
  template void topk_exclude<T>(const T *, int64_t, int64_t, const CsrView<float> *, int64_t,      \
                                int64_t *, T *);                                               \
  template void first_hit_rank<T>(const T *, int64_t, int64_t, const CsrView<float> *,            \
                                  const CsrView<float> &, int64_t *);
AUTOREC_INSTANTIATE(float)
AUTOREC_INSTANTIATE(double)
#undef AUTOREC_INSTANTIATE

}  // namespace autorec::cpu
