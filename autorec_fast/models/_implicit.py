"""What the implicit-feedback (top-N) models share: binary input, validation by a
ranking metric on held-out users every epoch, keeping the best epoch."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._validation import canonical_csr
from ..interactions import as_interactions


def binary_matrix(data, dtype, name="data") -> tuple[sp.csr_matrix, object]:
    """Interactions -> canonical binary CSR (positive values become 1; negative values are an error)."""
    inter = as_interactions(data)
    X = canonical_csr(inter.matrix, dtype, name)
    if X.nnz == 0:
        raise ValueError(f"{name} has no interactions")
    if (X.data < 0).any():
        raise ValueError(f"{name} has negative values; implicit-feedback models need counts or 0/1")
    X = X.copy()
    X.data[:] = 1  # binarised: any positive value is one interaction
    X.eliminate_zeros()
    empty = int(np.sum(np.diff(X.indptr) == 0))
    if empty:
        raise ValueError(f"{name} has {empty} users without interactions; remove them first "
                         "(e.g. autorec_fast.filter_min_counts(data, min_user_count=1))")
    return X, inter


def check_metric(metric: str) -> str:
    from ..evaluation import RATING_METRICS, parse_metric

    base, _ = parse_metric(metric)
    if base in RATING_METRICS:
        raise ValueError(f"metric must be a ranking metric such as 'ndcg@100', got {metric!r}")
    return metric


def validation_score(model, validation, entry):
    """The epoch's validation metric of a top-N model (also stored in ``entry``),
    or None without validation data."""
    if validation is None:
        return None
    from ..evaluation import evaluate

    entry[model.metric] = evaluate(model, validation, [model.metric])[model.metric]
    return entry[model.metric]
