"""Memory checks before the big allocations: fail early with the numbers, not with the OOM killer."""

from __future__ import annotations

import os


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
    return avail


def gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def require(nbytes: int, what: str) -> None:
    """Raise MemoryError naming ``what`` when ``nbytes`` exceed the memory available."""
    avail = available_bytes()
    if avail is not None and nbytes > avail:
        raise MemoryError(
            f"{what} needs {gib(nbytes)} but only {gib(avail)} of memory is available"
        )
