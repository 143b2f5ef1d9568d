#define AUTOREC_EXP_NAME exp_shift_sum_baseline
#include "cpu/exp_kernel.inc"
