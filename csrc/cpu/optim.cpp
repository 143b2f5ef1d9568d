#include "cpu/optim.h"

#include <omp.h>

#include <vector>

namespace autorec::cpu {

template <typename T>
void dense_step(const Slot<T> &s, int64_t n, const T *grad, T l2_scale, const OptConfig &opt) {
  constexpr int64_t kChunk = 4096;
  const int64_t n_chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel if (n > (1 << 16))
  {
    std::vector<T> g(kChunk);
#pragma omp for schedule(static)
    for (int64_t c = 0; c < n_chunks; ++c) {
      const int64_t lo = c * kChunk, len = std::min(kChunk, n - lo);
      for (int64_t i = 0; i < len; ++i) g[i] = grad[lo + i] + l2_scale * s.param[lo + i];
      opt_update_run(opt, s, lo, g.data(), len);
    }
  }
}

template void dense_step<float>(const Slot<float> &, int64_t, const float *, float, const OptConfig &);
template void dense_step<double>(const Slot<double> &, int64_t, const double *, double,
                                 const OptConfig &);

}  // namespace autorec::cpu
