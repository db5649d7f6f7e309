"""A corpus manifest: which raw pages a corpus holds, in which languages, and which are versions of one story.

Validation errors name the manifest file and line, so a user can fix the entry at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import DataError
from ..languages import is_language_code

MANIFEST_NAME = "manifest.yaml"
SCRIPTS = ("Hans", "Hant", "Latn", "Cyrl", "Arab", "Thai", "Mymr", "Jpan", "Kore")
DOCUMENT_KEYS = {"id", "file", "outlet", "date", "languages", "scripts", "url", "title", "notes"}
STORY_KEYS = {"id", "title", "documents"}
TOP_KEYS = {"name", "pretty_name", "description", "license", "license_name", "license_link", "documents", "stories",
            "homepage", "citation"}


@dataclass(slots=True)
class ManifestDocument:
    id: str
    file: Path  # absolute path of the raw page
    languages: tuple[str, ...]
    scripts: tuple[str, ...]
    outlet: str = ""
    date: str = ""
    url: str = ""
    story: str | None = None
    line: int = 0  # manifest line of the entry, for messages


@dataclass(slots=True)
class Story:
    id: str
    documents: tuple[str, ...]
    title: str = ""
    line: int = 0


@dataclass(slots=True)
class Manifest:
    path: Path
    name: str
    documents: list[ManifestDocument]
    stories: list[Story]
    pretty_name: str = ""
    description: str = ""
    license: str = "unknown"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.path.parent

    def document(self, doc_id: str) -> ManifestDocument:
        for doc in self.documents:
            if doc.id == doc_id:
                return doc
        raise DataError(f"{self.path}: no document {doc_id!r}; known: {', '.join(d.id for d in self.documents)}")

    @property
    def languages(self) -> list[str]:
        return sorted({lang for d in self.documents for lang in d.languages})


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records the 1-based line of every mapping under the key ``__line__``."""

    def construct_mapping(self, node, deep=False):  # noqa: D102
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


def load_manifest(path: str | Path) -> Manifest:
    """Load and validate ``manifest.yaml`` (or the one inside a corpus directory)."""
    path = Path(path).resolve()
    if path.is_dir():
        path = path / MANIFEST_NAME
    if not path.is_file():
        raise DataError(f"no manifest at {path}")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except yaml.YAMLError as exc:
        raise DataError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: a manifest is a mapping with 'documents' and 'stories'")

    def fail(line: int, message: str) -> DataError:
        return DataError(f"{path}:{line}: {message}")

    _check_keys(data, TOP_KEYS, "manifest", fail)
    documents: list[ManifestDocument] = []
    seen: dict[str, int] = {}
    for entry in data.get("documents") or []:
        line = entry.get("__line__", 0) if isinstance(entry, dict) else 0
        if not isinstance(entry, dict):
            raise fail(line, f"a document entry is a mapping, got {entry!r}")
        _check_keys(entry, DOCUMENT_KEYS, "document", fail)
        for key in ("id", "file", "languages"):
            if not entry.get(key):
                raise fail(line, f"document entry lacks {key!r}")
        doc_id = str(entry["id"])
        if doc_id in seen:
            raise fail(line, f"duplicate document id {doc_id!r} (first at line {seen[doc_id]})")
        seen[doc_id] = line
        file = (path.parent / str(entry["file"])).resolve()
        if not file.is_file():
            raise fail(line, f"document {doc_id!r}: file {entry['file']!r} does not exist (looked at {file})")
        languages = _as_tuple(entry["languages"])
        for lang in languages:
            if not is_language_code(lang):
                raise fail(line, f"document {doc_id!r}: unknown language code {lang!r} "
                                 "(use ISO 639-1, e.g. zh, id, en)")
        scripts = _as_tuple(entry.get("scripts") or ())
        for script in scripts:
            if script not in SCRIPTS:
                raise fail(line, f"document {doc_id!r}: unknown script {script!r}; known: {', '.join(SCRIPTS)}")
        if scripts and len(scripts) != len(languages):
            raise fail(line, f"document {doc_id!r}: {len(languages)} languages but {len(scripts)} scripts")
        documents.append(
            ManifestDocument(
                id=doc_id,
                file=file,
                languages=languages,
                scripts=scripts,
                outlet=str(entry.get("outlet") or ""),
                date=str(entry.get("date") or ""),
                url=str(entry.get("url") or ""),
                line=line,
            )
        )
    if not documents:
        raise DataError(f"{path}: the manifest lists no documents")

    by_id = {d.id: d for d in documents}
    stories: list[Story] = []
    story_ids: set[str] = set()
    for entry in data.get("stories") or []:
        line = entry.get("__line__", 0) if isinstance(entry, dict) else 0
        if not isinstance(entry, dict) or not entry.get("id"):
            raise fail(line, "a story entry is a mapping with an 'id' and 'documents'")
        _check_keys(entry, STORY_KEYS, "story", fail)
        story_id = str(entry["id"])
        if story_id in story_ids:
            raise fail(line, f"duplicate story id {story_id!r}")
        story_ids.add(story_id)
        members = _as_tuple(entry.get("documents") or ())
        for doc_id in members:
            if doc_id not in by_id:
                raise fail(line, f"story {story_id!r} names unknown document {doc_id!r}")
            if by_id[doc_id].story is not None:
                raise fail(line, f"document {doc_id!r} is in two stories ({by_id[doc_id].story!r}, {story_id!r})")
            by_id[doc_id].story = story_id
        stories.append(Story(id=story_id, documents=members, title=str(entry.get("title") or ""), line=line))

    return Manifest(
        path=path,
        name=str(data.get("name") or path.parent.name),
        documents=documents,
        stories=stories,
        pretty_name=str(data.get("pretty_name") or ""),
        description=str(data.get("description") or ""),
        # the Hub's license ids are lowercase (cc-by-4.0); "unknown" is its id for a license not stated
        license=str(data.get("license") or "unknown").lower(),
        extra={k: v for k, v in data.items() if k in ("homepage", "citation", "license_name", "license_link")},
    )


def _as_tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _check_keys(entry: dict, allowed: set[str], what: str, fail) -> None:
    unknown = sorted(k for k in entry if k != "__line__" and k not in allowed)
    if unknown:
        raise fail(entry.get("__line__", 0), f"unknown {what} key(s) {', '.join(map(repr, unknown))}; "
                                             f"allowed: {', '.join(sorted(allowed))}")
