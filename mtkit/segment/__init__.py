"""Sentence segmentation for zh, id, en (and any language sentencex knows).

A registry of splitters by language (``SEGMENTERS``: ``zh`` in :mod:`.chinese`, ``id``/``en``/``ms`` through
sentencex in :mod:`.latin`). Every splitter returns spans into the text it was given, trimmed of surrounding
whitespace, so that a sentence is always a verbatim slice of the raw page (``Sentence.start``/``end`` index the
raw file).
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Iterable, Iterator

from ..errors import ConfigError
from ..records import Document, Paragraph, Sentence
from ..utils import make_signature, stable_hash
from .base import SEGMENTERS, SentenceSplitter
from .chinese import ChineseSplitter
from .latin import SentencexSplitter

__all__ = ["SEGMENTERS", "SentenceSplitter", "ChineseSplitter", "SentencexSplitter", "get_splitter", "join_sentences",
           "split_sentences", "segment_document", "segment_documents", "segment_path", "page_sentences",
           "sentence_record", "signature"]

log = logging.getLogger("mtkit.segment")


# languages whose sentences follow each other without a space (a full-width 。 ends them). Not Thai, Lao, Khmer,
# Burmese or Tibetan: they write no spaces between words but do put one between sentences and phrases
UNSPACED = frozenset({"zh", "ja", "yue"})


def join_sentences(sentences: Iterable[str], lang: str | None) -> str:
    """Consecutive sentences as one text (a bead's side, a long input's translated pieces): run together in
    Chinese and Japanese; with a space between them elsewhere (and when the language is unknown)."""
    return ("" if lang in UNSPACED else " ").join(sentences)


@functools.lru_cache(maxsize=None)
def get_splitter(lang: str) -> SentenceSplitter:
    """The registered splitter for ``lang``; Japanese and Cantonese use the Chinese rules; any other ISO 639-1
    code goes to sentencex with its generic rules."""
    from ..languages import is_language_code

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
    """``segment:<digest>|zh:v..|latin:sentencex-v..|sentencex:<package version>``: the first field changes whenever
    a splitter is re-versioned or sentencex is upgraded, so that callers who keep only it (the corpus build's
    signature) still see the change."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        sentencex_version = version("sentencex")
    except PackageNotFoundError:  # pragma: no cover - sentencex is a dependency
        sentencex_version = "?"
    zh, latin = ChineseSplitter(), SentencexSplitter("en")
    parts = [zh.signature().split("|")[:2], latin.signature().split("|")[:2], sentencex_version]
    return make_signature(f"segment:{stable_hash(parts, length=8)}", zh=f"v{zh.version}",
                          latin=f"sentencex-v{latin.version}", sentencex=sentencex_version)


def segment_document(doc: Document) -> list[Sentence]:
    """The document's sentences in order, each with offsets into the raw page.

    A paragraph whose ``text`` is its raw slice is split as it is. Where ingest edited the text (character
    references decoded, ruby annotations removed, lost spaces put back: :func:`mtkit.ingest.clean.edited_text`;
    OpenCC conversion), the edited text is split, as a reader sees it (``setempat.&nbsp;Menurut`` is two
    sentences, ``&quot;`` no sentence end), and each span maps back to the raw slice it came from: the
    sentence's ``text`` is the paragraph's text for that span and ``original`` the raw slice.
    """
    from ..ingest.clean import edited_text, raw_offsets

    sentences: list[Sentence] = []
    for p_index, paragraph in enumerate(doc.paragraphs):
        raw = paragraph.raw
        lang = paragraph.lang if paragraph.lang not in ("und", "") else doc.lang
        converted = paragraph.original is not None
        text, edits = edited_text(raw) if converted else (raw, [])
        starts, ends = raw_offsets(raw, edits) if edits else (None, None)
        meta = {"role": paragraph.meta["role"]} if "role" in paragraph.meta else {}
        for s, e in split_sentences(text, lang):
            raw_s, raw_e = (starts[s], ends[e - 1]) if edits else (s, e)
            original = raw[raw_s:raw_e]
            sentence_text = _converted_span(paragraph, text, s, e) if converted else original
            sentences.append(Sentence(doc.id, len(sentences), sentence_text, paragraph.lang, paragraph.script,
                                      paragraph.start + raw_s, paragraph.start + raw_e,
                                      original if converted else None, p_index, dict(meta)))
    return sentences


def segment_documents(docs: Iterable[Document]) -> Iterator[Sentence]:
    """Sentences of each document in turn (streams: one document in memory at a time)."""
    for doc in docs:
        yield from segment_document(doc)


def segment_path(path, *, lang: str | None = None, to_simplified: bool = False) -> Iterator[Sentence]:
    """Sentences of a raw page or of every page of a corpus directory (manifest order), cleaned by
    :func:`mtkit.ingest.ingest_path`; with ``lang`` (``zh``, ``ZH``, ``zh-CN``: normalised as ``align`` does), only
    the documents and sentences in that language, and a DataError naming the languages there are when the page
    (or no page of the corpus) has text in it."""
    from ..languages import language_code
    from ..ingest import ingest_path, missing_language

    lang = language_code(lang, "language")
    if lang:
        get_splitter(lang)  # fails before any page is read
    held: dict[str, None] = {}
    for result in ingest_path(path, to_simplified=to_simplified):
        for doc in result.documents:
            held[doc.lang] = None
            if lang and doc.lang != lang:
                continue
            for sentence in segment_document(doc):
                if not lang or sentence.lang == lang:
                    yield sentence
    if lang and lang not in held:
        raise missing_language(path, lang, list(held))


def page_sentences(path, lang: str | None = None, *, presegmented: bool = False,
                   option: str = "lang") -> tuple[list[str], str | None]:
    """The sentences of one version of a story, and their language, as ``mtkit align`` takes them: a page's
    first document in ``lang`` (any document when None, with a warning if the page holds several languages)
    cleaned and segmented, or with ``presegmented`` the lines of a text file (``lang`` as given). ``option``
    names the setting that chooses the language in messages (``--src-lang``)."""
    from pathlib import Path

    from ..errors import DataError
    from ..ingest import ingest_path, missing_language
    from ..ingest.decode import read_lines

    if Path(path).is_dir():
        # ingest_path reads a whole folder, and its first document in the language would be aligned: with a
        # corpus folder, a page of another story
        raise DataError(f"{path}: is a directory; give one page or text file (`mtkit build` aligns the stories of "
                        "a corpus folder)")
    if presegmented:
        return read_lines(path), lang
    # require_text: a page left with no article text is ingest's error, not its warning followed by ours
    docs = [d for r in ingest_path(Path(path), require_text=True) for d in r.documents]
    if not docs:  # a corpus directory whose manifest lists no page
        raise DataError(f"{path}: no article text left after cleaning")
    langs = list(dict.fromkeys(d.lang for d in docs))
    if lang:
        docs = [d for d in docs if d.lang == lang]
        if not docs:
            raise missing_language(path, lang, langs)
    elif len(langs) > 1:
        # aligning a bilingual page with itself without the options compares its first language with itself
        log.warning("%s holds %s text; aligning its %s text (choose with %s)", path, ", ".join(langs),
                    docs[0].lang, option)
    doc = docs[0]
    return [s.text for s in segment_document(doc)], doc.lang


def sentence_record(sentence: Sentence) -> dict[str, Any]:
    """The JSON record of ``mtkit segment --jsonl`` ("original" only when the text was converted)."""
    record = {"doc_id": sentence.doc_id, "index": sentence.index, "text": sentence.text, "lang": sentence.lang,
              "script": sentence.script, "start": sentence.start, "end": sentence.end,
              "paragraph": sentence.paragraph}
    if sentence.original is not None:
        record["original"] = sentence.original
    return record


def _converted_span(paragraph: Paragraph, edited: str, s: int, e: int) -> str:
    """The paragraph's ``text`` for the span ``s:e`` of its ``edited`` raw text.

    OpenCC t2s is char-for-char in practice, so the span indexes ``text`` too; after a rare multi-char
    conversion, the span is converted on its own."""
    if len(paragraph.text) == len(edited):
        return paragraph.text[s:e]
    from ..ingest.langid import opencc_converter

    return opencc_converter("t2s").convert(edited[s:e])
