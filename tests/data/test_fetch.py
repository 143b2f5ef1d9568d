"""autorec_fast.datasets.fetch against a real HTTP server on 127.0.0.1 (no mocks).

The server serves zip archives the tests build themselves; their checksums are
registered in ``datasets.ARCHIVES`` (monkeypatched) and the server's URL is
passed as ``base_url`` (or ``$AUTOREC_FAST_MIRROR``). No MovieLens file is
needed, except by the one test that rebuilds an archive from the real ML-100K
files when they are present.
"""

import hashlib
import http.server
import io
import os
import socket
import threading
import zipfile

import numpy as np
import pytest

import autorec_fast as af
from autorec_fast import datasets
from autorec_fast._data.fetch import Archive

RATINGS = b"userId,movieId,rating,timestamp\n1,10,4.0,100\n1,20,3.5,101\n2,10,5.0,102\n3,30,1.0,103\n"


def make_zip(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def register(monkeypatch, name, blob, ratings, *, sha256=True, size=True):
    archive = Archive(
        ratings,
        len(blob) if size is True else size,
        hashlib.sha256(blob).hexdigest() if sha256 is True else sha256,
    )
    monkeypatch.setitem(datasets.ARCHIVES, name, archive)
    return archive


class Server:
    """http.server in a thread serving ``files`` (path -> bytes); counts the requests."""

    def __init__(self):
        self.files, self.requests = {}, []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                owner.requests.append(self.path)
                body = owner.files.get(self.path)
                if body is None:
                    self.send_error(404, "Not Found")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/zip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/movielens"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def server(monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.delenv("AUTOREC_FAST_MIRROR", raising=False)
    s = Server()
    yield s
    s.close()


@pytest.fixture
def tiny(server, monkeypatch):
    """A small MovieLens-like archive ``tiny.zip`` served and registered."""
    blob = make_zip({"tiny/ratings.csv": RATINGS, "tiny/README.txt": b"test archive\n"})
    server.files["/movielens/tiny.zip"] = blob
    register(monkeypatch, "tiny", blob, "tiny/ratings.csv")
    return blob


def listing(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_the_official_table():
    assert set(datasets.ARCHIVES) == {"ml-100k", "ml-1m", "ml-20m", "ml-latest-small"}
    for name, archive in datasets.ARCHIVES.items():
        assert archive.ratings.startswith(name + "/")
        assert archive.sha256 is not None and len(archive.sha256) == 64 and archive.size > 0


def test_download_extract_and_load(server, tiny, tmp_path, capsys):
    path = datasets.fetch("tiny", cache_dir=tmp_path, base_url=server.url)
    assert path == tmp_path / "tiny" / "ratings.csv"
    assert path.read_bytes() == RATINGS
    assert server.requests == ["/movielens/tiny.zip"]
    assert listing(tmp_path) == ["tiny", "tiny.zip", "tiny/README.txt", "tiny/ratings.csv"]  # no temporaries
    assert (tmp_path / "tiny.zip").read_bytes() == tiny
    err = capsys.readouterr().err
    assert f"downloading {server.url}/tiny.zip" in err and "100%" in err
    data = af.load_movielens(path)
    assert data.nnz == 4 and data.shape == (3, 3)
    np.testing.assert_array_equal(np.sort(data.matrix.data), [1.0, 3.5, 4.0, 5.0])


def test_second_call_makes_no_request(server, tiny, tmp_path):
    first = datasets.fetch("tiny", cache_dir=tmp_path, base_url=server.url, progress=False)
    second = datasets.fetch("tiny", cache_dir=tmp_path, base_url=server.url, progress=False)
    assert first == second and len(server.requests) == 1
    # the extracted folder gone, the verified archive is extracted again without a request
    for p in sorted((tmp_path / "tiny").iterdir()):
        p.unlink()
    (tmp_path / "tiny").rmdir()
    assert datasets.fetch("tiny", cache_dir=tmp_path, base_url=server.url, progress=False) == first
    assert len(server.requests) == 1
    # force=True downloads again
    assert datasets.fetch("tiny", cache_dir=tmp_path, base_url=server.url, progress=False, force=True) == first
    assert len(server.requests) == 2 and first.read_bytes() == RATINGS


def test_a_corrupt_cached_archive_is_downloaded_again(server, tiny, tmp_path):
    (tmp_path / "tiny.zip").write_bytes(b"not the archive")
    path = datasets.fetch("tiny", cache_dir=tmp_path, base_url=server.url, progress=False)
    assert path.read_bytes() == RATINGS and len(server.requests) == 1
    assert (tmp_path / "tiny.zip").read_bytes() == tiny


def test_default_cache_dir_and_mirror_from_the_environment(server, tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOREC_FAST_DATA", str(tmp_path))
    monkeypatch.setenv("AUTOREC_FAST_MIRROR", server.url + "/")
    assert datasets.fetch("tiny", progress=False) == tmp_path / "tiny" / "ratings.csv"
    assert server.requests == ["/movielens/tiny.zip"]


def test_files_already_in_the_data_folder_are_used_as_they_are(server, tmp_path, monkeypatch):
    (tmp_path / "ml-100k").mkdir()
    (tmp_path / "ml-100k" / "u.data").write_bytes(b"1\t2\t3\t4\n")
    monkeypatch.setenv("AUTOREC_FAST_DATA", str(tmp_path))
    assert datasets.fetch("ml-100k", base_url=server.url) == tmp_path / "ml-100k" / "u.data"
    assert server.requests == []


def test_checksum_mismatch_keeps_nothing(server, tiny, tmp_path, monkeypatch):
    register(monkeypatch, "tiny", tiny, "tiny/ratings.csv", sha256="0" * 64)
    with pytest.raises(ValueError, match="SHA-256 .* does not match"):
        datasets.fetch("tiny", cache_dir=tmp_path, base_url=server.url, progress=False)
    assert listing(tmp_path) == []
    register(monkeypatch, "tiny", tiny, "tiny/ratings.csv", size=len(tiny) + 1)
    with pytest.raises(ValueError, match=f"downloaded {len(tiny)} bytes, expected {len(tiny) + 1}"):
        datasets.fetch("tiny", cache_dir=tmp_path, base_url=server.url, progress=False)
    assert listing(tmp_path) == []


def test_unknown_checksum_needs_verify_false(server, tiny, tmp_path, monkeypatch):
    register(monkeypatch, "tiny", tiny, "tiny/ratings.csv", sha256=None, size=None)
    with pytest.raises(ValueError, match="no trustworthy SHA-256.*verify=False"):
        datasets.fetch("tiny", cache_dir=tmp_path, base_url=server.url, progress=False)
    assert server.requests == [] and listing(tmp_path) == []
    path = datasets.fetch("tiny", cache_dir=tmp_path, base_url=server.url, progress=False, verify=False)
    assert path.read_bytes() == RATINGS


def test_http_404_names_the_url(server, tiny, tmp_path):
    url = server.url + "/missing"
    with pytest.raises(datasets.DownloadError, match=f"{url}/tiny.zip failed: HTTP 404"):
        datasets.fetch("tiny", cache_dir=tmp_path, base_url=url, progress=False)
    assert issubclass(datasets.DownloadError, OSError)
    assert listing(tmp_path) == []


def test_network_failure_names_the_url(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(datasets.DownloadError, match=f"downloading {url}/tiny.zip failed"):
        datasets.fetch("tiny", cache_dir=tmp_path, base_url=url, progress=False, timeout=5)


@pytest.mark.parametrize("member", ["../evil.txt", "tiny/../../evil.txt", "/tmp/evil.txt", "C:/evil.txt",
                                    "tiny\\..\\..\\evil.txt"])
def test_path_traversal_is_refused(server, tmp_path, monkeypatch, member):
    blob = make_zip({"tiny/ratings.csv": RATINGS, member: b"evil"})
    server.files["/movielens/tiny.zip"] = blob
    register(monkeypatch, "tiny", blob, "tiny/ratings.csv")
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match="absolute path or '..'; refusing"):
        datasets.fetch("tiny", cache_dir=cache, base_url=server.url, progress=False)
    assert listing(cache) == ["tiny.zip"]  # verified archive kept, nothing extracted
    assert not list(tmp_path.rglob("evil.txt"))


def test_symlink_member_is_refused(server, tmp_path, monkeypatch):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("tiny/ratings.csv", RATINGS)
        link = zipfile.ZipInfo("tiny/link")
        link.external_attr = (0o120777 << 16)
        zf.writestr(link, "/etc/passwd")
    blob = buf.getvalue()
    server.files["/movielens/tiny.zip"] = blob
    register(monkeypatch, "tiny", blob, "tiny/ratings.csv")
    with pytest.raises(ValueError, match="symbolic link"):
        datasets.fetch("tiny", cache_dir=tmp_path, base_url=server.url, progress=False)
    assert not (tmp_path / "tiny").exists()


def test_archive_without_the_ratings_file(server, tmp_path, monkeypatch):
    blob = make_zip({"tiny/other.csv": RATINGS})
    server.files["/movielens/tiny.zip"] = blob
    register(monkeypatch, "tiny", blob, "tiny/ratings.csv")
    with pytest.raises(ValueError, match="has no member 'tiny/ratings.csv'"):
        datasets.fetch("tiny", cache_dir=tmp_path, base_url=server.url, progress=False)
    assert listing(tmp_path) == ["tiny.zip"]


def test_a_foreign_folder_is_not_replaced_without_force(server, tiny, tmp_path):
    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "mine.txt").write_text("keep")
    with pytest.raises(FileExistsError, match="force=True"):
        datasets.fetch("tiny", cache_dir=tmp_path, base_url=server.url, progress=False)
    assert server.requests == [] and (tmp_path / "tiny" / "mine.txt").read_text() == "keep"
    datasets.fetch("tiny", cache_dir=tmp_path, base_url=server.url, progress=False, force=True)
    assert listing(tmp_path / "tiny") == ["README.txt", "ratings.csv"]


@pytest.mark.parametrize("name", ["ml-10m", "ML-100K", None, 3])
def test_unknown_name_lists_the_names(name, tmp_path):
    with pytest.raises(ValueError, match="available: ml-100k, ml-1m, ml-20m, ml-latest-small"):
        datasets.fetch(name, cache_dir=tmp_path)
    assert listing(tmp_path) == []


def test_real_ml100k_archive(server, tmp_path, monkeypatch, ml100k_path):
    """An archive rebuilt from the real ML-100K files (skipped without them) loads
    into the expected 943 x 1682 matrix through fetch + load_movielens."""
    folder = ml100k_path.parent
    blob = make_zip({f"ml-100k/{p.name}": p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()})
    server.files["/movielens/ml-100k.zip"] = blob
    register(monkeypatch, "ml-100k", blob, "ml-100k/u.data")
    path = datasets.fetch("ml-100k", cache_dir=tmp_path, base_url=server.url, progress=False)
    assert path.read_bytes() == ml100k_path.read_bytes()
    data = af.load_movielens(path)
    assert data.nnz == 100_000 and data.shape == (943, 1682)
    assert sorted(os.listdir(tmp_path / "ml-100k")) == sorted(os.listdir(folder))
