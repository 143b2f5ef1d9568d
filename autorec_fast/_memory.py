"""Memory checks before the big allocations: fail early with the numbers, not with the OOM killer."""

from __future__ import annotations

import os

try:  # POSIX only
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None


def available_bytes() -> int | None:
    """Memory the process can still take (MemAvailable, capped by a cgroup limit), or None."""
    avail = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as f:
                raw = f.read().strip()
            used_path = path.replace("memory.max", "memory.current").replace(
                "limit_in_bytes", "usage_in_bytes"
            )
            with open(used_path) as f:
                used = int(f.read().strip())
        except (OSError, ValueError):
            continue
        if raw.isdigit() and int(raw) < (1 << 60):
            avail = min(avail, max(0, int(raw) - used))
    limit = _rlimit_headroom()
    return avail if limit is None else min(avail, limit)


def _rlimit_headroom() -> int | None:
    """What ``ulimit -v`` / ``-d`` (RLIMIT_AS / RLIMIT_DATA) still allow this process, or None."""
    if resource is None:
        return None
    headroom = None
    for limit_name, status_key in (("RLIMIT_AS", "VmSize:"), ("RLIMIT_DATA", "VmData:")):
        soft = resource.getrlimit(getattr(resource, limit_name))[0]
        if soft == resource.RLIM_INFINITY or soft < 0:
            continue
        used = 0
        try:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith(status_key):
                        used = int(line.split()[1]) * 1024
                        break
        except OSError:
            pass
        room = max(0, soft - used)
        headroom = room if headroom is None else min(headroom, room)
    return headroom


def gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


#: bytes the library may hold per row and per column of a matrix in O(rows + columns)
#: arrays (row pointers, per-row and per-column counts, masks, id maps): a budget, not
#: a measurement, so a shape of 2**40 is refused before anything is allocated
BYTES_PER_ROW_OR_COLUMN = 64
_SMALL = 64 << 20  # below this, no check (reading /proc costs more than the arrays)


def require_shape(shape, name: str) -> None:
    """MemoryError naming ``name`` when arrays over the rows and columns of ``shape`` would not fit.

    A sparse matrix can declare a shape far larger than its entries (say
    (5, 2**40) with 3 entries); every pass that counts per row or per column
    then allocates in proportion to the shape. Checked where a shape enters
    the library (:func:`~autorec_fast._validation.check_csr`).
    """
    nbytes = BYTES_PER_ROW_OR_COLUMN * (int(shape[0]) + int(shape[1]))
    if nbytes > _SMALL:
        require(nbytes, f"{name} of shape {tuple(int(n) for n in shape)} (per-row and per-column arrays)")


def require(nbytes: int, what: str) -> None:
    """Raise MemoryError naming ``what`` when ``nbytes`` exceed the memory available."""
    avail = available_bytes()
    if avail is not None and nbytes > avail:
        raise MemoryError(
            f"{what} needs {gib(nbytes)} but only {gib(avail)} of memory is available"
        )
