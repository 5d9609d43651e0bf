"""Which key labels which class: 0–9 for the first ten, then letters, shown on the buttons.

The page's other keys (assets/keyboard.js) are Backspace/Delete, the arrows, Space, and
Ctrl/⌘ with Z or Y; no plain letter is taken, but ``s`` is kept free for Skip. After the
digits come the lowercase letters, then Shift with a letter (uppercase), so up to 60 classes
get a key; any further class is labeled with its button.
"""
from __future__ import annotations

DIGITS = "0123456789"
#: letters kept for the page's own actions (``s``: skip an image), never given to a class
RESERVED = frozenset("sS")
LOWER = "".join(c for c in "abcdefghijklmnopqrstuvwxyz" if c not in RESERVED)
UPPER = "".join(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in RESERVED)
ORDER = DIGITS + LOWER + UPPER


def class_keys(num_classes: int) -> list[str | None]:
    """The key of each class, in class order (None once the keys run out)."""
    return [ORDER[i] if i < len(ORDER) else None for i in range(num_classes)]


def key_classes(num_classes: int) -> dict[str, int]:
    """Key → class index, for the classes that have a key."""
    return {k: i for i, k in enumerate(class_keys(num_classes)) if k is not None}


def _runs(keys: str, alphabet: str) -> list[str]:
    """``0–9``, ``a–c``: consecutive stretches of ``alphabet`` among ``keys``."""
    out, start, prev = [], None, None
    for ch in alphabet:
        if ch in keys:
            if start is None:
                start = ch
            prev = ch
        elif start is not None:
            out.append(start if start == prev else f"{start}–{prev}")
            start = None
    if start is not None:
        out.append(start if start == prev else f"{start}–{prev}")
    return out


def keys_summary(num_classes: int) -> str:
    """How the class keys read in the hints: ``0–2``, ``0–9, a–r``, ``0–9, a–z, A–F``.

    A stretch that crosses the reserved ``s`` is written whole (``a–z``): the button labels
    show which letter is whose."""
    keys = "".join(k for k in class_keys(num_classes) if k)
    parts = _runs(keys, DIGITS)
    for alphabet in ("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
        bridged = keys + "".join(  # a reserved letter between two keys does not break a stretch
            c for i, c in enumerate(alphabet) if c in RESERVED and 0 < i < len(alphabet) - 1
            and alphabet[i - 1] in keys and alphabet[i + 1] in keys)
        parts += _runs(bridged, alphabet)
    return ", ".join(parts)
