"""Typed stub of the compiled CUDA extension (csrc/cuda/module.cpp and its bind_*.cpp files).

Arrays are device arrays: CuPy arrays, or any object exposing ``__cuda_array_interface__``
(csrc/cuda/device_array.h). Each function has one name and two overloads, float32 and
float64, chosen by the dtype of the array that decides (an output, or ``params``); the
call's other float arrays must share it. Sizes are the arrays' shapes. The bindings check
dtypes, shapes, C-contiguity and writability (a TypeError / ValueError naming the
argument) but not contents: index ranges and CSR row pointers in device memory are the
caller's to validate. ``None`` stands for an absent optional array; ``stream`` is a CUDA
stream pointer (``cupy.cuda.get_current_stream().ptr``).
"""

from typing import Any, Protocol

from ._cpu import _Code

class DeviceArray(Protocol):
    @property
    def __cuda_array_interface__(self) -> dict[str, Any]: ...

# (indptr int64, indices int32, data) of a CSR matrix; (colptr int64, row int32, entry int64)
# of its transposed pattern; the AutoRec parameters (Vt, mu, W, b) or arrays shaped like them.
Csr = tuple[DeviceArray, DeviceArray, DeviceArray]
Params = tuple[DeviceArray, DeviceArray, DeviceArray, DeviceArray]

# The integer codes, the same members and values as in _cpu (classes of their own).
class Activation(_Code): ...
class Optimizer(_Code): ...
class Loss(_Code): ...

ADAM_BETA1: float
ADAM_BETA2: float
ADAM_EPS: float


def device_count() -> int: ...
def device_error() -> str: ...
def runtime_version() -> int: ...
# ---- EASE (csrc/cuda/ease.cu): G (n x n) += upper triangle of XᵀX for the CSR X with n columns
def gram_upper(indptr: DeviceArray, indices: DeviceArray, data: DeviceArray, G: DeviceArray, stream: int) -> None: ...
def ease_weights_from_inverse(P: DeviceArray, diag: DeviceArray, stream: int) -> None: ...
def symmetrize_from_upper(A: DeviceArray, stream: int) -> None: ...
# ---- ranking (csrc/cuda/ranking.cu): scores (n_rows x n_items), the CSR pattern of n_rows rows
def fill_pattern(scores: DeviceArray, indptr: DeviceArray, indices: DeviceArray, value: float, stream: int) -> None: ...
# ---- AutoRec / CDAE sparse layer pair (csrc/cuda/sparse_layer.cu); loss: float64 (1,)
def autorec_batch(x: Csr, y: Csr, xt: Csr, yt: Csr, params: Params, grads: Params | None, state1: Params | None,
                  state2: Params | None, hidden_activation: int, output_activation: int, l2_scale: float,
                  optimizer: int, lr: float, beta1: float, beta2: float, eps: float, momentum: float, step: int,
                  H: DeviceArray, dZ: DeviceArray, D: DeviceArray, loss: DeviceArray, stream: int,
                  loss_kind: int = 0) -> None: ...
def autorec_predict(indptr: DeviceArray, indices: DeviceArray, data: DeviceArray, params: Params,
                    hidden_activation: int, output_activation: int, rows: DeviceArray, cols: DeviceArray,
                    H: DeviceArray, out: DeviceArray, stream: int) -> None: ...
# ---- losses (csrc/cuda/loss.cu); loss: float64 (1,), count: uint64 (1,)
def multinomial_nll_grad(logits: DeviceArray, bias: DeviceArray | None, indptr: DeviceArray, indices: DeviceArray,
                         x: DeviceArray, scale: float, loss: DeviceArray, stream: int) -> None: ...
def masked_mse_grad(out: DeviceArray, target: DeviceArray, activation: int, grad: DeviceArray, count: DeviceArray,
                    loss: DeviceArray, stream: int) -> None: ...
# ---- optimizer step over a dense parameter (csrc/cuda/optim.cu)
def optimizer_step(param: DeviceArray, grad: DeviceArray, state1: DeviceArray | None, state2: DeviceArray | None,
                   l2_scale: float, optimizer: int, lr: float, beta1: float, beta2: float, eps: float,
                   momentum: float, step: int, stream: int) -> None: ...
# ---- DeepRec's element-wise passes (csrc/cuda/dense_ops.cu)
def bias_activation(Z: DeviceArray, bias: DeviceArray | None, activation: int, stream: int) -> None: ...
def mul_activation_grad(D: DeviceArray, H: DeviceArray, activation: int, stream: int) -> None: ...
# ---- SVAE's GRU, one packed time step of B rows, hidden size G (csrc/cuda/gru.cu)
def gru_gates_forward(Xi: DeviceArray, gh: DeviceArray | None, b_hh: DeviceArray, h_prev: DeviceArray | None,
                      H: DeviceArray, cache: DeviceArray, stream: int) -> None: ...
def gru_gates_backward(dH: DeviceArray, d_next: DeviceArray, cache: DeviceArray, h_prev: DeviceArray | None,
                       dXi: DeviceArray, dGh: DeviceArray, d_cur: DeviceArray, stream: int) -> None: ...
