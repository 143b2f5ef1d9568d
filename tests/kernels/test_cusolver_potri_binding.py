"""The ctypes binding of cuSOLVER's potri (CuPy wraps potrf but not potri, so the CUDA
EASE calls it in the libcusolver CuPy loaded: ``backends/cuda.py``), checked here
against a stand-in library with the same C signatures, compiled for the test: the
arguments must arrive in order and with their C types, the buffer size must come
back, and a non-zero status must raise. No GPU is needed."""

import ctypes
import shutil
import subprocess
import sys
import textwrap

import pytest

from autorec_fast.backends import cuda_available

STAND_IN = r"""
long long last[8];
int cusolverDnSpotri_bufferSize(void *h, int uplo, int n, float *a, int lda, int *lwork) {
  last[0] = (long long)h; last[1] = uplo; last[2] = n; last[3] = (long long)a; last[4] = lda;
  *lwork = 3 * n;
  return 0;
}
int cusolverDnSpotri(void *h, int uplo, int n, float *a, int lda, float *work, int lwork, int *info) {
  last[0] = (long long)h; last[1] = uplo; last[2] = n; last[3] = (long long)a; last[4] = lda;
  last[5] = (long long)work; last[6] = lwork; last[7] = (long long)info;
  return n < 0 ? 7 : 0;  /* 7: CUSOLVER_STATUS_INTERNAL_ERROR, for the error path */
}
"""


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build the stand-in library")
    if cuda_available():
        pytest.skip("a real libcusolver may be loaded here: the stand-in takes its soname")
    folder = tmp_path_factory.mktemp("cusolver")
    (folder / "stand_in.c").write_text(STAND_IN)
    lib = folder / "libcusolver.so.12"
    subprocess.run([cc, "-shared", "-fPIC", "-Wl,-soname,libcusolver.so.12", "-o", str(lib),
                    str(folder / "stand_in.c")], check=True)
    return lib


def test_potri_arguments_reach_the_library_in_order(stand_in):
    from autorec_fast.backends.cuda import _wrap_potri

    lib = ctypes.CDLL(str(stand_in))
    assert _wrap_potri(lib, "stand-in", "d") is None  # no cusolverDnDpotri in it
    buffer_size, potri, source = _wrap_potri(lib, "stand-in", "s")
    assert source == "stand-in through ctypes"
    last = (ctypes.c_longlong * 8).in_dll(lib, "last")
    handle, a, work, info = 0x7F00_0000_1000, 0x7F00_0000_2000, 0x7F00_0000_3000, 0x7F00_0000_4000
    assert buffer_size(handle, 1, 20_000, a, 20_000) == 60_000
    assert list(last[:5]) == [handle, 1, 20_000, a, 20_000]
    potri(handle, 1, 20_000, a, 20_000, work, 60_000, info)
    assert list(last) == [handle, 1, 20_000, a, 20_000, work, 60_000, info]
    with pytest.raises(RuntimeError, match="cusolverDnSpotri returned cuSOLVER status 7"):
        potri(handle, 1, -1, a, 1, work, 0, info)


def test_only_a_library_already_loaded_is_used(stand_in):
    """Found by soname among the libraries in the process (RTLD_NOLOAD), never loaded
    from disk: a separate process, so the stand-in never shares one with CuPy."""
    script = textwrap.dedent(f"""
        import ctypes, os
        from autorec_fast.backends.cuda import _potri_through_ctypes
        assert _potri_through_ctypes("s") is None  # nothing loaded yet
        ctypes.CDLL({str(stand_in)!r}, mode=os.RTLD_GLOBAL)  # as CuPy's wrapper loads it
        found = _potri_through_ctypes("s")
        assert found is not None and found[2] == "libcusolver.so.12 through ctypes", found
        assert found[0](1, 1, 5, 2, 5) == 15
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=stand_in.parent)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_found_through_the_wrapper_module_that_links_it(stand_in, tmp_path):
    """The library CuPy's wrapper module was linked against is found through that
    module's handle, whatever its soname (here one no soname search would find)."""
    cc = shutil.which("cc") or shutil.which("gcc")
    lib = tmp_path / "libcusolver_elsewhere.so"
    subprocess.run([cc, "-shared", "-fPIC", "-Wl,-soname,libcusolver_elsewhere.so", "-o", str(lib),
                    str(stand_in.parent / "stand_in.c")], check=True)
    (tmp_path / "wrapper.c").write_text(  # a call, so that the linker keeps the dependency
        "int cusolverDnSpotri(void *, int, int, float *, int, float *, int, int *);\n"
        "int wrapper_calls_it(void) { return cusolverDnSpotri(0, 0, -1, 0, 0, 0, 0, 0); }\n")
    wrapper = tmp_path / "wrapper.so"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(wrapper), str(tmp_path / "wrapper.c"), f"-L{tmp_path}",
                    "-l:libcusolver_elsewhere.so", f"-Wl,-rpath,{tmp_path}"], check=True)
    script = textwrap.dedent(f"""
        import ctypes, os
        from autorec_fast.backends.cuda import _potri_through_ctypes
        ctypes.CDLL({str(wrapper)!r})  # as importing CuPy's wrapper loads its libcusolver
        found = _potri_through_ctypes("s", {str(wrapper)!r})
        assert found is not None and found[2] == "CuPy's cuSOLVER wrapper through ctypes", found
        assert _potri_through_ctypes("s") is None  # no libcusolver soname in the process
        assert found[0](1, 1, 4, 2, 4) == 12
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
