"""autorec_fast: fast autoencoder recommenders on compiled CPU and CUDA kernels.

Quick start::

    import autorec_fast as af

    data = af.load_movielens("ml-100k/u.data")
    split = af.strong_generalization_from_ratings(data, n_heldout_users=100)
    model = af.train("ease", split.train, l2=500.0)
    print(af.evaluate(model, split.test, metrics=["recall@20", "ndcg@100"]))
    items, scores = model.recommend(split.test.fold_in, k=10)
"""

import logging as _logging
import os as _os
from importlib.metadata import PackageNotFoundError, version as _version

# Our OpenMP threads must not spin between parallel regions: the BLAS calls in
# between run OpenBLAS's own threads, and spinning OpenMP workers would take
# their cores (measured: Mult-VAE epochs 2.3x slower on 2 cores). Set before
# the extension (and libgomp) loads; a user's own setting wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# OpenBLAS's workers spin for 2^28 cycles (~0.1 s) after every BLAS call by
# default, so the OpenMP kernels we run between BLAS calls would share the
# cores with them (measured: SVAE epochs 1.4x and DeepRec epochs 1.3x slower).
# Read when an OpenBLAS library loads: NumPy's, usually imported before us,
# keeps its setting, so the models' dense products go through SciPy's
# OpenBLAS (backends/cpu.py, CpuBackend.mm), which loads below.
_os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

from .backends import (  # noqa: E402
    HAS_CUDA,
    blas_num_threads,
    cuda_available,
    cuda_device_count,
    get_num_threads,
    set_num_threads,
    threads,
)
from .datasets import binarize, filter_min_counts, load_movielens, synthetic  # noqa: E402
from .evaluation import evaluate  # noqa: E402
from .interactions import Interactions, as_interactions  # noqa: E402
from .io import load  # noqa: E402
from .models import (  # noqa: E402
    CDAE,
    EASE,
    MODELS,
    SVAE,
    AutoRec,
    BiasBaseline,
    DeepRec,
    ItemKNN,
    MultDAE,
    MultVAE,
    Popularity,
    train,
)
from .models._shared import ExplicitRatingsWarning  # noqa: E402
from ._data.original_ids import UnknownIdsWarning  # noqa: E402
from .splits import (
    FoldInOut,
    StrongGeneralizationSplit,
    per_user_split,
    random_split,
    sequential_split_from_ratings,
    strong_generalization_from_ratings,
    strong_generalization_split,
    temporal_heldout_split,
    temporal_split,
    time_split,
)

# progress records go to the "autorec_fast" logger; the application configures handlers
_logging.getLogger("autorec_fast").addHandler(_logging.NullHandler())

try:
    __version__ = _version("autorec_fast")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = [
    "AutoRec", "BiasBaseline", "CDAE", "DeepRec", "EASE", "ItemKNN", "MultDAE", "MultVAE", "Popularity", "SVAE",
    "ExplicitRatingsWarning", "FoldInOut", "HAS_CUDA", "Interactions", "MODELS", "StrongGeneralizationSplit",
    "as_interactions", "binarize", "blas_num_threads", "cuda_available", "cuda_device_count", "evaluate",
    "filter_min_counts", "get_num_threads", "load", "load_movielens", "per_user_split",
    "random_split", "sequential_split_from_ratings", "set_num_threads", "strong_generalization_from_ratings",
    "strong_generalization_split", "synthetic", "temporal_heldout_split", "temporal_split", "threads", "time_split", "train", "UnknownIdsWarning",
    "__version__",
]
