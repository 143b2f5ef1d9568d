// Bindings of the OpenMP thread count the kernels use.
#include <omp.h>

#include "cpu/bind.h"

namespace autorec::bind {

void bind_runtime(py::module_ &m) {
  m.def("get_num_threads", []() { return omp_get_max_threads(); },
        "Threads the OpenMP kernels use.");
  m.def(
      "set_num_threads",
      [](int n) {
        if (n < 1) fail("n", "must be >= 1");
        omp_set_num_threads(n);
      },
      py::arg("n"), "Set the number of OpenMP threads for the kernels.");
}

}  // namespace autorec::bind
