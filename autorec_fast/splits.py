"""Train/test splitting protocols.

Unless stated otherwise every split returns :class:`Interactions` sharing the
parent's row and column index spaces (same shape, same ``user_ids`` /
``item_ids``), so a model trained on ``train`` can score the other parts.
Users or items whose entries all land on one side simply have empty rows /
columns on the other.

* holdout of individual interactions: :func:`random_split`,
  :func:`per_user_split`, :func:`temporal_split`;
* held-out users (strong generalization, Liang et al. 2018; its temporal
  variant, SVAE): :func:`strong_generalization_split`,
  :func:`temporal_heldout_split` and their preprocessing wrappers
  :func:`strong_generalization_from_ratings`,
  :func:`sequential_split_from_ratings`;
* by date (DeepRec's Netflix protocol): :func:`time_split`.

The implementations live in :mod:`autorec_fast._data` (``holdout``,
``heldout_users``, ``from_ratings``, ``timesplit``).
"""

from __future__ import annotations

from ._data.csr import _rank_within_rows  # noqa: F401
from ._data.from_ratings import (  # noqa: F401
    _filter_max_user_count,
    sequential_split_from_ratings,
    strong_generalization_from_ratings,
)
from ._data.heldout_users import (  # noqa: F401
    FoldInOut,
    StrongGeneralizationSplit,
    _check_heldout_args,
    _fold_in_out,
    _heldout_users_and_vocab,
    strong_generalization_split,
    temporal_heldout_split,
)
from ._data.holdout import (  # noqa: F401
    _check_fraction,
    _split_by_mask,
    per_user_split,
    random_split,
    temporal_split,
)
from ._data.timesplit import TimeSplit, _as_epoch_seconds, time_split  # noqa: F401

__all__ = [
    "FoldInOut",
    "StrongGeneralizationSplit",
    "TimeSplit",
    "per_user_split",
    "random_split",
    "sequential_split_from_ratings",
    "strong_generalization_from_ratings",
    "strong_generalization_split",
    "temporal_heldout_split",
    "temporal_split",
    "time_split",
]
