"""Bounds checked before anything sized by a file's content is allocated: a crafted file must
be refused with one sentence, never exhaust the machine's memory."""
from __future__ import annotations

import os

from ssvae.errors import DataError

MAX_SIDE = 2048  # pixels per side of a data set's images (after resizing, for folders)


def memory_budget() -> int:
    """Bytes a data set's arrays may take: half of this machine's physical memory (8 GiB where
    the size cannot be read)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (AttributeError, ValueError, OSError):
        return 8 << 30


def check_bytes(nbytes: int, where: str, what: str) -> None:
    """Refuse an allocation of ``nbytes`` over :func:`memory_budget`."""
    budget = memory_budget()
    if nbytes > budget:
        raise DataError(f"{where}: {what} would take {_gib(nbytes)} of memory, more than the "
                        f"{_gib(budget)} (half of this machine's memory) a data set may use.")


def _gib(n: int) -> str:
    return f"{n / 2**30:,.1f} GiB"
