// The multinomial likelihood of Mult-VAE / Mult-DAE (Liang et al. 2018).
#pragma once

#include <cstdint>

#include "common/csr.h"

namespace autorec::cpu {

// Fused bias + log-softmax + loss + gradient, in place over dense logits:
// for each row r, loss_r = -Σ_i x_ri log softmax(l_r + b)_i with x the row's
// sparse values (CSR X, same rows); the logits become
// dLoss/dl = scale * (softmax(l_r + b) Σ_i x_ri - x_r). Returns scale * Σ_r loss_r.
// bias may be null. One read of each row from memory; exp is vectorised.
template <typename T>
double multinomial_nll_grad(T *logits, const T *bias, const CsrView<T> &X, T scale);

}  // namespace autorec::cpu
