#define AUTOREC_EXP_NAME exp_shift_sum_avx2
#include "cpu/exp_kernel.inc"
