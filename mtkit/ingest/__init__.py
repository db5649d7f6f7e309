"""Ingest: raw page -> cleaned Documents (one per language part), with every removal logged.

``ingest_file`` decodes a page, runs the cleaning rules (:mod:`mtkit.ingest.clean`), detects language and
script per paragraph (:mod:`mtkit.ingest.langid`), splits a bilingual page into one Document per language,
and optionally converts Traditional Chinese to Simplified with OpenCC (keeping the original).

Decisions a consumer may rely on:

- every kept paragraph satisfies ``raw_text[p.start:p.end] == p.raw``; a cut inside a line (markup, a photo
  credit) leaves the pieces around it as separate paragraphs, and every cut is a :class:`Removal`;
- ``meta["role"]``: ``title`` (the headline before the body, and the first heading of each language part),
  ``heading`` (a short line inside the body), ``source`` (``(信息来源:...)``, ``(Reporter ...)``: kept, as the
  versions of a story carry them in step), else absent (body);
- ruby pinyin flattened into Chinese text (``機(jī)``) and U+FFFD (bytes the decoder could not read) leave
  ``text`` but stay in ``original``; character references (``&amp;``, ``&nbsp;``) are decoded in ``text``
  (``&``, a space) and stay as written in ``original``; a space that scraping lost between two Latin-script
  words (``Pertama,Meningkatkan``, ``lagiTindakan``) is back in ``text`` and ``original`` has the words glued;
- Document ids are ``f"{doc_id}.{lang}"`` also for one-language pages; a language gets its own Document when
  the manifest expects it or it holds ``MIN_PART_SHARE`` of the page's text.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

from ..errors import DataError
from ..records import Document, Paragraph, Removal
from ..utils import make_signature, stable_hash
from .clean import ALL_RULES, CLEANING_RULES, TEXT_EDIT_VERSIONS, clean_blocks, edited_text, word_count
from .decode import decode_bytes, read_text_file
from .langid import opencc_converter, detect_language, han_script_votes

__all__ = ["IngestResult", "ingest_file", "ingest_text", "ingest_manifest", "ingest_path", "detect_language",
           "decode_bytes", "CLEANING_RULES", "missing_language", "signature"]

logger = logging.getLogger("mtkit.ingest")

# The text edits that are recorded with the removals (a decoded character reference is the same text, no
# change to record); an inserted space is an empty span of the raw page.
_EDIT_REASONS = {
    "pinyin_annotation": "ruby annotation flattened into the text (removed from text, kept in original)",
    "undecodable_byte": "a byte the page's encoding could not read (removed from text, kept in original)",
    "missing_space": "a space lost in scraping between two words (inserted in text; original has them glued)",
}

# A language gets a Document of its own when it holds at least this share of the page's kept characters
# (or is one the manifest expects); paragraphs in other languages stay in their neighbours' Document.
MIN_PART_SHARE = 0.15


@dataclass(slots=True)
class IngestResult:
    """One page ingested: its Documents (one per language part), the spans cleaning removed, the decoded text
    that every offset points into, and the encoding it was read in."""

    documents: list[Document]
    removed: list[Removal]
    raw_text: str
    encoding: str = "utf-8"
    source: str = ""
    meta: dict = field(default_factory=dict)


def signature(*, to_simplified: bool = False) -> str:
    """``ingest:<digest of every rule's signature and every text edit's version>|rules:N|t2s:..``: the first
    field changes whenever a rule or a kind of text edit (:data:`~mtkit.ingest.clean.TEXT_EDIT_VERSIONS`) is
    added, removed or re-versioned, so that callers who keep only it (the corpus build) still see the change."""
    rules = [rule.signature().split("|")[:2] for rule in ALL_RULES]
    # the conversion's version only where it runs: signatures without it are those of earlier builds
    digest = stable_hash(rules, sorted(TEXT_EDIT_VERSIONS.items()), *([T2S_VERSION] if to_simplified else []),
                         length=8)
    return make_signature(f"ingest:{digest}", rules=len(rules), t2s=to_simplified)


def ingest_file(
    path: str | Path,
    *,
    doc_id: str | None = None,
    languages: Sequence[str] | None = None,
    to_simplified: bool = False,
    story: str | None = None,
    require_text: bool = False,
) -> IngestResult:
    """Read, decode and clean one raw page into Documents, one per language part (:func:`ingest_text` on the
    page's text).

    The encoding is detected (:func:`~mtkit.ingest.decode.decode_bytes`) and kept in ``IngestResult.encoding``
    and each Document's ``meta["encoding"]``. ``doc_id`` (default: the file's stem) prefixes the Documents' ids
    (``f"{doc_id}.{lang}"``); ``languages``, the languages the page is expected to hold (a manifest's), break
    ties in language detection and each get a Document whatever their share of the page; ``to_simplified``
    converts Traditional Chinese to Simplified (OpenCC), keeping the raw text in ``original``; ``story`` is
    recorded in each ``Document.story``. A DataError for a missing file, a folder, an empty page or, with
    ``require_text``, a page with no article text left after cleaning (else a warning).
    """
    path = Path(path)
    text, encoding = read_text_file(path)
    if not text.strip():
        # An empty page is a scraping failure upstream, not an article with nothing to keep: say so now rather
        # than let the corpus build report a story with a missing language version.
        raise DataError(f"{path}: empty page ({len(text)} characters, all whitespace); nothing to ingest")
    result = ingest_text(text, doc_id=doc_id or path.stem, source=str(path), languages=languages,
                         to_simplified=to_simplified, story=story, require_text=require_text)
    result.encoding = encoding
    for doc in result.documents:
        doc.meta["encoding"] = encoding
    return result


def ingest_text(
    text: str,
    *,
    doc_id: str,
    source: str = "",
    languages: Sequence[str] | None = None,
    to_simplified: bool = False,
    story: str | None = None,
    require_text: bool = False,
) -> IngestResult:
    """Clean ``text`` into Documents. A page with no article text left is logged as a warning (a corpus build
    goes on without it), or, with ``require_text``, a DataError for callers that cannot go on (``align``): one
    message, not a warning and then the caller's error saying the same."""
    kept, dropped = clean_blocks(text)
    removed = [Removal(b.start, b.end, b.rule, b.text, b.reason) for b in dropped]
    paragraphs = []
    for block in kept:
        clean_text, edits = edited_text(block.text)
        lang, script = detect_language(clean_text, expected=languages)
        meta = {"line": block.line}
        if block.role != "body":
            meta["role"] = block.role
        for s, e, _, kind in edits:
            if kind in _EDIT_REASONS:
                removed.append(Removal(block.start + s, block.start + e, kind, block.text[s:e], _EDIT_REASONS[kind]))
        original = block.text if edits else None
        paragraphs.append(Paragraph(clean_text, block.start, block.end, lang, script, original, meta))
    removed.sort(key=lambda r: r.start)
    _inherit_undetermined(paragraphs)
    _one_of_malay_or_indonesian(paragraphs)
    _inherit_han_script(paragraphs)
    documents = _split_by_language(paragraphs, doc_id=doc_id, source=source, story=story, expected=languages)
    for doc in documents:
        # A language part of a bilingual page opens with its own headline, which page_frame saw mid-page.
        if doc.paragraphs and doc.paragraphs[0].meta.get("role") == "heading":
            doc.paragraphs[0].meta["role"] = "title"
    if to_simplified:
        for doc in documents:
            _to_simplified(doc)
    if not documents and require_text:
        raise DataError(f"{source or doc_id}: no article text left after cleaning")
    if not documents:
        logger.warning("%s: no article text left after cleaning (%d blocks removed)", source or doc_id, len(removed))
    return IngestResult(documents, removed, text, "utf-8", source)


def ingest_manifest(manifest, *, to_simplified: bool = False, require_text: bool = False) -> Iterator[IngestResult]:
    """One IngestResult per manifest document, with its id, expected languages and story."""
    for entry in manifest.documents:
        yield ingest_file(entry.file, doc_id=entry.id, languages=entry.languages, to_simplified=to_simplified,
                          story=entry.story, require_text=require_text)


def ingest_path(path: str | Path, *, to_simplified: bool = False, require_text: bool = False) -> Iterator[IngestResult]:
    """A corpus directory (all its manifest's documents, in manifest order) or one page. A page listed in the
    manifest of the directory it sits in gets its id, languages and story from there; else its file stem.
    ``require_text``: a page with no article text left is an error (see :func:`ingest_text`)."""
    from .manifest import MANIFEST_NAME, load_manifest

    path = Path(path)
    if path.is_dir():
        yield from ingest_manifest(load_manifest(path), to_simplified=to_simplified, require_text=require_text)
        return
    for folder in (path.parent, path.parent.parent):
        if (folder / MANIFEST_NAME).is_file():
            manifest = load_manifest(folder)
            entry = next((d for d in manifest.documents if d.file == path.resolve()), None)
            if entry is not None:
                yield ingest_file(path, doc_id=entry.id, languages=entry.languages, to_simplified=to_simplified,
                                  story=entry.story, require_text=require_text)
                return
    yield ingest_file(path, to_simplified=to_simplified, require_text=require_text)


def missing_language(source, lang: str, held: Sequence[str]) -> DataError:
    """The error for a page (or a corpus) with no text in ``lang``, naming the languages it does hold: one
    message for every command that picks a language part (``segment --lang``, ``align --src-lang``)."""
    if not held:
        return DataError(f"{source}: no {lang} text (no article text left after cleaning)")
    return DataError(f"{source}: no {lang} text (it holds {', '.join(held)})")


# Below this many words a Latin-script paragraph (a name, a place list) gives lingua too little to go on.
MIN_WORDS_FOR_LANGUAGE = 4


def _inherit_undetermined(paragraphs: list[Paragraph]) -> None:
    """Paragraphs with no decidable language (numbers, a name) take their neighbour's. A short Latin-script
    paragraph counts as undecidable when lingua gave it a language that neither neighbour has (``Chen Yu``
    between English paragraphs is not German)."""
    for i, p in enumerate(paragraphs):
        if p.script == "Latn" and word_count(p.text) < MIN_WORDS_FOR_LANGUAGE:
            around = {q.lang for q in paragraphs[max(i - 1, 0):i + 2] if q is not p}
            if p.lang not in around:
                p.lang = "und"
    for i, p in enumerate(paragraphs):
        if p.lang != "und":
            continue
        neighbour = next((q for q in reversed(paragraphs[:i]) if q.lang != "und"), None) or next(
            (q for q in paragraphs[i + 1:] if q.lang != "und"), None)
        if neighbour is not None:
            p.lang = neighbour.lang
            p.script = p.script or neighbour.script


def _inherit_han_script(paragraphs: list[Paragraph]) -> None:
    """A Chinese paragraph written only in characters both scripts share (``泰方表示同意。``) has no script of its
    own: it takes the nearest Chinese neighbour's that has one."""
    decided = [p for p in paragraphs if p.lang == "zh" and any(han_script_votes(p.text))]
    for p in paragraphs:
        if p.lang == "zh" and decided and not any(han_script_votes(p.text)):
            p.script = min(decided, key=lambda q: abs(q.start - p.start)).script


def _one_of_malay_or_indonesian(paragraphs: list[Paragraph]) -> None:
    """A page is in Indonesian or in Malay, not in both: paragraph-level cues are few, so the page's majority
    (by characters) decides for every paragraph of the pair; a tie goes to Indonesian."""
    chars = Counter()
    for p in paragraphs:
        if p.lang in ("id", "ms"):
            chars[p.lang] += len(p.text)
    if len(chars) == 2:
        page = "ms" if chars["ms"] > chars["id"] else "id"
        for p in paragraphs:
            if p.lang in ("id", "ms"):
                p.lang = page


def _split_by_language(paragraphs, *, doc_id, source, story, expected) -> list[Document]:
    chars = Counter()
    for p in paragraphs:
        chars[p.lang] += len(p.text)
    total = sum(chars.values()) or 1
    parts = [lang for lang in chars
             if lang != "und" and (chars[lang] >= MIN_PART_SHARE * total or (expected and lang in expected))]
    if not parts and paragraphs:
        parts = [chars.most_common(1)[0][0]]
    groups: dict[str, list[Paragraph]] = {lang: [] for lang in parts}
    current = None
    for p in paragraphs:
        if p.lang in groups:
            current = p.lang
        home = current or next((q.lang for q in paragraphs if q.lang in groups), parts[0])
        groups[p.lang if p.lang in groups else home].append(p)
    order = sorted(groups, key=lambda lang: groups[lang][0].start if groups[lang] else 0)
    documents = []
    for lang in order:
        members = groups[lang]
        if not members:
            continue
        scripts = Counter()
        for p in members:
            if p.lang == lang and p.script:
                scripts[p.script] += len(p.text)
        script = scripts.most_common(1)[0][0] if scripts else ""
        documents.append(Document(f"{doc_id}.{lang}", lang, script, members, source, story, {"base_id": doc_id}))
    return documents


# OpenCC's t2s keeps 著 wherever Simplified Chinese also writes 著 (显著, 著作), so where Taiwan and Hong Kong write
# 著 for the aspect particle 着 it gives 随著 for the mainland's 随着 (twice in the shipped Traditional page);
# tw2s changes those but also 顯著 to 显着, which is wrong. After these words 著 is the particle, unless a
# character follows that makes it the verb (本著作, 接著作).
_PARTICLE_ZHE = re.compile(r"(随|接|意味|沿|朝|顺|凭|本)著(?![作名称述录书者])")
T2S_VERSION = "opencc-t2s+zhe1"


def _to_simplified(doc: Document) -> None:
    if doc.lang != "zh" or doc.script != "Hant":
        return
    # t2s converts characters only; tw2sp/hk2s also swap regional vocabulary (軟體 -> 软件), which rewrites words
    # the page did not use and breaks the character-for-character match with the kept original.
    converter = opencc_converter("t2s")
    for p in doc.paragraphs:
        if p.script == "Hant":
            p.text, p.original, p.script = _PARTICLE_ZHE.sub(r"\1着", converter.convert(p.text)), p.raw, "Hans"
            p.meta["converted_from"] = "Hant"
    doc.script = "Hans"
    doc.meta["converted_from"] = "Hant"
