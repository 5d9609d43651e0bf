"""Words for the page's messages."""
from __future__ import annotations


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 label``, ``2 labels``, ``1,200 images`` (``many`` for irregular plurals)."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


#: what each uncertainty score is called on the page: every score is higher where the model is
#: less sure (ssvae.ranking.scores; the "margin" score is 1 − (p₁ − p₂), not the margin itself)
SCORE_WORDS = {"margin": "uncertainty (1 − margin)", "entropy": "entropy",
               "least_confidence": "uncertainty (1 − confidence)", "bald": "BALD"}


def score_words(name: str | None) -> str:
    """The page's words for the uncertainty score ``name`` (hovers, queue, colour bar)."""
    return SCORE_WORDS.get(name or "", (name or "").replace("_", " "))
