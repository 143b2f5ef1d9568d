// Negative sampling for the implicit models (CDAE).
#pragma once

#include <cstdint>
#include <vector>

#include "common/csr.h"

namespace autorec::cpu {

// For each row of the positives X: its positives (target 1) followed by
// min(ratio * n_pos, n_cols - n_pos) distinct items drawn uniformly from the
// row's non-positive items (target 0). Each row has its own random stream
// derived from (seed, row), so the result does not depend on the thread count.
struct SampledTargets {
  std::vector<int64_t> indptr;
  std::vector<int32_t> indices;
  std::vector<float> targets;
};
SampledTargets sample_negatives(const CsrView<float> &X, int64_t ratio, uint64_t seed);

}  // namespace autorec::cpu
