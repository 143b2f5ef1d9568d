#include "cpu/sampling.h"

#include <omp.h>

#include <algorithm>

namespace autorec::cpu {

namespace {
// splitmix64: a tiny, well-mixed generator; one stream per (seed, row).
struct SplitMix64 {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) (Lemire's multiply-shift; the bias is below 2^-32 for our n).
  int64_t below(int64_t n) {
    return static_cast<int64_t>((static_cast<unsigned __int128>(next()) * uint64_t(n)) >> 64);
  }
};
}  // namespace

SampledTargets sample_negatives(const CsrView<float> &X, int64_t ratio, uint64_t seed) {
  const int64_t n_rows = X.n_rows, n = X.n_cols;
  SampledTargets out;
  out.indptr.assign(n_rows + 1, 0);
  for (int64_t r = 0; r < n_rows; ++r) {
    const int64_t pos = X.indptr[r + 1] - X.indptr[r];
    out.indptr[r + 1] = out.indptr[r] + pos + std::min(ratio * pos, n - pos);
  }
  out.indices.resize(out.indptr[n_rows]);
  out.targets.resize(out.indptr[n_rows]);
#pragma omp parallel if (out.indptr[n_rows] > (1 << 14))
  {
    std::vector<int64_t> mark(n, -1);  // row stamp: positive or already drawn
    std::vector<int32_t> free_items;
#pragma omp for schedule(dynamic, 16)
    for (int64_t r = 0; r < n_rows; ++r) {
      SplitMix64 rng{seed ^ (0x632be59bd9b4e019ULL * uint64_t(r + 1))};
      int64_t o = out.indptr[r];
      for (int64_t p = X.indptr[r]; p < X.indptr[r + 1]; ++p) {
        mark[X.indices[p]] = r;
        out.indices[o] = X.indices[p];
        out.targets[o++] = 1.0f;
      }
      const int64_t pos = X.indptr[r + 1] - X.indptr[r];
      const int64_t want = out.indptr[r + 1] - o, n_free = n - pos;
      if (2 * want <= n_free) {  // rejection: each draw succeeds with probability >= 1/2
        for (int64_t got = 0; got < want;) {
          const int64_t j = rng.below(n);
          if (mark[j] == r) continue;
          mark[j] = r;
          out.indices[o++] = static_cast<int32_t>(j);
          ++got;
        }
      } else {  // most of the free items: partial Fisher-Yates over the free list
        free_items.clear();
        for (int64_t j = 0; j < n; ++j)
          if (mark[j] != r) free_items.push_back(static_cast<int32_t>(j));
        for (int64_t i = 0; i < want; ++i) {
          std::swap(free_items[i], free_items[i + rng.below(n_free - i)]);
          out.indices[o++] = free_items[i];
        }
      }
      for (int64_t q = out.indptr[r] + pos; q < out.indptr[r + 1]; ++q) out.targets[q] = 0.0f;
    }
  }
  return out;
}

}  // namespace autorec::cpu
