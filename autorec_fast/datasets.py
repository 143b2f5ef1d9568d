"""Dataset loaders, preprocessing helpers and a synthetic data generator.

* :func:`fetch` downloads a MovieLens archive from GroupLens once (checked
  against a pinned SHA-256) and returns its ratings file's path
  (implemented in :mod:`autorec_fast._data.fetch`).
* :func:`load_movielens` reads the MovieLens rating files (ML-100K ``u.data``,
  ML-1M/10M ``ratings.dat``, ML-20M/25M/latest ``ratings.csv``).
* :func:`binarize` and :func:`filter_min_counts` implement the preprocessing
  of the strong-generalization protocol (Liang et al. 2018).
* :func:`synthetic` generates MovieLens/Netflix/MSD-shaped data with a planted
  low-rank structure, fast and without a dense users x items matrix
  (implemented in :mod:`autorec_fast._data.synthetic`).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from ._data.coerce import _check_finite_number, _check_int
from ._data.csr import _row_of_entries
from ._data.fetch import ARCHIVES, DownloadError, fetch
from ._data.synthetic import (  # noqa: F401
    SYNTHETIC_PRESETS,
    _segment_first_k,
    _user_activity,
    synthetic,
)
from .interactions import Interactions, as_interactions

__all__ = [
    "fetch",
    "ARCHIVES",
    "DownloadError",
    "load_movielens",
    "binarize",
    "filter_min_counts",
    "synthetic",
    "SYNTHETIC_PRESETS",
]


# ---------------------------------------------------------------------------
# MovieLens
# ---------------------------------------------------------------------------
_MOVIELENS_FILES = ("u.data", "ratings.dat", "ratings.csv")


def _detect_format(path, head):
    """Return "tab", "dat" or "csv" from the file name, else from its first line."""
    name = path.name.lower()
    if name == "u.data" or path.suffix.lower() in (".data", ".base", ".test"):
        return "tab"
    if path.suffix.lower() == ".dat":
        return "dat"
    if path.suffix.lower() == ".csv":
        return "csv"
    first = head.split(b"\n", 1)[0].strip()
    if b"::" in first:
        return "dat"
    if first.lower().startswith(b"userid,"):
        return "csv"
    if len(first.split(b"\t")) == 4:
        return "tab"
    raise ValueError(
        f"path {str(path)!r}: unknown rating file format (expected u.data, "
        f"ratings.dat or ratings.csv)"
    )


def _parse_table(path, raw, fmt):
    """Parse the rating file bytes into an (n, 4) float64 array in file order."""
    if fmt == "csv":
        newline = raw.find(b"\n")
        header_line = raw if newline < 0 else raw[:newline]
        header = [h.strip() for h in header_line.decode("utf-8", "replace").split(",")]
        wanted = ["userId", "movieId", "rating", "timestamp"]
        if header[: len(wanted)] != wanted and sorted(header) != sorted(wanted):
            raise ValueError(
                f"path {str(path)!r}: ratings.csv must start with the header "
                f"'userId,movieId,rating,timestamp', got {header_line[:80]!r}"
            )
        columns = [header.index(w) for w in wanted]
        body = b"" if newline < 0 else raw[newline + 1 :].replace(b",", b" ")
        ncol = len(header)
    elif fmt == "dat":
        body = raw.replace(b"::", b" ")
        columns, ncol = [0, 1, 2, 3], 4
    else:
        body = raw
        columns, ncol = [0, 1, 2, 3], 4
    body = body.strip()
    if not body:
        raise ValueError(f"path {str(path)!r} holds no ratings")
    n_lines = body.count(b"\n") + 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)
            values = np.fromstring(body, dtype=np.float64, sep=" ")
    except (ValueError, DeprecationWarning):
        values = None
    if values is None or values.size != n_lines * ncol:
        raise ValueError(
            f"path {str(path)!r}: could not parse {n_lines} lines of {ncol} "
            f"numeric fields ({fmt} format)"
        )
    return values.reshape(n_lines, ncol)[:, columns]


def load_movielens(path, *, min_rating=None, binarize=False):
    """Load a MovieLens ratings file.

    The format is detected from the file name (``u.data``/``*.base``/
    ``*.test``: tab-separated ML-100K; ``*.dat``: ``::``-separated ML-1M/10M;
    ``*.csv``: ML-20M/25M/latest with header
    ``userId,movieId,rating,timestamp``), else from the first line.

    Parameters
    ----------
    path : str or os.PathLike
        The ratings file, or a directory containing ``u.data``,
        ``ratings.dat`` or ``ratings.csv``.
    min_rating : float, optional
        Keep only ratings ``>= min_rating`` (inclusive). For the strict
        ``rating > threshold`` rule of the strong-generalization protocol use
        :func:`binarize`.
    binarize : bool, default False
        Replace the (kept) ratings by 1.0 (``has_ratings=False``).

    Returns
    -------
    Interactions
        Rows are the sorted unique user ids, columns the sorted unique item
        ids (int64); ``entry_order`` is the file row order; ratings are
        float32 (half stars are exact); timestamps are int64 seconds.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist (or a directory without a ratings file).
    ValueError
        Unknown or malformed format, empty file, or no rating left after
        ``min_rating``.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or PathLike, got {type(path).__name__}")
    path = Path(path)
    if path.is_dir():
        for name in _MOVIELENS_FILES:
            if (path / name).is_file():
                path = path / name
                break
        else:
            raise FileNotFoundError(
                f"path {str(path)!r} is a directory without any of {_MOVIELENS_FILES}"
            )
    if not path.exists():
        raise FileNotFoundError(f"path {str(path)!r} does not exist")
    if not path.is_file():  # a device, a FIFO, a socket: reading could block or never end
        raise ValueError(f"path {str(path)!r} is not a regular file")
    if min_rating is not None:
        _check_finite_number(min_rating, "min_rating")
    raw = path.read_bytes()
    fmt = _detect_format(path, raw[:4096])
    table = _parse_table(path, raw, fmt)
    users, items, ratings, timestamps = table.T
    # The fields are parsed as float64 (one fast pass): integers are exact only up to
    # 2**53, so larger ids (which would merge) and non-finite or huge values are refused.
    for arr, what in ((users, "user id"), (items, "item id"), (timestamps, "timestamp")):
        bad = ~np.isfinite(arr) | (arr != np.floor(arr)) | (np.abs(arr) >= 2.0**53)
        if bad.any():
            line = int(np.flatnonzero(bad)[0]) + (2 if fmt == "csv" else 1)
            raise ValueError(f"path {str(path)!r}, line {line}: {what} {arr[bad][0]!r} is not an "
                             f"integer below 2**53")
    if not np.isfinite(ratings).all():
        line = int(np.flatnonzero(~np.isfinite(ratings))[0]) + (2 if fmt == "csv" else 1)
        raise ValueError(f"path {str(path)!r}, line {line}: the rating is not a finite number")
    if min_rating is not None:
        keep = ratings >= min_rating
        if not keep.any():
            raise ValueError(f"min_rating={min_rating!r} removes every rating")
        users, items, ratings, timestamps = (
            users[keep],
            items[keep],
            ratings[keep],
            timestamps[keep],
        )
        order = np.flatnonzero(keep)
    else:
        order = None
    result = Interactions.from_arrays(
        users.astype(np.int64),
        items.astype(np.int64),
        None if binarize else ratings,
        timestamps.astype(np.int64),
    )
    if order is not None:  # entry_order refers to the file rows
        m = result.matrix
        result = result._rebuild(m.indptr, m.indices, entry_order=order[result.entry_order])
    return result


# ---------------------------------------------------------------------------
# preprocessing
# ---------------------------------------------------------------------------
def binarize(interactions, threshold):
    """Keep ratings strictly greater than ``threshold`` and set them to 1.0.

    This is the strong-generalization recipe's ``rating > 3.5`` step.

    Parameters
    ----------
    interactions : Interactions or anything :func:`as_interactions` accepts
    threshold : float
        Entries with value ``> threshold`` are kept.

    Returns
    -------
    Interactions
        Same shape (users/items losing all entries become empty rows /
        columns; use :func:`filter_min_counts` to drop them),
        ``has_ratings=False``.
    """
    if threshold is None:
        raise TypeError("threshold must be a number, got None")
    return as_interactions(interactions).binarize(threshold)


def filter_min_counts(interactions, min_user_count=0, min_item_count=0):
    """One-pass count filter (not an iterative k-core).

    If ``min_item_count > 0``, first keep the items with at least
    ``min_item_count`` interacting users; then keep the users with at least
    ``min_user_count`` interactions, counted after the item filter. Items may
    fall below ``min_item_count`` after the user filter; this matches
    ``filter_triplets`` of dawenl/vae_cf.

    Parameters
    ----------
    interactions : Interactions or anything :func:`as_interactions` accepts
    min_user_count, min_item_count : int, default 0
        Non-negative thresholds.

    Returns
    -------
    Interactions
        Rows and columns left without entries (including ones that were
        already empty) are dropped; the others keep their relative order
        and original ids. Timestamps / ``entry_order`` are carried along.

    Raises
    ------
    ValueError
        Negative thresholds, or nothing left after filtering.
    """
    data = as_interactions(interactions)
    min_user_count = _check_int(min_user_count, "min_user_count", 0)
    min_item_count = _check_int(min_item_count, "min_item_count", 0)
    m = data.matrix
    n_users, n_items = m.shape
    mask = np.ones(data.nnz, dtype=bool)
    if min_item_count > 0:
        item_count = np.bincount(m.indices, minlength=n_items)
        mask &= (item_count >= min_item_count)[m.indices]
    row_of = _row_of_entries(m.indptr, n_users)
    user_count = np.bincount(row_of[mask], minlength=n_users)
    mask &= (user_count >= max(min_user_count, 1))[row_of]
    if not mask.any():
        raise ValueError(
            f"no interactions left after filtering with min_user_count="
            f"{min_user_count}, min_item_count={min_item_count}"
        )
    return data._compact(mask)
