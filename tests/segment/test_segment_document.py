"""segment_document / segment_documents on hand-made Documents: raw offsets, order, converted paragraphs."""

import types
from pathlib import Path

import pytest

from mtkit.errors import ConfigError
from mtkit.ingest.langid import opencc_converter
from mtkit.records import Document, Paragraph
from mtkit.segment import (SEGMENTERS, ChineseSplitter, SentencexSplitter, get_splitter, segment_document,
                           segment_documents, segment_path, sentence_record, signature, split_sentences)

RAW = "Judul berita\n\nIni kalimat pertama.Ini kedua.\n\n他说:“好。”随后离开。\n"


def paragraph(text, lang, script, **kw):
    start = RAW.index(text)
    return Paragraph(text, start, start + len(text), lang, script, **kw)


def test_sentences_index_the_raw_file_in_document_order():
    doc = Document("d1.id", "id", "Latn", [paragraph("Ini kalimat pertama.Ini kedua.", "id", "Latn"),
                                           paragraph("他说:“好。”随后离开。", "zh", "Hans", meta={"role": "quote"})])
    got = [(s.doc_id, s.index, s.text, s.lang, s.script, RAW[s.start:s.end], s.original, s.paragraph, s.meta)
           for s in segment_document(doc)]
    assert got == [
        ("d1.id", 0, "Ini kalimat pertama.", "id", "Latn", "Ini kalimat pertama.", None, 0, {}),
        ("d1.id", 1, "Ini kedua.", "id", "Latn", "Ini kedua.", None, 0, {}),
        ("d1.id", 2, "他说:“好。”", "zh", "Hans", "他说:“好。”", None, 1, {"role": "quote"}),
        ("d1.id", 3, "随后离开。", "zh", "Hans", "随后离开。", None, 1, {"role": "quote"}),
    ]


def test_undetermined_paragraph_uses_the_document_language():
    doc = Document("d2.zh", "zh", "Hans", [paragraph("他说:“好。”随后离开。", "und", "Hans")])
    assert [s.text for s in segment_document(doc)] == ["他说:“好。”", "随后离开。"]


@pytest.mark.parametrize(
    "raw, text, expected",
    [
        # OpenCC t2s kept the length: the span of the converted text is taken as is
        ("此次行動是重大戰果。公安部表示。", "此次行动是重大战果。公安部表示。",
         [("此次行动是重大战果。", "此次行動是重大戰果。"), ("公安部表示。", "公安部表示。")]),
        # ruby annotations were removed, so lengths differ: each raw span goes through the same steps
        ("此次行動(dòng)是重大戰(zhàn)果。公安部表示。", "此次行动是重大战果。公安部表示。",
         [("此次行动是重大战果。", "此次行動(dòng)是重大戰(zhàn)果。"), ("公安部表示。", "公安部表示。")]),
    ],
)
def test_converted_paragraph_keeps_the_raw_slice(raw, text, expected):
    assert opencc_converter("t2s").convert(raw.replace("(dòng)", "").replace("(zhàn)", "")) == text
    page = "x\n" + raw
    p = Paragraph(text, 2, 2 + len(raw), "zh", "Hans", raw, {"converted_from": "Hant"})
    sentences = segment_document(Document("d3.zh", "zh", "Hans", [p]))
    assert [(s.text, s.original) for s in sentences] == expected
    assert [page[s.start:s.end] for s in sentences] == [original for _, original in expected]
    assert [s.raw for s in sentences] == [original for _, original in expected]


def test_an_edited_paragraph_is_split_as_read_and_maps_back_to_its_raw_slices():
    # character references decoded, a ruby annotation and an undecodable byte (U+FFFD) left out: the splitter
    # sees the text, so "&nbsp;" ends no sentence inside and "&quot;" opens none; offsets index the raw page
    raw = "Dia berkata &quot;Selesai.&quot;&nbsp;Operasi A &amp; B berlanjut.\ufffd 包機(jī)降落。"
    page = "x\n" + raw
    text = "Dia berkata \"Selesai.\" Operasi A & B berlanjut. 包機降落。"
    p = Paragraph(text, 2, 2 + len(raw), "id", "Latn", raw)
    sentences = segment_document(Document("d5.id", "id", "Latn", [p]))
    assert [(s.text, s.original) for s in sentences] == [
        ("Dia berkata \"Selesai.\"", "Dia berkata &quot;Selesai.&quot;"),
        ("Operasi A & B berlanjut.", "Operasi A &amp; B berlanjut.\ufffd"),
        ("包機降落。", "包機(jī)降落。"),
    ]
    assert [page[s.start:s.end] for s in sentences] == [s.original for s in sentences]


def test_segment_documents_streams():
    docs_seen = []

    def docs():
        for i in range(3):
            docs_seen.append(i)
            yield Document(f"d{i}.en", "en", "Latn", [Paragraph(f"One {i}. Two {i}.", 0, 12, "en", "Latn")])

    stream = segment_documents(docs())
    assert isinstance(stream, types.GeneratorType)
    first = next(stream)
    assert (first.doc_id, first.text, docs_seen) == ("d0.en", "One 0.", [0])
    assert [(s.doc_id, s.index, s.text) for s in stream] == [
        ("d0.en", 1, "Two 0."), ("d1.en", 0, "One 1."), ("d1.en", 1, "Two 1."),
        ("d2.en", 0, "One 2."), ("d2.en", 1, "Two 2.")]


@pytest.mark.parametrize("lang, cls", [("zh", ChineseSplitter), ("id", SentencexSplitter),
                                       ("en", SentencexSplitter), ("ja", ChineseSplitter), ("fr", SentencexSplitter)])
def test_registry_and_fallbacks(lang, cls):
    assert isinstance(get_splitter(lang), cls)


def test_registered_names_and_signatures():
    import re
    from importlib.metadata import version

    from mtkit import __version__

    assert SEGMENTERS.names() == ["en", "id", "ms", "zh"]
    assert [get_splitter(lang).signature() for lang in ("zh", "id", "en")] == [
        f"segment:zh|v:2|mtkit:{__version__}", f"segment:sentencex-id|v:5|mtkit:{__version__}",
        f"segment:sentencex-en|v:5|mtkit:{__version__}"]
    # a digest of the splitters' versions and sentencex's first, then each of them
    assert re.fullmatch(rf"segment:[0-9a-f]{{8}}\|zh:v2\|latin:sentencex-v5\|sentencex:{re.escape(version('sentencex'))}"
                        rf"\|mtkit:{re.escape(__version__)}", signature())


def test_signature_head_changes_with_a_splitter_version(monkeypatch):
    """The corpus build keeps only the first field: a re-versioned splitter must show there."""
    from mtkit.segment import ChineseSplitter, SentencexSplitter

    head = signature().split("|")[0]
    assert head.startswith("segment:") and head != "segment"
    assert "|zh:v2|latin:sentencex-v5|sentencex:" in signature()
    monkeypatch.setattr(ChineseSplitter, "version", 99)
    assert signature().split("|")[0] != head
    monkeypatch.undo()
    monkeypatch.setattr(SentencexSplitter, "version", 99)
    assert signature().split("|")[0] != head


@pytest.mark.parametrize("lang", ["xx", "", "english"])
def test_unknown_language_lists_the_known_ones(lang):
    with pytest.raises(ConfigError, match=r"known: en, id, ms, zh"):
        split_sentences("Some text.", lang)


def test_the_title_sentence_without_its_column_label_is_its_raw_slice():
    # ingest cuts "推动高质量发展·权威发布|" off the headline: the sentence's offsets follow the cut
    corpus = Path(__file__).resolve().parents[2] / "corpora" / "mps-fraud-2024"
    raw = (corpus / "raw" / "001_f0908af97be21bcd.txt").read_text(encoding="utf-8")
    title = next(s for s in segment_path(corpus / "raw" / "001_f0908af97be21bcd.txt") if s.meta.get("role") == "title")
    assert (title.text, title.start, title.end) == ("公安部严打电诈跨国犯罪 累计抓获缅北涉诈嫌疑人5万余名", 64, 91)
    assert raw[title.start:title.end] == title.text


def test_every_seed_sentence_is_its_raw_slice():
    corpus = Path(__file__).resolve().parents[2] / "corpora" / "mps-fraud-2024"
    sentences = list(segment_path(corpus, to_simplified=True))
    pages = {}
    for s in sentences:
        raw = pages.setdefault(s.doc_id, None)
        if raw is None:
            stem = next(p for p in (corpus / "raw").glob("*.txt") if s.raw in p.read_text(encoding="utf-8"))
            raw = pages[s.doc_id] = stem.read_text(encoding="utf-8")
        assert raw[s.start:s.end] == s.raw
    assert len(sentences) == 130
    converted = [s for s in sentences if s.original is not None]
    # the Traditional page is converted; the id and en pages have spaces lost in scraping put back in their text
    assert {s.doc_id for s in converted} == {"xinhua-zh-hant-20250220.zh", "cctv-id-20240827.id", "mps-coop-2024.en"}
    assert {s.script for s in converted} == {"Hans", "Latn"}
    record = sentence_record(converted[0])
    assert list(record) == ["doc_id", "index", "text", "lang", "script", "start", "end", "paragraph", "original"]
    assert list(sentence_record(sentences[0])) == ["doc_id", "index", "text", "lang", "script", "start", "end",
                                                   "paragraph"]
