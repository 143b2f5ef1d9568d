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

template <typename T>
void topk_exclude(const T *scores, int64_t n_rows, int64_t n_items, const CsrView<float> *exclude,
                  int64_t k, int64_t *out_index, T *out_score) {
  using Entry = std::pair<T, int64_t>;
  // "a before b" in the heap order: a is the better item. The heap top is the
  // worst kept item, the threshold a newcomer must beat.
  auto better = [](const Entry &a, const Entry &b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
#pragma omp parallel if (n_rows * n_items > kParallelWork)
  {
    Stamps excluded(n_items);
    std::vector<Entry> heap;
    heap.reserve(k);
#pragma omp for schedule(dynamic, 16)
    for (int64_t r = 0; r < n_rows; ++r) {
      excluded.mark(exclude, r);
      const T *s = scores + r * n_items;
      heap.clear();
      int64_t j = 0;
      for (; j < n_items && static_cast<int64_t>(heap.size()) < k; ++j) {
        if (std::isnan(s[j]) || excluded.has(j, r)) continue;
        heap.emplace_back(s[j], j);
        std::push_heap(heap.begin(), heap.end(), better);
      }
      if (static_cast<int64_t>(heap.size()) == k) {
        T threshold = heap.front().first;
        // Blocks without a score above the threshold (the vast majority once
        // the heap is warm) are skipped after one vectorised count.
        constexpr int64_t kBlock = 64;
        while (j < n_items) {
          const int64_t end = std::min(n_items, j + kBlock);
          if (vec::count_above(end - j, s + j, threshold) == 0) {
            j = end;
            continue;
          }
          for (; j < end; ++j) {
            // Scanning items in ascending order, an equal score never displaces.
            if (!(s[j] > threshold) || excluded.has(j, r)) continue;
            std::pop_heap(heap.begin(), heap.end(), better);
            heap.back() = Entry(s[j], j);
            std::push_heap(heap.begin(), heap.end(), better);
            threshold = heap.front().first;
          }
        }
      }
      std::sort_heap(heap.begin(), heap.end(), better);
      int64_t *idx = out_index + r * k;
      T *val = out_score + r * k;
      const int64_t got = static_cast<int64_t>(heap.size());
      for (int64_t i = 0; i < got; ++i) {
        idx[i] = heap[i].second;
        val[i] = heap[i].first;
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
