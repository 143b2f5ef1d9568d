"""Download the MovieLens archives from GroupLens into a local cache.

:func:`fetch` downloads ``<base_url>/<name>.zip`` to a temporary file in the
cache folder, checks its size and SHA-256 against :data:`ARCHIVES`, renames it
into place (``<cache>/<name>.zip``), extracts it member by member after
refusing any member that would land outside the folder, and returns the path
of the ratings file, ready for :func:`autorec_fast.load_movielens`.

Only the standard library is used (``urllib``). A failed download raises
:class:`DownloadError` naming the URL; there is no fallback to other mirrors.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import stat
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

DEFAULT_BASE_URL = "https://files.grouplens.org/datasets/movielens"


@dataclass(frozen=True)
class Archive:
    """One downloadable archive: its ratings file (a path inside the archive),
    its size in bytes and SHA-256 (``None`` where no trustworthy value is known:
    then :func:`fetch` refuses to download it unless ``verify=False``)."""

    ratings: str
    size: int | None
    sha256: str | None


# SHA-256 and sizes of the official GroupLens archives. They are pinned by
# TensorFlow Datasets (tensorflow_datasets/url_checksums/movielens.txt) and the
# same values are pinned independently by several other public projects, which
# report that their downloads matched the MD5 GroupLens publishes beside each
# archive (<name>.zip.md5): ml-100k 0e33842e24a9c977be4e0107933c0723, ml-1m
# c4d9eecfca2ab87c1945afe126590906, ml-20m cd245b17a1ae2cc31bb14903e1204af3.
# ml-latest-small is a "development" dataset that GroupLens may regenerate in
# place (the pinned archive is the one generated on 2018-09-26: 100,836 ratings
# by 610 users); a regenerated archive fails the check instead of loading
# silently different data.
ARCHIVES: dict[str, Archive] = {
    "ml-100k": Archive(
        "ml-100k/u.data", 4_924_029, "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229"),
    "ml-1m": Archive(
        "ml-1m/ratings.dat", 5_917_549, "a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20"),
    "ml-20m": Archive(
        "ml-20m/ratings.csv", 198_702_078, "96f243c338a8665f6bcc89c53edf6ee39162a846940de6b7c8c48aeada765ff3"),
    "ml-latest-small": Archive(
        "ml-latest-small/ratings.csv", 978_202, "696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436"),
}

_CHUNK = 1 << 20


class DownloadError(OSError):
    """A download failed (HTTP error, network error, truncated transfer); the message names the URL."""


def default_cache_dir() -> Path:
    """``$AUTOREC_FAST_DATA`` if set (the folder holding ``ml-100k/`` that the tests and
    benchmarks read), else ``~/.cache/autorec_fast``."""
    env = os.environ.get("AUTOREC_FAST_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "autorec_fast"


def fetch(name, *, cache_dir=None, force=False, verify=True, base_url=None, progress=True, timeout=60.0):
    """Download (once) a MovieLens dataset and return the path of its ratings file.

    ``af.load_movielens(af.datasets.fetch("ml-100k"))`` downloads ML-100K on the
    first call and reads the cached copy afterwards, without any network access.

    Parameters
    ----------
    name : str
        One of ``"ml-100k"``, ``"ml-1m"``, ``"ml-20m"``, ``"ml-latest-small"``
        (the keys of :data:`ARCHIVES`).
    cache_dir : str or os.PathLike, optional
        Folder holding ``<name>.zip`` and the extracted ``<name>/`` folder.
        Default: ``$AUTOREC_FAST_DATA`` if set, else ``~/.cache/autorec_fast``.
        A folder that already holds ``<name>/<ratings file>`` (for example
        ``../shared/data`` with ``ml-100k/u.data``) is used as it is.
    force : bool, default False
        Download and extract again even when the files are present (the old
        ``<name>/`` folder is replaced only once the new archive is verified).
    verify : bool, default True
        Check the archive's size and SHA-256 against :data:`ARCHIVES`; a
        mismatch is a ``ValueError`` and nothing is kept. An archive without a
        known checksum is refused unless ``verify=False``.
    base_url : str, optional
        Where ``<name>.zip`` is downloaded from. Default:
        ``$AUTOREC_FAST_MIRROR`` if set, else
        ``https://files.grouplens.org/datasets/movielens``.
    progress : bool, default True
        Report the bytes downloaded on stderr.
    timeout : float, default 60
        Seconds a connection or a read may block.

    Returns
    -------
    pathlib.Path
        ``<cache_dir>/ml-100k/u.data``, ``.../ml-1m/ratings.dat`` or
        ``.../<name>/ratings.csv``.

    Raises
    ------
    ValueError
        Unknown name, checksum or size mismatch, no known checksum with
        ``verify=True``, an archive member with an absolute path or ``..``, or
        an archive without the ratings file.
    DownloadError
        (an ``OSError``) HTTP or network failure, or a truncated transfer.
    FileExistsError
        ``<cache_dir>/<name>/`` exists without the ratings file (and
        ``force=False``): it is not ours to replace.
    """
    if not isinstance(name, str) or name not in ARCHIVES:
        raise ValueError(f"unknown dataset {name!r}; available: {', '.join(sorted(ARCHIVES))}")
    archive = ARCHIVES[name]
    if cache_dir is None:
        cache_dir = default_cache_dir()
    elif not isinstance(cache_dir, (str, os.PathLike)):
        raise TypeError(f"cache_dir must be a str or PathLike, got {type(cache_dir).__name__}")
    cache_dir = Path(cache_dir).expanduser()
    ratings = cache_dir / archive.ratings
    if ratings.is_file() and not force:
        return ratings
    if verify and archive.sha256 is None:
        raise ValueError(
            f"no trustworthy SHA-256 is known for {name}.zip, so it cannot be verified; pass "
            f"verify=False to download it anyway, or place the files at {ratings}")
    if base_url is None:
        base_url = os.environ.get("AUTOREC_FAST_MIRROR") or DEFAULT_BASE_URL
    url = f"{base_url.rstrip('/')}/{name}.zip"
    if (cache_dir / name).exists() and not force:
        raise FileExistsError(f"{cache_dir / name} exists but has no {PurePosixPath(archive.ratings).name}; "
                              f"remove it or pass force=True")
    cache_dir.mkdir(parents=True, exist_ok=True)
    zip_path = cache_dir / f"{name}.zip"
    if force or not (zip_path.is_file() and (not verify or _matches(zip_path, archive))):
        _download(url, zip_path, archive if verify else None, progress, timeout)
    _extract(zip_path, cache_dir, name, archive.ratings)
    return ratings


def _matches(path, archive):
    """Whether an archive already in the cache has the expected size and SHA-256."""
    if archive.size is not None and path.stat().st_size != archive.size:
        return False
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest() == archive.sha256


def _download(url, dest, archive, progress, timeout):
    """Stream ``url`` to a temporary file beside ``dest``, verify it against
    ``archive`` (unless None), then rename it to ``dest``."""
    request = urllib.request.Request(url, headers={"User-Agent": "autorec_fast"})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"downloading {url} failed: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DownloadError(f"downloading {url} failed: {reason}") from exc
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with response, os.fdopen(fd, "wb") as out:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            report = _Progress(url, total) if progress else None
            digest, done = hashlib.sha256(), 0
            try:
                while chunk := response.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    done += len(chunk)
                    if report:
                        report.update(done)
            except (OSError, http.client.HTTPException) as exc:  # reset, timeout, IncompleteRead
                raise DownloadError(f"downloading {url} failed after {done} bytes: {exc!r}") from exc
            finally:
                if report:
                    report.close(done)
        if total is not None and done != total:
            raise DownloadError(f"downloading {url} failed: got {done} of {total} bytes")
        if archive is not None:
            if archive.size is not None and done != archive.size:
                raise ValueError(f"{url}: downloaded {done} bytes, expected {archive.size}; the file was "
                                 f"deleted (if GroupLens changed the archive, update ARCHIVES or pass verify=False)")
            if digest.hexdigest() != archive.sha256:
                raise ValueError(f"{url}: SHA-256 {digest.hexdigest()} does not match the expected "
                                 f"{archive.sha256}; the file was deleted (if GroupLens changed the archive, "
                                 f"update ARCHIVES or pass verify=False)")
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class _Progress:
    """Bytes done / total on stderr: updated in place on a terminal, else start and end lines only."""

    def __init__(self, url, total):
        self.total, self.last = total, 0.0
        self.live = sys.stderr.isatty()
        size = f" ({_mb(total)} MB)" if total else ""
        print(f"autorec_fast: downloading {url}{size}", file=sys.stderr, flush=True)

    def _line(self, done):
        if self.total:
            return f"  {_mb(done)} / {_mb(self.total)} MB ({100 * done // self.total}%)"
        return f"  {_mb(done)} MB"

    def update(self, done):
        now = time.monotonic()
        if self.live and now - self.last >= 0.25:
            self.last = now
            print("\r" + self._line(done), end="", file=sys.stderr, flush=True)

    def close(self, done):
        print(("\r" if self.live else "") + self._line(done), file=sys.stderr, flush=True)


def _mb(n):
    return f"{n / 1e6:.1f}"


def _check_member(zip_path, info):
    """Refuse a member that would be written outside the extraction folder, or a link."""
    name = info.filename
    posix = name.replace("\\", "/")
    path = PurePosixPath(posix)
    if posix.startswith("/") or path.is_absolute() or (len(posix) > 1 and posix[1] == ":") or ".." in path.parts:
        raise ValueError(f"{zip_path}: member {name!r} has an absolute path or '..'; refusing to extract the archive")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ValueError(f"{zip_path}: member {name!r} is a symbolic link; refusing to extract the archive")


def _extract(zip_path, cache_dir, name, ratings):
    """Extract into a temporary folder, then move ``<name>/`` into ``cache_dir`` (replacing
    an existing one only once the new copy is complete)."""
    dest = cache_dir / name
    try:
        with zipfile.ZipFile(zip_path) as zf:
            members = zf.infolist()
            for info in members:
                _check_member(zip_path, info)
            tmp = Path(tempfile.mkdtemp(dir=cache_dir, prefix=f".{name}.extract."))
            try:
                for info in members:
                    zf.extract(info, tmp)
                if not (tmp / ratings).is_file():
                    raise ValueError(f"{zip_path} has no member {ratings!r}")
                if dest.exists():  # force=True
                    shutil.rmtree(dest)
                os.replace(tmp / name, dest)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    except zipfile.BadZipFile as exc:
        raise ValueError(f"{zip_path} is not a valid zip archive: {exc}") from exc
