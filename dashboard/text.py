"""Words for the page's messages."""
from __future__ import annotations


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 label``, ``2 labels``, ``1,200 images`` (``many`` for irregular plurals)."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"
