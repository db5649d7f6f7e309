"""Rule splitter for Chinese (Simplified and Traditional script alike)."""

from __future__ import annotations

import re

from .base import SEGMENTERS, SentenceSplitter, trimmed

__all__ = ["ChineseSplitter"]


@SEGMENTERS.register("zh")
class ChineseSplitter(SentenceSplitter):
    """Ends a sentence after 。！？!? (runs of them) and any closing quotes or brackets that follow, except
    inside a 《》 title (``《你好吗?》这本书``).

    Why not sentencex here: it keeps ``一致。”8月19日`` together (no split after a closing quote followed by a
    digit) and splits list numbers such as ``1.本网``. An ASCII full stop never ends a Chinese sentence here
    (decimals ``5.3万``, list numbers ``1.``); ellipses ``……``, semicolons and colons do not either (a paragraph
    that ends in a colon is its own sentence because splitting is per paragraph).
    """

    name = "zh"
    version = 2
    BOUNDARY = re.compile(r"[。！？!?]+[”’」』）)】》\"']*")
    # A title in 《》 is a name, not a sentence: ``他读了《你好吗?》这本书。`` is one sentence. A 《 with no 》 within
    # this many characters is taken for a stray mark and does not hold back the split.
    MAX_TITLE = 60

    def split(self, text):
        spans = []
        start = 0
        for m in self.BOUNDARY.finditer(text):
            if self._inside_title(text, m.start()):
                continue
            spans.append((start, m.end()))
            start = m.end()
        spans.append((start, len(text)))
        return trimmed(text, spans)

    def _inside_title(self, text: str, pos: int) -> bool:
        opened = text.rfind("《", 0, pos)
        if opened < 0 or text.rfind("》", 0, pos) > opened:
            return False
        closed = text.find("》", pos)
        return closed >= 0 and closed - opened <= self.MAX_TITLE
