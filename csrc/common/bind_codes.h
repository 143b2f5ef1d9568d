// The integer codes the kernels take, exported once from their C++ definitions
// (common/activations.h, common/optimizer.h) to both extensions: the enums
// Activation, Optimizer and Loss, and Adam's defaults. The functions keep
// taking plain ints; Python builds its name -> code tables from these, e.g.
// {name: int(v) for name, v in _cpu.Activation.__members__.items()}.
#pragma once

#include <pybind11/pybind11.h>

#include "common/activations.h"
#include "common/optimizer.h"

namespace autorec::bind {

inline void bind_codes(pybind11::module_ &m) {
  namespace py = pybind11;
  // module_local: _cpu and _cuda each hold their own classes (with the same values).
  py::enum_<Act>(m, "Activation", py::module_local(), "Activation codes (hidden_activation, ...).")
      .value("identity", Act::Identity)
      .value("sigmoid", Act::Sigmoid)
      .value("tanh", Act::Tanh)
      .value("relu", Act::Relu)
      .value("elu", Act::Elu)
      .value("selu", Act::Selu);
  py::enum_<Opt>(m, "Optimizer", py::module_local(),
                 "Optimizer codes; none: write the gradients out instead of stepping.")
      .value("none", Opt::GradOnly)
      .value("sgd", Opt::Sgd)
      .value("adam", Opt::Adam)
      .value("rprop", Opt::Rprop)
      .value("adagrad", Opt::Adagrad);
  py::enum_<Loss>(m, "Loss", py::module_local(), "Loss codes at the observed targets.")
      .value("square", Loss::Squared)
      .value("logistic", Loss::Logistic);
  m.attr("ADAM_BETA1") = kAdamBeta1;
  m.attr("ADAM_BETA2") = kAdamBeta2;
  m.attr("ADAM_EPS") = kAdamEps;
}

}  // namespace autorec::bind
