"""The small typed records that mtkit's stages exchange.

Offsets are character offsets (Python ``str`` indices) into the *decoded* raw file, so that
``raw_text[start:end] == original`` holds for every paragraph and sentence. Where a stage changes the text
(Traditional -> Simplified conversion) ``text`` holds the changed form and ``original`` the raw slice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class Paragraph:
    """One kept block of article text."""

    text: str
    start: int
    end: int
    lang: str = "und"  # ISO 639-1: zh, id, en, ... ; "und" when undetermined
    script: str = ""  # ISO 15924: Hans, Hant, Latn
    original: str | None = None  # raw slice when ``text`` was converted (OpenCC); None when text is raw
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def raw(self) -> str:
        return self.original if self.original is not None else self.text


@dataclass(slots=True)
class Removal:
    """A span of the raw file that cleaning dropped, and the rule that dropped it; or a text edit of a kept
    paragraph and its kind (``pinyin_annotation``, ``undecodable_byte``; ``missing_space``: an empty span where a
    space went into the text)."""

    start: int
    end: int
    rule: str
    text: str
    reason: str = ""


@dataclass(slots=True)
class Document:
    """One article in one language: a page's language part (a bilingual page gives two Documents)."""

    id: str
    lang: str
    script: str
    paragraphs: list[Paragraph]
    source: str = ""  # path of the raw file
    story: str | None = None  # id of the story this document is a version of (manifest)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.paragraphs)


@dataclass(slots=True)
class Sentence:
    doc_id: str
    index: int  # 0-based position in its document
    text: str
    lang: str
    script: str
    start: int
    end: int
    original: str | None = None
    paragraph: int = 0  # index of the paragraph it comes from
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def raw(self) -> str:
        return self.original if self.original is not None else self.text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True, frozen=True)
class Bead:
    """One alignment unit: source sentence indices <-> target sentence indices (either side may be empty)."""

    src: tuple[int, ...]
    tgt: tuple[int, ...]
    score: float = 0.0

    @property
    def type(self) -> str:
        """"1-1", "2-1", "1-0", ... as the field writes bead types."""
        return f"{len(self.src)}-{len(self.tgt)}"

    def vecalign(self) -> str:
        """vecalign's text form: ``[0,1]:[2]``, ``[3]:[]``."""
        return f"[{','.join(map(str, self.src))}]:[{','.join(map(str, self.tgt))}]"


@dataclass(slots=True)
class Alignment:
    beads: list[Bead]
    signature: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


# The splits a build makes, and what each is called in the Hub layout and in datasets (dev -> validation, the
# datasets convention; the hf/<config> copies keep mtkit's names).
SPLITS = ("train", "dev", "test")
HUB_SPLIT = {"train": "train", "dev": "validation", "test": "test"}


def config_name(lang_a: str, lang_b: str) -> str:
    """The dataset config of a language pair, either direction: its codes sorted (``en-zh`` for zh->en), as the
    build names its configs and readers infer one from a translation direction."""
    return "-".join(sorted((lang_a, lang_b)))


@dataclass(slots=True)
class SentencePair:
    """One parallel segment with its provenance, as the corpus builder keeps and exports it."""

    id: str
    src_lang: str
    tgt_lang: str
    src: str
    tgt: str
    score: float = 0.0
    bead_type: str = "1-1"
    src_doc: str = ""
    tgt_doc: str = ""
    src_idx: tuple[int, ...] = ()
    tgt_idx: tuple[int, ...] = ()
    src_offsets: tuple[tuple[int, int], ...] = ()
    tgt_offsets: tuple[tuple[int, int], ...] = ()
    story: str = ""
    split: str = ""  # train / dev / test, set by the corpus builder's document-level splitter
    meta: dict[str, Any] = field(default_factory=dict)
    # "body", or the page roles of the lines it comes from other than body ("title", "source", "heading+title"),
    # so that users can keep article prose only: headlines and source lines are parallel too, but not prose
    role: str = "body"

    @property
    def config(self) -> str:
        """The dataset config (language pair) this pair belongs to: sorted codes, e.g. ``en-zh``."""
        return config_name(self.src_lang, self.tgt_lang)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
