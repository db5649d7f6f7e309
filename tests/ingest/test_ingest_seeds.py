"""Ingest on the five shipped pages: what each page loses and why, language parts, offsets, encodings."""

import re
from collections import Counter
from pathlib import Path

import pytest

from mtkit.cli import main
from mtkit.errors import DataError
from mtkit.ingest import decode_bytes, ingest_file, ingest_path, ingest_text

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpora" / "mps-fraud-2024"
RAW = CORPUS / "raw"


@pytest.fixture(scope="module")
def results():
    return {Path(r.source).name[:3]: r for r in ingest_path(CORPUS)}


@pytest.mark.parametrize(
    "seed, parts, rules",
    [
        # the machine-translated id page lost seven spaces between words ("Pertama,Meningkatkan", "lagiTindakan")
        ("000", [("cctv-id-20240827.id", "id", "Latn", 10)],
         {"dateline": 1, "language_menu": 1, "missing_space": 7, "page_frame": 1}),
        ("001", [("chinadaily-zh-20240827.zh", "zh", "Hans", 9)],
         {"byline": 1, "column_label": 1, "copyright_footer": 3, "duplicate_paragraph": 1, "html_remnant": 1,
          "junk_token": 3, "language_menu": 1, "page_frame": 7, "photo_credit": 2, "reader_prompt": 1}),
        ("002", [("xinhua-zh-hant-20250220.zh", "zh", "Hant", 5)],
         {"copyright_footer": 2, "duplicate_paragraph": 4, "photo_credit": 5, "pinyin_annotation": 117}),
        ("003", [("mps-coop-2024.zh", "zh", "Hans", 6), ("mps-coop-2024.en", "en", "Latn", 5)],
         {"missing_space": 1, "page_frame": 5}),  # "(Source:Ministry"
        ("004", [("bjyouth-zh-20230820.zh", "zh", "Hans", 39)],
         {"byline": 12, "copyright_footer": 1, "page_frame": 1, "related_reading": 10}),
    ],
)
def test_language_parts_and_removals_per_page(results, seed, parts, rules):
    result = results[seed]
    assert [(d.id, d.lang, d.script, len(d.paragraphs)) for d in result.documents] == parts
    assert dict(Counter(r.rule for r in result.removed)) == rules


@pytest.mark.parametrize(
    "seed, removed_text, rule",
    [
        ("000", "berita", "page_frame"),
        ("000", "2024-08-27", "dateline"),
        ("001", "6165cc金沙总站", "junk_token"),
        ("001", "QWERASDZXCRQEFA", "junk_token"),
        ("001", "Global EditionASIA 中文双语Français", "language_menu"),
        ("001", "a target='_blank' href='/index.html'/a", "html_remnant"),
        ("001", "记者 杨可佳 摄", "photo_credit"),
        ("001", "Registration Number: 130349", "copyright_footer"),
        ("001", "Editor's picks", "page_frame"),
        ("001", "FOLLOW US", "reader_prompt"),
        ("001", "推动高质量发展·权威发布|", "column_label"),
        ("002", "新華社記者 殷剛 攝", "photo_credit"),
        ("003", "公安机关国际执法合作实现新发展取得新进步等二则0", "page_frame"),
        ("003", "友情链接", "page_frame"),
        ("004", "相关阅读", "related_reading"),
        ("004", "编辑/赵红信", "byline"),
        ("004", "【版权声明】本文著作权归政知新媒体独家所有,未经授权,不得转载。", "copyright_footer"),
    ],
)
def test_boilerplate_is_removed_by_its_rule(results, seed, removed_text, rule):
    assert (removed_text, rule) in {(r.text, r.rule) for r in results[seed].removed}


@pytest.mark.parametrize(
    "seed, first, last, title",
    [
        ("000", "Kementerian Keamanan Publik: Sebanyak", "(Reporter CCTV Chen Yu dan Cao Xiaozheng)",
         "Kementerian Keamanan Publik: Sebanyak lebih dari 50.000 tersangka penipuan di Myanmar utara telah ditangkap"),
        # the site's column label "推动高质量发展·权威发布|" is cut off the headline (rule column_label)
        ("001", "公安部严打电诈跨国犯罪", "此外,公安部还积极参与联合国维和行动。", "公安部严打电诈跨国犯罪 累计抓获缅北涉诈嫌疑人5万余名"),
        ("004", "严厉打击!王毅", "各方表示,将用实际行动", "严厉打击!王毅、陈文清接连提到这一问题,公安部已出手"),
    ],
)
def test_first_and_last_paragraphs(results, seed, first, last, title):
    paragraphs = results[seed].documents[0].paragraphs
    assert paragraphs[0].text.startswith(first)
    assert paragraphs[-1].text.startswith(last)
    assert [p.text for p in paragraphs if p.meta.get("role") == "title"] == [title]


def test_repeated_caption_is_kept_once(results):
    texts = [p.text for p in results["002"].documents[0].paragraphs]
    captions = [t for t in texts if t.startswith("2月20日,隨著中國民航包機降落")]
    assert len(captions) == 1


def test_bilingual_page_splits_at_the_language_change(results):
    zh, en = results["003"].documents
    assert zh.paragraphs[-1].text == "(信息来源:中华人民共和国公安部)"
    assert en.paragraphs[0].text.startswith("New Developments and Progress")
    assert [p.meta.get("role", "body") for p in zh.paragraphs] == ["title"] + ["body"] * 4 + ["source"]
    assert [p.meta.get("role", "body") for p in en.paragraphs] == ["title"] + ["body"] * 4
    assert en.paragraphs[-1].text.endswith("(Source: Ministry of Public Security, P. R. China)")
    assert en.paragraphs[-1].original.endswith("(Source:Ministry of Public Security, P. R. China)")
    assert zh.story == en.story == "mps-intl-coop-2024"


@pytest.mark.parametrize("seed", ["000", "001", "002", "003", "004"])
def test_no_raw_character_is_lost_silently(results, seed):
    """Kept paragraphs and removed spans are verbatim slices that, with whitespace, cover the whole page."""
    assert_no_loss(results[seed])


@pytest.mark.parametrize("seed", ["001", "004"])
def test_crlf_pages_lose_nothing_either(tmp_path, seed):
    (source,) = RAW.glob(f"{seed}_*.txt")
    page = tmp_path / source.name
    page.write_bytes(source.read_bytes().replace(b"\n", b"\r\n"))
    result = ingest_file(page)
    assert_no_loss(result)
    assert [len(d.paragraphs) for d in result.documents] == [len(d.paragraphs) for d in ingest_file(source).documents]


def assert_no_loss(result):
    raw = result.raw_text
    covered = [False] * len(raw)
    for doc in result.documents:
        for p in doc.paragraphs:
            assert raw[p.start:p.end] == p.raw
            covered[p.start:p.end] = [True] * (p.end - p.start)
    for r in result.removed:
        if r.rule == "pinyin_annotation":  # removed from the text, still inside a kept paragraph's original
            continue
        assert raw[r.start:r.end] == r.text
        covered[r.start:r.end] = [True] * (r.end - r.start)
    lost = "".join(ch for ch, c in zip(raw, covered) if not c)
    assert lost.strip(" \t\r\n\u3000\u00a0") == ""


def test_pinyin_annotations_leave_the_text_and_stay_in_the_original(results):
    p = results["002"].documents[0].paragraphs[0]
    assert "包機(jī)陸續(xù)" in p.original
    assert "包機陸續降落" in p.text


def test_spaces_lost_between_words_are_back_in_the_id_page(results):
    """The machine-translated id page glues words ("Pertama,Meningkatkan", "kerasMengingat"): its text has the
    spaces back, its originals keep the page as it is, and its sentences (the build's text) have no glue left."""
    from mtkit.segment import segment_document

    (doc,) = results["000"].documents
    for glued, spaced in [("pada saat yang sama,Mengusulkan", "pada saat yang sama, Mengusulkan"),
                          ("Pertama,Meningkatkan", "Pertama, Meningkatkan"), ("lagiTindakan", "lagi Tindakan"),
                          ("Kedua,Tingkatkan tindakan kerasMengingat", "Kedua, Tingkatkan tindakan keras Mengingat"),
                          ("Ketiga,Tingkatkan", "Ketiga, Tingkatkan"), ("Juga,Badan", "Juga, Badan")]:
        (p,) = [p for p in doc.paragraphs if spaced in p.text]
        assert glued in p.original and glued in results["000"].raw_text[p.start:p.end]
    text = "\n".join(s.text for s in segment_document(doc))
    assert "Pertama, Meningkatkan" in text and "keras Mengingat" in text
    assert re.findall(r"[^\W\d][,;:][^\W\d]|[a-z]{3}[A-Z][a-z]", text) == []
    # the Chinese page of the same story keeps its "," unspaced
    assert all(p.original is None for p in results["001"].documents[0].paragraphs)


def test_traditional_to_simplified_keeps_the_original():
    result = ingest_file(RAW / "002_f8e7142ca16b1147.txt", to_simplified=True)
    doc = result.documents[0]
    assert (doc.script, doc.meta["converted_from"]) == ("Hans", "Hant")
    p = doc.paragraphs[0]
    assert p.text.startswith("新华社南京2月20日电(记者朱国亮、熊丰)")
    assert p.original.startswith("新華社南京2月20日電(記者朱國亮、熊豐)")
    assert result.raw_text[p.start:p.end] == p.original
    # 隨著 is the mainland's 随着, which OpenCC's t2s leaves as 随著 (twice in the text this page keeps)
    text = "".join(p.text for p in doc.paragraphs)
    assert (text.count("随着"), text.count("随著"), text.count("显著")) == (2, 0, 0)


@pytest.mark.parametrize("traditional, simplified", [
    ("隨著中國民航包機降落", "随着中国民航包机降落"), ("這意味著警方沿著邊境接著行動", "这意味着警方沿着边境接着行动"),
    ("取得顯著成效", "取得显著成效"), ("本著作權", "本著作权"), ("著名的學者", "著名的学者")])
def test_to_simplified_writes_the_particle_zhe_as_the_mainland_does(traditional, simplified):
    (doc,) = ingest_text(traditional + "。" * 1, doc_id="p", to_simplified=True).documents
    assert "".join(p.text for p in doc.paragraphs) == simplified + "。"


@pytest.mark.parametrize("encoding", ["gb18030", "big5", "utf-16", "utf-8-sig"])
def test_other_encodings_decode_to_the_same_text(encoding):
    text = "新華社南京2月20日電。中緬泰三國警方加大工作力度,聯手對妙瓦底地區電信網絡詐騙犯罪開展集中打擊。" * 3
    if encoding == "gb18030":
        text = "公安部严打电诈跨国犯罪,累计抓获缅北涉诈嫌疑人5万余名。近年来,公安部加强与缅甸警方合作。" * 3
    decoded, _ = decode_bytes(text.encode(encoding), name="page")
    assert decoded == text


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary file"),
        (bytes([0, 1, 2, 3, 4, 5, 6, 7]) * 40, "binary file"),
    ],
)
def test_binary_input_is_rejected(tmp_path, data, message):
    path = tmp_path / "image.txt"
    path.write_bytes(data)
    with pytest.raises(DataError, match=message) as err:
        ingest_file(path)
    assert str(path) in str(err.value)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        ingest_file(tmp_path / "nope.txt")


def test_rules_generalise_to_another_site():
    page = "\n".join([
        "Home | World | Business",
        "EnglishEspañolРусский язык日本語Deutsch",
        "Police in three countries arrest 200 fraud suspects",
        "Published: 2025-03-01",
        "Police in China, Myanmar and Thailand arrested 200 suspects in a joint operation on Monday, officials said.",
        "The suspects were flown home on two charter flights.<a href=\"/x\">more</a>",
        "The operation follows months of talks between the three police forces, officials added.",
        "Related articles",
        "Another headline about fraud",
        "© 2025 Example News. All rights reserved.",
        "ZXCVBNMASDF",
    ])
    result = ingest_text(page, doc_id="ex")
    (doc,) = result.documents
    assert (doc.id, doc.lang) == ("ex.en", "en")
    assert [p.text for p in doc.paragraphs] == [
        "Police in three countries arrest 200 fraud suspects",
        "Police in China, Myanmar and Thailand arrested 200 suspects in a joint operation on Monday, officials said.",
        "The suspects were flown home on two charter flights.",
        "more",
        "The operation follows months of talks between the three police forces, officials added.",
    ]
    assert {r.rule for r in result.removed} == {"page_frame", "language_menu", "byline", "html_remnant",
                                                "related_reading", "copyright_footer", "junk_token"}


def test_explain_prints_every_removal(capsys):
    assert main(["ingest", str(RAW / "000_63baf882e5e4f05a.txt"), "--explain"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "# cctv-id-20240827.id\tid\tLatn\t10 paragraphs"
    explained = [line.split("\t")[1:] for line in out if "\t" in line and line.startswith(str(RAW))]
    # an inserted space is an empty span of the raw page: its offsets say where, its text is empty
    assert explained == [["page_frame", "berita"], ["dateline", "2024-08-27"],
                         ["language_menu", "한어Русский языкEnglishFrançaisIndonesianSanskrit日本語DeutschPortuguêsΕλληνικάesp..."]
                         ] + [["missing_space", ""]] * 7


def test_jsonl_records_carry_offsets_and_original(capsys):
    import json

    assert main(["ingest", str(RAW / "002_f8e7142ca16b1147.txt"), "--jsonl", "--to-simplified"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    raw = (RAW / "002_f8e7142ca16b1147.txt").read_text(encoding="utf-8")
    assert len(records) == 5
    for r in records:
        assert (r["doc_id"], r["lang"], r["script"]) == ("xinhua-zh-hant-20250220.zh", "zh", "Hans")
        assert raw[r["start"]:r["end"]] == r["original"]
    assert records[0]["text"].startswith("新华社南京2月20日电")


def test_jsonl_with_explain_stays_jsonl(capsys):
    import json

    seed = RAW / "000_63baf882e5e4f05a.txt"
    assert main(["ingest", str(seed), "--jsonl", "--explain"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    raw = seed.read_text(encoding="utf-8")
    assert [r["doc_id"] for r in records if "removed" not in r] == ["cctv-id-20240827.id"] * 10
    removals = [r for r in records if r.get("removed")]
    assert [(r["source"], r["rule"], r["text"]) for r in removals] == [
        (str(seed), "page_frame", "berita"), (str(seed), "dateline", "2024-08-27"),
        (str(seed), "language_menu", raw[removals[2]["start"]:removals[2]["end"]]),
    ] + [(str(seed), "missing_space", "")] * 7
    assert all(raw[r["start"]:r["end"]] == r["text"] and r["reason"] for r in removals)
    # each inserted space is an empty span of the page, between the two characters it parts
    assert [raw[r["start"] - 1:r["start"] + 1] for r in removals[3:]] == [",M", "iT", ",M", ",T", "sM", ",T", ",B"]
    assert list(removals[0]) == ["removed", "source", "start", "end", "rule", "reason", "text"]


def _parts(result):
    return [(d.id, d.lang, d.script, [(p.start, p.end, p.text) for p in d.paragraphs]) for d in result.documents]


@pytest.mark.parametrize(
    "name, encoding, detected",
    [
        ("004_5065d816adfc3ec2.txt", "gbk", "gb18030"),  # GBK is read as its superset
        ("001_f0908af97be21bcd.txt", "gb18030", "gb18030"),
        ("003_91cde0563d2e864a.txt", "utf-16", "utf-16"),
        ("000_63baf882e5e4f05a.txt", "utf-16", "utf-16"),
    ],
)
def test_a_seed_in_another_encoding_ingests_the_same(tmp_path, name, encoding, detected):
    page = tmp_path / name
    page.write_bytes((RAW / name).read_text(encoding="utf-8").encode(encoding))
    expected, result = ingest_file(RAW / name), ingest_file(page)
    assert result.encoding == detected
    assert _parts(result) == _parts(expected)  # same file stem, so the same ids
    assert [(r.start, r.end, r.rule) for r in result.removed] == [(r.start, r.end, r.rule) for r in expected.removed]


def test_big5_seed_text_decodes_to_the_same_text(results):
    # The raw page carries pinyin with tone marks, which Big5 cannot encode; its kept text can be.
    text = "\n\n".join(p.text for p in results["002"].documents[0].paragraphs)
    assert decode_bytes(text.encode("big5"), name="page") == (text, "big5")


@pytest.mark.parametrize("name, tail, last_removed", [
    # the id page ends with its kept source line: U+FFFD leaves its text and stays in its original
    ("000_63baf882e5e4f05a.txt", b"\xe2\x80", ("undecodable_byte", "\ufffd")),
    # the zh page ends with a related-reading list item, dropped with U+FFFD
    ("004_5065d816adfc3ec2.txt", b"\xe4\xb8", ("related_reading", "最新评论\ufffd")),
])
def test_a_seed_cut_off_mid_character_ingests_the_same_text(tmp_path, caplog, name, tail, last_removed):
    # a truncated download: read as UTF-8 (not GB18030 mojibake, not an error), the lost character as U+FFFD
    data = (RAW / name).read_bytes()
    page = tmp_path / name
    page.write_bytes(data + tail)
    expected, result = ingest_file(RAW / name), ingest_file(page)
    assert result.encoding == "utf-8"
    assert [[p.text for p in d.paragraphs] for d in result.documents] == [
        [p.text for p in d.paragraphs] for d in expected.documents]
    assert (result.removed[-1].rule, result.removed[-1].text) == last_removed
    assert caplog.messages == [f"{page}: not valid UTF-8 at byte offset {len(data)} ({tail.hex(' ')}) (the page ends "
                               "mid-character: a truncated download?); read as UTF-8 with U+FFFD in place of the bad "
                               "bytes"]
    assert_no_loss(result)
