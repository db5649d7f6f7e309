"""The corpus manifest: the shipped one loads; every kind of bad entry names its line."""

from pathlib import Path

import pytest

from mtkit.ingest.manifest import load_manifest
from mtkit.languages import is_language_code
from mtkit.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpora" / "mps-fraud-2024"


def test_shipped_manifest_describes_the_five_pages():
    m = load_manifest(CORPUS)
    assert [(d.id, d.languages, d.scripts, d.story) for d in m.documents] == [
        ("cctv-id-20240827", ("id",), ("Latn",), "mps-presser-2024-08-27"),
        ("chinadaily-zh-20240827", ("zh",), ("Hans",), "mps-presser-2024-08-27"),
        ("xinhua-zh-hant-20250220", ("zh",), ("Hant",), "myawaddy-repatriation-2025-02-20"),
        ("mps-coop-2024", ("zh", "en"), ("Hans", "Latn"), "mps-intl-coop-2024"),
        ("bjyouth-zh-20230820", ("zh",), ("Hans",), "wangyi-thailand-2023-08-20"),
    ]
    assert [s.documents for s in m.stories][:2] == [
        ("chinadaily-zh-20240827", "cctv-id-20240827"),
        ("mps-coop-2024",),
    ]
    assert m.languages == ["en", "id", "zh"]


def test_raw_pages_are_the_seeds_byte_for_byte(shared):
    seeds = sorted(shared("seeds").glob("*.txt"))
    # the five pages, no more and no fewer (an empty folder passed the loop below)
    assert [seed.name for seed in seeds] == sorted(p.name for p in (CORPUS / "raw").glob("*.txt"))
    assert len(seeds) == 5
    for seed in seeds:
        assert (CORPUS / "raw" / seed.name).read_bytes() == seed.read_bytes()


def _write(tmp_path: Path, documents: str, stories: str = "") -> Path:
    (tmp_path / "a.txt").write_text("x", encoding="utf-8")
    (tmp_path / "b.txt").write_text("y", encoding="utf-8")
    text = "name: t\ndocuments:\n" + documents + (("stories:\n" + stories) if stories else "")
    (tmp_path / "manifest.yaml").write_text(text, encoding="utf-8")
    return tmp_path


DOC_A = "  - id: a\n    file: a.txt\n    languages: [zh]\n"


@pytest.mark.parametrize(
    "documents, stories, message",
    [
        (DOC_A + "  - id: b\n    file: missing.txt\n    languages: [en]\n", "", ":6: document 'b': file 'missing.txt' does not exist"),
        (DOC_A + "  - id: b\n    file: b.txt\n    languages: [xx]\n", "", ":6: document 'b': unknown language code 'xx'"),
        (DOC_A + "  - id: a\n    file: b.txt\n    languages: [en]\n", "", ":6: duplicate document id 'a' (first at line 3)"),
        (DOC_A + "  - id: b\n    file: b.txt\n    languages: [en]\n    lang: en\n", "", ":6: unknown document key(s) 'lang'"),
        (DOC_A + "  - id: b\n    file: b.txt\n    languages: [en]\n    scripts: [Latin]\n", "", ":6: document 'b': unknown script 'Latin'"),
        (DOC_A, "  - id: s\n    documents: [a, c]\n", ":7: story 's' names unknown document 'c'"),
        ("  - id: a\n    file: a.txt\n", "", ":3: document entry lacks 'languages'"),
    ],
)
def test_bad_manifest_entries_name_their_line(tmp_path, documents, stories, message):
    root = _write(tmp_path, documents, stories)
    with pytest.raises(DataError) as err:
        load_manifest(root)
    assert message in str(err.value)
    assert str(root / "manifest.yaml") in str(err.value)


def test_missing_manifest_and_bad_yaml(tmp_path):
    with pytest.raises(DataError, match="no manifest at"):
        load_manifest(tmp_path)
    (tmp_path / "manifest.yaml").write_text("documents: [\n", encoding="utf-8")
    with pytest.raises(DataError, match="not valid YAML"):
        load_manifest(tmp_path)


@pytest.mark.parametrize("code, known", [("zh", True), ("id", True), ("en", True), ("zho", True), ("xx", False), ("ZH", False), ("zh-Hans", False)])
def test_language_codes(code, known):
    assert is_language_code(code) is known


def test_license_name_and_link_are_manifest_keys(tmp_path):
    """The Hub's fields for `license: other`; the dataset card takes them from here."""
    root = _write(tmp_path, DOC_A)
    text = (root / "manifest.yaml").read_text(encoding="utf-8")
    (root / "manifest.yaml").write_text("license: other\nlicense_name: news-research\nlicense_link: LICENSE.md\n"
                                        + text, encoding="utf-8")
    m = load_manifest(root)
    assert (m.license, m.extra) == ("other", {"license_name": "news-research", "license_link": "LICENSE.md"})
    # the Hub's ids are lowercase; none stated is its `unknown`
    (root / "manifest.yaml").write_text("license: CC-BY-4.0\n" + text, encoding="utf-8")
    assert load_manifest(root).license == "cc-by-4.0"
    (root / "manifest.yaml").write_text(text, encoding="utf-8")
    assert load_manifest(root).license == "unknown"
