"""The model registry and ``train``: one name per model, one trainer class each.

Where the kernels live: each model's module names its C++ and CUDA sources at
the top (e.g. ``ease.py`` -> ``csrc/cpu/ease.cpp``, ``csrc/cuda/ease.cu``); a
model reaches them only through its backend (``autorec_fast/backends/``), and
ARCHITECTURE.md has the table of every model's kernels.
"""

from __future__ import annotations

import inspect

from .base import Recommender
from .autorec import AutoRec
from .bias import BiasBaseline
from .cdae import CDAE
from .deeprec import DeepRec
from .ease import EASE
from .itemknn import ItemKNN
from .multvae import MultDAE, MultVAE
from .popularity import Popularity
from .svae import SVAE

MODELS: dict[str, type[Recommender]] = {"ease": EASE, "autorec": AutoRec, "multvae": MultVAE,
                                        "multdae": MultDAE, "cdae": CDAE, "deeprec": DeepRec,
                                        "svae": SVAE,
                                        # baselines (NumPy/SciPy, CPU only)
                                        "popularity": Popularity, "bias": BiasBaseline, "itemknn": ItemKNN}


def train(model: str, data, **params) -> Recommender:
    """Train a model by name on ``data`` and return it fitted.

    Parameters
    ----------
    model : str
        One of ``autorec_fast.MODELS`` (e.g. ``"ease"``).
    data
        Interactions: an ``Interactions``, a SciPy sparse users x items matrix,
        ``(users, items[, ratings])`` arrays, a dense array, or a pandas
        DataFrame with ``user``/``item`` (and ``rating``/``timestamp``) columns.
    **params
        The model's hyper-parameters (see its class, e.g. ``autorec_fast.EASE``)
        plus ``device`` ("cpu" or "cuda"), and its ``fit`` options (e.g.
        ``validation``, ``callbacks``): each goes where its name is a parameter.

    Examples
    --------
    >>> model = autorec_fast.train("ease", data, l2=500.0)
    >>> items, scores = model.recommend(history, k=20)
    """
    if not isinstance(model, str):
        raise TypeError(f"model must be a model name (str), got {type(model).__name__}")
    key = model.lower().replace("-", "").replace("_", "")
    if key not in MODELS:
        raise ValueError(f"unknown model {model!r}; choose one of {sorted(MODELS)}")
    cls = MODELS[key]
    # hyper-parameters go to the constructor, data-like extras (validation, side
    # features) to fit()
    init_args = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    fit_args = [p for p in inspect.signature(cls.fit).parameters if p not in ("self", "data")]
    unknown = sorted(set(params) - set(init_args) - set(fit_args))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for model {key!r}; it takes "
                         f"{init_args + fit_args}")
    model = cls(**{k: v for k, v in params.items() if k in init_args})
    return model.fit(data, **{k: v for k, v in params.items() if k in fit_args})


__all__ = ["MODELS", "Recommender", "AutoRec", "BiasBaseline", "CDAE", "DeepRec", "EASE", "ItemKNN", "MultDAE",
           "MultVAE", "Popularity", "SVAE", "train"]
