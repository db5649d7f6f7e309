"""Rule splitter for Chinese (Simplified and Traditional script alike)."""

from __future__ import annotations

import re

from .base import SEGMENTERS, SentenceSplitter, trimmed

__all__ = ["ChineseSplitter"]


@SEGMENTERS.register("zh")
class ChineseSplitter(SentenceSplitter):
    """Ends a sentence after 。！？!? (runs of them) and any closing quotes or brackets that follow.

    Why not sentencex here: it keeps ``一致。”8月19日`` together (no split after a closing quote followed by a
    digit) and splits list numbers such as ``1.本网``. An ASCII full stop never ends a Chinese sentence here
    (decimals ``5.3万``, list numbers ``1.``); ellipses ``……``, semicolons and colons do not either (a paragraph
    that ends in a colon is its own sentence because splitting is per paragraph).
    """

    name = "zh"
    BOUNDARY = re.compile(r"[。！？!?]+[”’」』）)】》\"']*")

    def split(self, text):
        spans = []
        start = 0
        for m in self.BOUNDARY.finditer(text):
            spans.append((start, m.end()))
            start = m.end()
        spans.append((start, len(text)))
        return trimmed(text, spans)
