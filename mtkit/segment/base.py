"""The splitter registry and the base class every sentence splitter implements."""

from __future__ import annotations

from typing import Iterable

from ..registry import Registry
from ..utils import make_signature

__all__ = ["SEGMENTERS", "SentenceSplitter", "trimmed"]

SEGMENTERS: Registry = Registry("sentence splitter")
_SPACE = " \t\r\n\f\v\u00a0\u3000"


class SentenceSplitter:
    """Base: ``split(text)`` returns ``(start, end)`` spans of the sentences of one paragraph.

    Spans index ``text`` and are trimmed of surrounding whitespace, so a sentence is always a verbatim slice.
    """

    name = ""
    version = 1

    def split(self, text: str) -> list[tuple[int, int]]:
        raise NotImplementedError

    def signature(self) -> str:
        return make_signature(f"segment:{self.name}", v=self.version)


def trimmed(text: str, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans shrunk to drop surrounding whitespace; spans left empty are dropped."""
    out = []
    for s, e in spans:
        while s < e and text[s] in _SPACE:
            s += 1
        while e > s and text[e - 1] in _SPACE:
            e -= 1
        if e > s:
            out.append((s, e))
    return out
