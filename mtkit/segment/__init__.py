"""Sentence segmentation for zh, id, en (and any language sentencex knows).

Every splitter returns spans into the text it was given, trimmed of surrounding whitespace, so that a
sentence is always a verbatim slice of the raw page (``Sentence.start``/``end`` index the raw file).
"""

from __future__ import annotations

import functools
import re
from typing import Iterable, Iterator

from ..errors import ConfigError
from ..records import Document, Sentence
from ..registry import Registry
from ..utils import make_signature

__all__ = ["SEGMENTERS", "SentenceSplitter", "split_sentences", "segment_document", "segment_documents", "signature"]

SEGMENTERS: Registry = Registry("sentence splitter")
_SPACE = " \t\r\n\f\v\u00a0\u3000"


class SentenceSplitter:
    """Base: ``split(text)`` returns ``(start, end)`` spans of the sentences of one paragraph."""

    name = ""
    version = 1

    def split(self, text: str) -> list[tuple[int, int]]:
        raise NotImplementedError

    def signature(self) -> str:
        return make_signature(f"segment:{self.name}", v=self.version)


@SEGMENTERS.register("zh")
class ChineseSplitter(SentenceSplitter):
    """Ends a sentence after 。！？!? (runs of them) and any closing quotes or brackets that follow.

    Why not sentencex here: it keeps ``一致。”8月19日`` together (no split after a closing quote followed by a
    digit) and splits list numbers such as ``1.本网``. An ASCII full stop never ends a Chinese sentence here
    (decimals ``5.3万``, list numbers ``1.``); ellipses ``……`` and semicolons do not either.
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
        return _trimmed(text, spans)


class SentencexSplitter(SentenceSplitter):
    """sentencex (offline, rule-based, with per-language abbreviation lists) for Latin-script languages.

    It already handles a full stop with the space missing (``dunia.Menjalin``), numbers (``50.000``) and
    abbreviations (``P. R. China``, ``Dr.``). One repair on top: a piece that starts with a lowercase letter or
    a comma continues the sentence before it (``diluncurkan., dan``).
    """

    name = "sentencex"

    def __init__(self, lang: str):
        self.lang = lang
        self.name = f"sentencex-{lang}"

    def split(self, text):
        from sentencex import segment

        spans = []
        pos = 0
        for piece in segment(self.lang, text):
            if not piece:
                continue
            found = text.find(piece, pos)
            start = pos if found < 0 else found
            end = start + len(piece)
            spans.append((start, min(end, len(text))))
            pos = end
        if pos < len(text):
            spans.append((pos, len(text)))
        spans = _trimmed(text, spans)
        merged: list[tuple[int, int]] = []
        for s, e in spans:
            if merged and (text[s].islower() or text[s] in ",;:)"):
                merged[-1] = (merged[-1][0], e)
            else:
                merged.append((s, e))
        return merged


for _code in ("id", "en", "ms"):
    SEGMENTERS.register(_code)(functools.partial(SentencexSplitter, _code))


@functools.lru_cache(maxsize=None)
def get_splitter(lang: str) -> SentenceSplitter:
    from ..corpus.manifest import is_language_code

    if lang in SEGMENTERS:
        return SEGMENTERS.get(lang)()
    if lang in ("ja", "yue"):
        return ChineseSplitter()
    if is_language_code(lang):
        return SentencexSplitter(lang)
    raise ConfigError(f"no sentence splitter for language {lang!r}; known: {', '.join(SEGMENTERS.names())} "
                      "and any ISO 639-1 code (through sentencex)")


def split_sentences(text: str, lang: str) -> list[tuple[int, int]]:
    """Spans of the sentences of one paragraph of ``text`` in language ``lang``."""
    return get_splitter(lang).split(text)


def signature() -> str:
    return make_signature("segment", zh=ChineseSplitter().signature().split("|")[0], latin="sentencex")


def segment_document(doc: Document) -> list[Sentence]:
    """The document's sentences in order, each with offsets into the raw page.

    Spans are found on the raw paragraph text (``Paragraph.raw``); where the paragraph's ``text`` was changed
    (OpenCC conversion, annotations removed) the sentence's ``text`` is the changed form of that span.
    """
    sentences: list[Sentence] = []
    for p_index, paragraph in enumerate(doc.paragraphs):
        raw = paragraph.raw
        lang = paragraph.lang if paragraph.lang not in ("und", "") else doc.lang
        converted = paragraph.original is not None
        for s, e in split_sentences(raw, lang):
            original = raw[s:e]
            text = _convert_span(paragraph, original) if converted else original
            sentences.append(Sentence(doc.id, len(sentences), text, paragraph.lang, paragraph.script,
                                      paragraph.start + s, paragraph.start + e,
                                      original if converted else None, p_index,
                                      {"role": paragraph.meta["role"]} if "role" in paragraph.meta else {}))
    return sentences


def segment_documents(docs: Iterable[Document]) -> Iterator[Sentence]:
    for doc in docs:
        yield from segment_document(doc)


def _convert_span(paragraph, original: str) -> str:
    """Apply to one sentence what the paragraph went through: annotation removal, then OpenCC if the
    paragraph was converted from Traditional script."""
    from ..ingest.clean import strip_annotations

    text = strip_annotations(original)[0]
    if paragraph.meta.get("converted_from") == "Hant":
        from ..ingest.langid import _opencc

        text = _opencc("t2s").convert(text)
    return text


def _trimmed(text: str, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out = []
    for s, e in spans:
        while s < e and text[s] in _SPACE:
            s += 1
        while e > s and text[e - 1] in _SPACE:
            e -= 1
        if e > s:
            out.append((s, e))
    return out
