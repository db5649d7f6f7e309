"""Ingest rules away from the shipped pages: language/script decisions, synthetic sites, bad input."""

import pytest

from mtkit.cli import main
from mtkit.errors import DataError
from mtkit.ingest import decode_bytes, ingest_file, ingest_text, signature
from mtkit.ingest.decode import read_lines
from mtkit.ingest.clean import ALL_RULES, CLEANING_RULES, edited_text, is_keyboard_mash, raw_offsets
from mtkit.ingest.langid import detect_language, malay_or_indonesian


@pytest.mark.parametrize(
    "text, expected, result",
    [
        ("公安部严打电诈跨国犯罪,累计抓获缅北涉诈嫌疑人5万余名。", None, ("zh", "Hans")),
        ("中緬泰三國警方加大工作力度,聯手對妙瓦底地區電信網絡詐騙犯罪開展集中打擊。", None, ("zh", "Hant")),
        ("Polisi telah menahan 200 tersangka karena penipuan daring, kata pemerintah.", None, ("id", "Latn")),
        ("Polis telah menahan 200 suspek kerana penipuan dalam talian, kata kerajaan.", None, ("ms", "Latn")),
        # The manifest says Indonesian: Malay spellings do not override it.
        ("Polis telah menahan 200 suspek kerana penipuan dalam talian, kata kerajaan.", ["id"], ("id", "Latn")),
        ("The police arrested 200 suspects in a joint operation on Monday.", None, ("en", "Latn")),
        # Expected languages never turn a Latin-script line into Chinese.
        ("Today's Top News", ["zh"], ("en", "Latn")),
        ("50.000", None, ("und", "")),
        ("2024", ["zh"], ("und", "")),
    ],
)
def test_language_and_script(text, expected, result):
    assert detect_language(text, expected=expected) == result


@pytest.mark.parametrize(
    "text, expected, lang",
    [
        ("bahwa polisi karena uang", None, "id"),
        ("bahawa polis kerana wang", None, "ms"),
        ("tidak ada kata penanda", None, "id"),  # a tie goes to Indonesian
        ("bahawa polis kerana wang", ["zh", "id"], "id"),
        ("bahwa polisi karena uang", ["ms"], "ms"),
        ("bahawa polis kerana wang", ["id", "ms"], "ms"),  # both expected: the cues decide
    ],
)
def test_malay_or_indonesian(text, expected, lang):
    assert malay_or_indonesian(text, expected=expected) == lang


def test_short_paragraphs_inherit_their_neighbours_language():
    page = "\n".join([
        "Police in China, Myanmar and Thailand arrested 200 suspects in a joint operation on Monday, officials said.",
        "2024",
        "The suspects were flown home on two charter flights after the operation, the ministry said on Tuesday.",
        "Chen Yu",  # lingua alone says German
        "The operation follows months of talks between the three police forces, officials added on Tuesday.",
    ])
    (doc,) = ingest_text(page, doc_id="p").documents
    assert [(p.text[:10], p.lang) for p in doc.paragraphs] == [
        ("Police in ", "en"), ("2024", "en"), ("The suspec", "en"), ("Chen Yu", "en"), ("The operat", "en")]
    assert detect_language("Chen Yu") != ("en", "Latn")


def test_chinese_site_with_other_menus_and_footers():
    page = "\n".join([
        "首页 | 新闻 | 国际 | 财经",
        "English | 日本語 | 한국어 | Français",
        "三国警方联合打击电信诈骗 遣返两百名嫌疑人",
        "2025-03-01 10:20 来源:某某网",
        "本报讯 3月1日,中国、缅甸、泰国三国警方在边境地区开展联合行动,共抓获电信网络诈骗犯罪嫌疑人两百名,并于当日通过包机遣返回国。",
        "警方表示,下一步将继续加强执法合作,坚决遏制跨境电诈犯罪高发态势,切实保护人民群众的生命财产安全。<br/>",
        "图为嫌疑人被押解下飞机。记者 王小明 摄",
        "责任编辑:张三",
        "推荐阅读",
        "多地警方公布最新反诈提示",
        "版权所有 © 2025 某某网 京ICP备12345678号",
        "asdfghjkl",
    ])
    result = ingest_text(page, doc_id="zhsite")
    (doc,) = result.documents
    assert (doc.id, doc.lang, doc.script) == ("zhsite.zh", "zh", "Hans")
    assert [(p.text[:12], p.meta.get("role", "body")) for p in doc.paragraphs] == [
        ("三国警方联合打击电信诈骗", "title"), ("本报讯 3月1日,中国、", "body"), ("警方表示,下一步将继续加", "body"),
        ("图为嫌疑人被押解下飞机。", "body")]  # a short closing sentence is still article text
    assert [(r.rule, r.text) for r in result.removed] == [
        ("page_frame", "首页 | 新闻 | 国际 | 财经"),
        ("language_menu", "English | 日本語 | 한국어 | Français"),
        ("page_frame", "2025-03-01 10:20 来源:某某网"),
        ("html_remnant", "<br/>"),
        ("photo_credit", "记者 王小明 摄"),
        ("byline", "责任编辑:张三"),
        ("related_reading", "推荐阅读"),
        ("related_reading", "多地警方公布最新反诈提示"),
        ("copyright_footer", "版权所有 © 2025 某某网 京ICP备12345678号"),
        ("junk_token", "asdfghjkl"),
    ]


def test_indonesian_site_with_an_inline_related_link():
    page = "\n".join([
        "Beranda Nasional Internasional Olahraga",
        "Polisi tangkap 200 tersangka penipuan daring",
        "Jakarta - Polisi Indonesia bersama kepolisian Thailand menangkap 200 tersangka penipuan daring dalam "
        "operasi gabungan di perbatasan, kata juru bicara kepolisian.",
        "Baca juga: Polisi ungkap modus baru penipuan",
        "Para tersangka akan dipulangkan ke negara asal mereka setelah pemeriksaan selesai, karena kasus ini "
        "melibatkan banyak negara.",
        "Kasus ini masih diselidiki.",
        "Terpopuler",
        "Hak Cipta © 2025 Contoh Berita. Seluruh hak dilindungi.",
    ])
    result = ingest_text(page, doc_id="idsite")
    (doc,) = result.documents
    assert (doc.id, doc.lang, doc.script) == ("idsite.id", "id", "Latn")
    assert [p.text[:20] for p in doc.paragraphs] == [
        "Polisi tangkap 200 t", "Jakarta - Polisi Ind", "Para tersangka akan ", "Kasus ini masih dise"]
    assert [(r.rule, r.text) for r in result.removed] == [
        ("page_frame", "Beranda Nasional Internasional Olahraga"),
        ("related_reading", "Baca juga: Polisi ungkap modus baru penipuan"),
        ("page_frame", "Terpopuler"),
        ("copyright_footer", "Hak Cipta © 2025 Contoh Berita. Seluruh hak dilindungi."),
    ]


def test_a_page_is_indonesian_or_malay_not_both():
    # Each paragraph alone has different cues; the page's majority decides for all of them.
    page = "\n".join([
        "Polisi menangkap dua ratus tersangka penipuan daring dalam operasi gabungan di perbatasan karena laporan "
        "warga, kata juru bicara kepolisian kepada wartawan.",
        "Para suspek akan dihantar pulang selepas siasatan selesai kerana kes ini melibatkan banyak negara.",
    ])
    (doc,) = ingest_text(page, doc_id="mixed").documents
    assert (doc.id, [p.lang for p in doc.paragraphs]) == ("mixed.id", ["id", "id"])


_BODY = ("公安部加强与缅甸警方合作,打击缅北电诈犯罪活动,通过有效的执法合作,缅甸警方一次性移交了10名重大的电诈头目,"
         "目前为止已累计抓获缅北涉诈犯罪嫌疑人5万多名。")
_BODY_EN = ("Police in China, Myanmar and Thailand arrested 200 suspects in a joint operation on Monday, officials said "
            "at a press conference in Beijing.")


@pytest.mark.parametrize(
    "title, headline, label",
    [
        ("推动高质量发展·权威发布|公安部严打电诈跨国犯罪 累计抓获缅北涉诈嫌疑人5万余名",
         "公安部严打电诈跨国犯罪 累计抓获缅北涉诈嫌疑人5万余名", "推动高质量发展·权威发布|"),
        ("权威发布 丨 中缅泰三国警方联合打击妙瓦底电诈园区", "中缅泰三国警方联合打击妙瓦底电诈园区", "权威发布 丨"),
        ("權威發佈｜中緬泰三國警方聯合打擊妙瓦底電詐園區", "中緬泰三國警方聯合打擊妙瓦底電詐園區", "權威發佈｜"),
        ("Exclusive | Police in three countries arrest 200 fraud suspects",
         "Police in three countries arrest 200 fraud suspects", "Exclusive |"),
        # no label: a headline with no bar, a bar after a long first part, a navigation trail of two bars
        ("公安部严打电诈跨国犯罪 累计抓获缅北涉诈嫌疑人5万余名", "公安部严打电诈跨国犯罪 累计抓获缅北涉诈嫌疑人5万余名", None),
        ("公安部严打电诈跨国犯罪累计抓获缅北涉诈嫌疑人|5万余名", "公安部严打电诈跨国犯罪累计抓获缅北涉诈嫌疑人|5万余名", None),
    ],
)
def test_column_label_leaves_the_title(title, headline, label):
    from mtkit.segment import segment_document

    page = f"首页\n\n{title}\n\n{_BODY_EN if title.isascii() else _BODY}\n"
    result = ingest_text(page, doc_id="p", to_simplified=True)
    (doc,) = result.documents
    (paragraph,) = [p for p in doc.paragraphs if p.meta.get("role") == "title"]
    assert (paragraph.raw, page[paragraph.start:paragraph.end]) == (headline, headline)
    assert [r.text for r in result.removed if r.rule == "column_label"] == ([label] if label else [])
    for r in result.removed:
        assert page[r.start:r.end] == r.text
    # the title sentence's offsets point at exactly the kept headline in the raw page
    title_sentence = segment_document(doc)[0]
    assert page[title_sentence.start:title_sentence.end] == (title_sentence.original or title_sentence.text) == headline


def test_every_rule_is_registered_and_signed():
    names = [rule.name for rule in ALL_RULES]
    assert sorted(names) == sorted(CLEANING_RULES.names())
    assert len({rule.signature() for rule in ALL_RULES}) == len(names)
    assert signature().startswith("ingest:") and "|rules:12|t2s:no|" in signature()


def test_the_ingest_signature_changes_with_a_text_edit(monkeypatch):
    from mtkit.ingest import clean

    before = signature().split("|")[0]
    monkeypatch.setitem(clean.TEXT_EDIT_VERSIONS, "html_entity", clean.TEXT_EDIT_VERSIONS["html_entity"] + 1)
    assert signature().split("|")[0] != before


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\xff\xfe\xfa\xfb\x80\x81\x82", "not valid utf-16 at byte 6"),  # a UTF-16 BOM, then an odd byte out
        (b"\x00\x01\x02garbage", "binary file"),
    ],
)
def test_undecodable_bytes_are_a_data_error(data, message):
    with pytest.raises(DataError, match=message):
        decode_bytes(data, name="page.txt")


def test_utf16_without_bom_decodes():
    text = "公安部严打电诈跨国犯罪。Police cooperation.\n"
    assert decode_bytes(text.encode("utf-16-le"), name="p") == (text, "utf-16-le")


@pytest.mark.parametrize(
    "data, text, where",
    [
        # a download cut off inside the last character: charset detection used to read this as GB18030 mojibake
        ("公安部严打电诈跨国犯罪。".encode() + "累".encode()[:2], "公安部严打电诈跨国犯罪。\ufffd",
         "byte offset 36 (e7 b4) (the page ends mid-character: a truncated download?)"),
        # a stray Windows-1252 quote and a truncated end
        ("“Kerja sama” 中缅泰三国 di Myanmar.".encode().replace(b" di", b"\x92 di") + b"\xe2\x80",
         "“Kerja sama” 中缅泰三国\ufffd di Myanmar.\ufffd",
         "byte offsets 32 (92), 45 (e2 80) (the page ends mid-character: a truncated download?)"),
        # offsets count the UTF-8 BOM the text leaves out
        (b"\xef\xbb\xbf" + "Café crème brûlée \x92!".encode().replace(b"\xc2\x92", b"\x92"),
         "Café crème brûlée \ufffd!", "byte offset 25 (92)"),
    ],
)
def test_utf8_with_a_few_bad_bytes_is_read_as_utf8_with_a_warning(data, text, where, caplog):
    assert decode_bytes(data, name="page.txt") == (text, "utf-8")
    assert caplog.messages == [f"page.txt: not valid UTF-8 at {where}; read as UTF-8 with U+FFFD in place of the "
                               "bad bytes"]


def test_more_than_a_handful_of_bad_bytes_is_left_to_charset_detection(caplog):
    # nine bad bytes in a long UTF-8 page are a damaged page or a mixed one, not a truncated download
    data = ("公安部严打电诈跨国犯罪。" * 20).encode() + b"\x92" * 9
    with pytest.raises(DataError, match="page.txt: cannot decode"):
        decode_bytes(data, name="page.txt")
    assert caplog.messages == []


def test_bad_bytes_allowed_grow_with_the_page_and_a_mostly_ascii_page_is_not_garbled(caplog):
    """Nine stray cp1252 quotes in a 3,000-character Chinese page were past a fixed cap of 8 (the page was then
    refused); an English page with two en dashes and one stray byte had too few good characters per bad one and
    went to charset detection, which read it as mac_iceland (every dash garbled)."""
    page = ("公安部严打电诈跨国犯罪。" * 250).encode()  # 9,000 bytes: up to 18 bad sequences
    data = page[:3000] + b"\x92" * 12 + page[3000:]
    text, encoding = decode_bytes(data, name="long.txt")
    assert (encoding, text.count("\ufffd"), len(caplog.messages)) == ("utf-8", 12, 1)
    text, encoding = decode_bytes("Police – and prosecutors – met\x92s.".encode().replace(b"\xc2\x92", b"\x92"),
                                  name="en.txt")
    assert (text, encoding) == ("Police – and prosecutors – met\ufffds.", "utf-8")


@pytest.mark.parametrize("text, encoding, read_as", [
    ("公安部严打电诈跨国犯罪", "gbk", "gb18030"),  # short: few bad bytes, but no more well-formed UTF-8 than chance gives
    ("中緬泰三國警方", "big5", "big5"),
])
def test_a_short_legacy_encoded_line_is_not_taken_for_damaged_utf8(text, encoding, read_as, caplog):
    assert decode_bytes(text.encode(encoding), name="page.txt") == (text, read_as)
    assert caplog.messages == [f"page.txt: not UTF-8 text (line 1: invalid start byte); read as {read_as}, a guess "
                               "from its bytes (check the text, or convert the file to UTF-8)"]


@pytest.mark.parametrize("text, encoding, read_as", [
    # charset_normalizer's first reading of each was another code page, tied with the right one: cp775
    # ("Cafķ", "SŃo"), cp1250 ("Ministčre"), Korean cp949 for one line of GBK
    ("Café owners in São Paulo say naïve plans fail.\n", "cp1252", "cp1252"),
    ("The Ministère de l'Intérieur said on Tuesday that 10 suspects were arrested – “quickly”.\n", "cp1252",
     "cp1252"),
    ("Polisi menangkap 10 tersangka di Jakarta pada hari Selasa. Café.\n", "latin-1", "cp1252"),
    ("公安部严打电诈跨国犯罪,缅甸警方。", "gbk", "gb18030"),
    ("公安部嚴打電詐跨國犯罪,緬甸警方。", "big5", "big5"),
    # no tie: a Polish page in its own code page stays in it
    ("Zażółć gęślą jaźń, powiedział minister.", "cp1250", "cp1250"),
])
def test_charset_detection_ties_go_to_the_webs_legacy_encodings(text, encoding, read_as, caplog):
    assert decode_bytes(text.encode(encoding), name="page.txt") == (text, read_as)
    assert [m.split("; ")[1] for m in caplog.messages] == [f"read as {read_as}, a guess from its bytes (check the "
                                                           "text, or convert the file to UTF-8)"]


def test_text_without_nul_bytes_is_not_guessed_to_be_utf16():
    # charset_normalizer ranks utf_16_le first for these bytes: one line of mojibake in place of two lines
    text, encoding = decode_bytes("公安部\n第二行\n".encode("gbk"), name="page.txt")
    assert not encoding.startswith("utf_16") and text.count("\n") == 2


@pytest.mark.parametrize("data, lines, warning", [
    (b"a\nb\n", ["a", "b"], None),
    (b"a\nb", ["a", "b"], None),
    (b"\xef\xbb\xbfa\r\n\r\nb\r\n", ["a", "", "b"], None),  # BOM and CRLF are not text
    ("一\u2028二\x85三\x0c四\n".encode(), ["一\u2028二\x85三\x0c四"], None),  # not line breaks in a line file
    (b"a\rb\n", ["a\rb"], "lines.txt: carriage returns inside lines are read as part of the line"),
    ("公安部\r\n第二行\r\n".encode("utf-16"), ["公安部", "第二行"], None),
    ("Café\nLe garçon.\n".encode("latin-1"), ["Café", "Le garçon."],  # é and ç read alike in cp1250
     "lines.txt: not UTF-8 text (line 1: invalid continuation byte); read as "),
    (b"", [], None),
])
def test_read_lines_splits_at_newlines_only(tmp_path, caplog, data, lines, warning):
    path = tmp_path / "lines.txt"
    path.write_bytes(data)
    assert read_lines(path) == lines
    if warning is None:
        assert caplog.messages == []
    else:
        assert warning in caplog.text


@pytest.mark.parametrize("content", [b"", b"  \n\n\t \r\n"])
def test_empty_page_is_a_data_error(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match="empty page"):
        ingest_file(path)


def test_cli_reports_bad_input_without_a_traceback(tmp_path, capsys):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"\xff\xfe\xfa\xfb\x80\x81\x82")
    assert main(["ingest", str(path)]) == 2
    assert f"{path}: not valid utf-16 at byte 6" in capsys.readouterr().err


def test_cli_goes_on_after_a_bad_page_and_exits_2(tmp_path, capsys):
    empty, binary, page = tmp_path / "empty.txt", tmp_path / "image.txt", tmp_path / "page.txt"
    empty.write_bytes(b"")
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    page.write_text("Police in China, Myanmar and Thailand arrested 200 suspects in a joint operation on Monday.\n")
    assert main(["ingest", str(empty), str(page), str(binary)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ("# page.en\ten\tLatn\t1 paragraphs\n"
                            "Police in China, Myanmar and Thailand arrested 200 suspects in a joint operation on Monday.\n")
    assert captured.err == (
        f"mtkit ingest: error: {empty}: empty page (0 characters, all whitespace); nothing to ingest\n"
        f"mtkit ingest: error: {binary}: binary file (NUL bytes), not a text page\n"
        f"mtkit ingest: 2 of 3 paths failed: {empty}, {binary}\n")


@pytest.mark.parametrize(
    "word, mash",
    [
        ("qwerasdzxcrqefa", True), ("asdfghjkl", True), ("zxcvbnmasdf", True), ("qwerty", True), ("lkjhgf", True),
        ("asdasd", True),
        # real words that touch neighbouring keys
        ("property", False), ("reporter", False), ("terpopuler", False), ("typewriter", False), ("olahraga", False),
    ],
)
def test_keyboard_mash(word, mash):
    assert is_keyboard_mash(word) is mash


def test_a_script_neutral_chinese_paragraph_takes_its_neighbours_script():
    page = "\n\n".join([
        "中緬泰三國警方加大工作力度,聯手對妙瓦底地區電信網絡詐騙犯罪開展集中打擊,泰國對妙瓦底地區采取斷電、斷網措施。",
        "泰方表示同意。",  # every character is the same in both scripts
        "緬甸部署對妙瓦底地區電詐園區開展清查整治,聯合泰國執法部門開展打擊行動,緬方將向我遣返首批人員。",
    ])
    (doc,) = ingest_text(page, doc_id="neutral").documents
    assert [(p.text[:4], p.script) for p in doc.paragraphs] == [("中緬泰三", "Hant"), ("泰方表示", "Hant"), ("緬甸部署", "Hant")]
    assert detect_language("泰方表示同意。") == ("zh", "Hans")  # alone it gets the tie-break


@pytest.mark.parametrize(
    "text, reason",
    [
        ("Copyright 2025 Example News", "copyright notice"),
        ("© 2025 Example News", "copyright or licence notice"),
        ("版权所有 某某网", "copyright or licence notice"),
        ("【版權聲明】本文未經授權不得轉載", "copyright or licence notice"),
        ("1.本网稿件未经授权不得转载,转载须注明来源,违者追究版权责任。", "reprint/copyright terms"),
        # news about copyright is article text
        ("The court ruled that the copyright of the film belongs to the studio, and ordered the platform to pay "
         "damages of 2 million yuan.", None),
        ("Polisi menyelidiki pelanggaran hak cipta oleh sebuah situs film bajakan yang beroperasi dari luar negeri "
         "sejak tahun lalu.", None),
    ],
)
def test_copyright_footer(text, reason):
    assert CLEANING_RULES.get("copyright_footer")().check(text) == reason


@pytest.mark.parametrize(
    "rule, text, reason",
    [
        ("junk_token", "QWERASDZXCRQEFA", "keyboard mash"),
        ("junk_token", "6165cc金沙总站", "site name glued to digits"),
        ("junk_token", "金沙娱乐城", "gambling spam"),
        ("junk_token", "G20峰会", None),
        ("junk_token", "2024年度回顾", None),
        ("junk_token", "澳门回归25周年", None),
        ("junk_token", "缅北赌场被查封", None),
        ("byline", "By ZHOU WENTING in Shanghai | China Daily | Updated: 2024-10-27 20:48:24", "byline or credit line"),
        ("byline", "责任编辑:李四", "byline or credit line"),
        ("byline", "北京青年报客户端 2023-08-20 20:54", "byline or credit line"),
        # credits in brackets, and English and Indonesian credit labels
        ("byline", "(责任编辑:李四)", "byline or credit line"),
        ("byline", "【责任编辑:王五】", "byline or credit line"),
        ("byline", "Editor: Zhang San", "byline or credit line"),
        ("byline", "Pewarta: Budi Santoso", "byline or credit line"),
        ("byline", "(Reporter CCTV Chen Yu dan Cao Xiaozheng)", None),  # a source line, kept with role "source"
        ("byline", "Writers said the new rules would help the police.", None),
        # an interview's speaker label opening article prose
        ("byline", "记者:你们如何看待这次跨国联合打击行动取得的成果?下一步还有哪些具体安排和计划?请具体介绍一下相关情况。", None),
        ("language_menu", "Global EditionASIA 中文双语Français", "3 language names"),
        ("language_menu", "The ministry publishes its reports in English, Français and Español every year.", None),
        # two names: a menu when they are at least 60% of the letters
        ("language_menu", "Magyar | Polski | Sprachen", "2 language names"),  # 12 of 20 letters: 60%
        ("language_menu", "Pilih bahasa: English | Bahasa Indonesia", "2 language names"),  # 22 of 33: 67%
        ("language_menu", "Bahasa Indonesia | English | Menu", "2 language names"),  # 22 of 26: 85%
        ("language_menu", "Magyar | Polski | Sprachwahl", None),  # 12 of 22: 55%
        ("dateline", "2024-08-27", "date line"),
    ],
)
def test_block_rules(rule, text, reason):
    assert CLEANING_RULES.get(rule)().check(text) == reason


@pytest.mark.parametrize("lines, dropped", [
    (["Police in three countries arrested 200 fraud suspects in a joint operation on the border, a spokesman said.",
      "The suspects will be sent back to their home countries after the investigation, because the case involves "
      "many countries.",
      "POLICE in three countries arrested 200 fraud-suspects in a joint operation on the border; a spokesman said!",
      "Police in three countries arrested 300 fraud suspects in a joint operation on the border, a spokesman said."],
     [2]),  # other case and punctuation: a repeat; another number: not
    (["本报讯 3月1日,中国、缅甸、泰国三国警方在边境地区开展联合行动,共抓获电信网络诈骗犯罪嫌疑人两百名,并于当日通过包机遣返回国。",
      "警方表示,下一步将继续加强执法合作,坚决遏制跨境电诈犯罪高发态势,切实保护人民群众的生命财产安全。",
      "本报讯 3月1日，中国、缅甸、泰国三国警方在边境地区开展联合行动，共抓获电信网络诈骗犯罪嫌疑人两百名，并于当日通过包机遣返回国。",
      "本报讯  3 月 1 日 中国 缅甸 泰国三国警方在边境地区开展联合行动 共抓获电信网络诈骗犯罪嫌疑人两百名 并于当日通过包机遣返回国"],
     [2, 3]),  # full-width punctuation; spaces for punctuation
])
def test_a_paragraph_repeated_but_for_case_punctuation_or_spaces_is_dropped(lines, dropped):
    result = ingest_text("\n".join(lines), doc_id="dup")
    assert [(r.rule, r.text, r.reason) for r in result.removed] == [
        ("duplicate_paragraph", lines[i], "repeats line 1") for i in dropped]
    assert [p.text for d in result.documents for p in d.paragraphs] == [
        line for i, line in enumerate(lines) if i not in dropped]


def test_editor_and_picture_credits_leave_the_body():
    page = "\n".join([
        "警方破获特大电信诈骗案 抓获嫌疑人120名",
        "记者从公安部获悉,近日,公安部指挥各地警方破获一起特大跨境电信网络诈骗案,抓获犯罪嫌疑人120名,涉案金额1.5亿元。",
        "【责任编辑:王五】",
        "据介绍,该团伙长期盘踞境外,通过虚假投资平台实施诈骗,受害人遍布全国二十多个省份。",
        "(图片来源:视觉中国)",
        "警方提醒,广大群众要提高防范意识,不轻信陌生来电,不点击陌生链接,不向陌生账户转账。",
        "(责任编辑:李四)",
    ])
    result = ingest_text(page, doc_id="ex")
    (doc,) = result.documents
    assert [(p.text, p.meta.get("role", "body")) for p in doc.paragraphs] == [
        ("警方破获特大电信诈骗案 抓获嫌疑人120名", "title"),
        ("记者从公安部获悉,近日,公安部指挥各地警方破获一起特大跨境电信网络诈骗案,抓获犯罪嫌疑人120名,涉案金额1.5亿元。", "body"),
        ("据介绍,该团伙长期盘踞境外,通过虚假投资平台实施诈骗,受害人遍布全国二十多个省份。", "body"),
        ("警方提醒,广大群众要提高防范意识,不轻信陌生来电,不点击陌生链接,不向陌生账户转账。", "body"),
    ]
    assert [(r.rule, r.text) for r in result.removed] == [
        ("byline", "【责任编辑:王五】"), ("photo_credit", "(图片来源:视觉中国)"), ("byline", "(责任编辑:李四)")]


@pytest.mark.parametrize(
    "rule, text, cut",
    [
        ("photo_credit", "图为嫌疑人被押解下飞机。新华社记者 殷刚 摄", ["新华社记者 殷刚 摄"]),
        ("photo_credit", "图为嫌疑人被押解下飞机记者 王小明 摄", ["记者 王小明 摄"]),  # the caption keeps its words
        ("photo_credit", "記者 楊可佳、王小明 攝", ["記者 楊可佳、王小明 攝"]),
        ("photo_credit", "Police escort the suspects (Photo: John Smith)", ["(Photo: John Smith)"]),
        ("photo_credit", "记者分别与3人的户籍地联系获悉。", []),
        ("photo_credit", "警方提醒群众提高防范意识。(图片来源:视觉中国)", ["(图片来源:视觉中国)"]),
        ("photo_credit", "（图/新华社）【供图:公安部】", ["（图/新华社）", "【供图:公安部】"]),
        ("photo_credit", "中国(图们江)地区", []),
        ("html_remnant", "全力推动a target='_blank' href='/index.html'/a8月27日", ["a target='_blank' href='/index.html'/a"]),
        ("html_remnant", "flights.<a href=\"/x\">more</a>", ["<a href=\"/x\">", "</a>"]),
        ("html_remnant", "Police&nbsp;said", []),  # a character reference is text (decoded), not markup
        ("html_remnant", "a big operation in a border area", []),
    ],
)
def test_inline_rules(rule, text, cut):
    assert [text[s:e] for s, e, _ in CLEANING_RULES.get(rule)().spans(text)] == cut


# ---------------------------------------------------------------- pages in the style of other sites (crawl check)


def _removed(result, page):
    for r in result.removed:  # every removal is a verbatim span of the raw page
        assert page[r.start:r.end] == r.text
    return [(r.rule, r.text) for r in result.removed]


def _kept(result, page):
    out = []
    for doc in result.documents:
        for p in doc.paragraphs:
            assert page[p.start:p.end] == p.raw  # offsets into the raw page stay exact
            out.append((doc.lang, p.meta.get("role", "body"), p.raw))
    return out


def test_detik_style_page_keeps_the_paragraph_after_a_two_line_related_link():
    # "Baca juga:" on a line of its own heads a one-link list mid-article; the list used to run on over the
    # pagination lines into the next 21-word paragraph, which is the story going on.
    body = [
        "Jakarta - Bareskrim Polri membongkar sindikat penipuan online jaringan internasional yang beroperasi dari "
        "Kamboja. Sebanyak 12 orang ditangkap dalam pengungkapan kasus tersebut.",
        "Polisi masih memburu pelaku lain yang diduga berada di luar negeri. Polri telah berkoordinasi dengan "
        "Interpol untuk menerbitkan red notice.",
    ]
    page = "\n".join([
        "Bareskrim Bongkar Sindikat Scam Online Jaringan Kamboja, 12 Orang Ditangkap",
        body[0],
        "Baca juga:",
        "Polisi Tangkap WNA Pelaku Penipuan Online di Bali",
        "Simak selengkapnya di halaman berikutnya.",
        "Halaman selanjutnya",
        body[1],
        "Tonton juga video \"Polisi Ungkap Sindikat Love Scam\" di sini:",
        "(rdp/isa)",
        "Simak breaking news dan berita pilihan kami langsung di ponselmu. Pilih saluran andalanmu akses berita "
        "detikcom WhatsApp Channel",
    ])
    result = ingest_text(page, doc_id="detik")
    assert _kept(result, page) == [
        ("id", "title", "Bareskrim Bongkar Sindikat Scam Online Jaringan Kamboja, 12 Orang Ditangkap"),
        ("id", "body", body[0]), ("id", "body", body[1])]
    assert _removed(result, page) == [
        ("related_reading", "Baca juga:"),
        ("related_reading", "Polisi Tangkap WNA Pelaku Penipuan Online di Bali"),
        ("reader_prompt", "Simak selengkapnya di halaman berikutnya."),
        ("reader_prompt", "Halaman selanjutnya"),
        ("reader_prompt", "Tonton juga video \"Polisi Ungkap Sindikat Love Scam\" di sini:"),
        ("byline", "(rdp/isa)"),
        ("reader_prompt", "Simak breaking news dan berita pilihan kami langsung di ponselmu. Pilih saluran andalanmu "
                          "akses berita detikcom WhatsApp Channel"),
    ]


def test_english_page_with_a_cookie_banner_and_a_newsletter_box():
    # The cookie banner is long prose: it used to open the body, keeping every menu line between it and the
    # article as headings (the headline too); the newsletter box sat inside the body.
    paragraphs = [
        "BANGKOK, Feb 5 - Thailand cut electricity, internet and fuel supplies to several border areas of Myanmar "
        "on Wednesday, in a bid to shut down scam centres.",
        "Thai officials said the measures would remain in place until further notice. Myanmar's military "
        "government did not respond to a request for comment.",
    ]
    page = "\n".join([
        "We use cookies to improve your experience on our website. By continuing to browse, you agree to our use "
        "of cookies.",
        "Accept all cookies",
        "Subscribe",
        "World",
        "Thailand cuts power to Myanmar scam hubs as crackdown widens",
        "By Jane Doe and John Roe",
        paragraphs[0],
        "Sign up for our Asia newsletter",
        "Get the top stories from the region delivered to your inbox every weekday.",
        "Enter your email address",
        "By signing up, you agree to our Terms of Use and Privacy Policy.",
        paragraphs[1],
        "Advertisement · Scroll to continue",
        "Follow us on Twitter, Facebook and Instagram.",
    ])
    result = ingest_text(page, doc_id="en")
    assert _kept(result, page) == [
        ("en", "title", "Thailand cuts power to Myanmar scam hubs as crackdown widens"),
        ("en", "body", paragraphs[0]), ("en", "body", paragraphs[1])]
    assert _removed(result, page) == [
        ("reader_prompt", "We use cookies to improve your experience on our website. By continuing to browse, you "
                          "agree to our use of cookies."),
        ("reader_prompt", "Accept all cookies"),
        ("reader_prompt", "Subscribe"),
        ("page_frame", "World"),
        ("byline", "By Jane Doe and John Roe"),
        ("reader_prompt", "Sign up for our Asia newsletter"),
        ("reader_prompt", "Get the top stories from the region delivered to your inbox every weekday."),
        ("reader_prompt", "Enter your email address"),
        ("reader_prompt", "By signing up, you agree to our Terms of Use and Privacy Policy."),
        ("reader_prompt", "Advertisement · Scroll to continue"),
        ("reader_prompt", "Follow us on Twitter, Facebook and Instagram."),
    ]


def test_chinese_portal_page_keeps_its_headline_and_the_closing_line_before_the_end_mark():
    # "原标题：" used to pass for the title (and the real headline was dropped); the last line, 27 characters
    # ending with "！", used to go with the footer although "（完）" closes the article after it.
    page = "\n".join([
        "新浪新闻 > 国内新闻 > 正文",
        "公安部：中缅泰联合打击电诈取得重大战果",
        "原标题：中缅泰三国警方联合打击电诈 首批200名嫌疑人被押解回国",
        "新京报讯 2月20日，随着中国民航包机陆续降落在江苏南京禄口国际机场，缅甸向我遣返的妙瓦底地区首批200名中国籍涉诈犯罪嫌疑人押解回国。",
        "公安部提醒广大群众：凡是以高薪招聘为名诱骗出境的，都是诈骗！",
        "（完）",
        "扫一扫，用手机看新闻！",
        "更多精彩新闻，请关注新浪新闻公众号",
    ])
    result = ingest_text(page, doc_id="sina")
    assert _kept(result, page) == [
        ("zh", "title", "公安部：中缅泰联合打击电诈取得重大战果"),
        ("zh", "body", page.splitlines()[3]),
        ("zh", "body", "公安部提醒广大群众：凡是以高薪招聘为名诱骗出境的，都是诈骗！"),
    ]
    assert _removed(result, page) == [
        ("page_frame", "新浪新闻 > 国内新闻 > 正文"),
        ("byline", "原标题：中缅泰三国警方联合打击电诈 首批200名嫌疑人被押解回国"),
        ("page_frame", "（完）"),
        ("reader_prompt", "扫一扫，用手机看新闻！"),
        ("reader_prompt", "更多精彩新闻，请关注新浪新闻公众号"),
    ]
    # with no end mark, the "！" line still closes the body: a clause mark before it makes it a sentence
    no_mark = page.replace("（完）\n", "")
    assert [p[2] for p in _kept(ingest_text(no_mark, doc_id="sina"), no_mark)][-1] == (
        "公安部提醒广大群众：凡是以高薪招聘为名诱骗出境的，都是诈骗！")


def test_a_reporter_byline_line_is_not_the_title():
    page = "\n".join([
        "中国警方：今年已从东南亚押解回国涉诈嫌疑人超千名",
        "澎湃新闻记者 张三",
        "公安部刑事侦查局负责人介绍，今年以来，公安机关会同缅甸、泰国、柬埔寨等国执法部门，持续开展联合打击行动，已押解回国涉诈犯罪嫌疑人1000余名。",
    ])
    result = ingest_text(page, doc_id="pp")
    assert [(role, text[:10]) for _, role, text in _kept(result, page)] == [
        ("title", "中国警方：今年已从东"), ("body", "公安部刑事侦查局负责")]
    assert _removed(result, page) == [("byline", "澎湃新闻记者 张三")]


def test_a_bilingual_headline_line_gives_each_language_part_its_title():
    page = "\n".join([
        "首页 | 双语新闻 | 英语学习",
        "中缅泰三国联合打击电诈 Three countries join hands to fight telecom fraud",
        "2月20日，缅甸向我遣返的首批200名中国籍涉诈犯罪嫌疑人经泰国被押解回国，公安部表示将常态化开展联合打击。",
        "The first batch of 200 Chinese suspects involved in fraud in Myanmar was escorted back to China via Thailand "
        "on Feb 20.",
    ])
    result = ingest_text(page, doc_id="bi")
    assert [(d.id, [(p.raw[:12], p.meta.get("role", "body")) for p in d.paragraphs]) for d in result.documents] == [
        ("bi.zh", [("中缅泰三国联合打击电诈", "title"), ("2月20日，缅甸向我遣返", "body")]),
        ("bi.en", [("Three countr", "title"), ("The first ba", "body")]),
    ]
    _kept(result, page)
    # a Chinese headline with a Latin word or two stays whole
    whole = "首页\nG20峰会 APP 公安部严打电诈跨国犯罪 累计抓获嫌疑人\n" + page.splitlines()[2]
    assert _kept(ingest_text(whole, doc_id="w"), whole)[0] == ("zh", "title", "G20峰会 APP 公安部严打电诈跨国犯罪 累计抓获嫌疑人")


@pytest.mark.parametrize(
    "text, reason",
    [
        ("We use cookies to improve your experience. By continuing, you agree to our use of cookies.",
         "cookie or terms consent notice"),
        ("Accept all cookies", "cookie or terms consent notice"),
        ("By signing up, you agree to our Terms of Use and Privacy Policy.", "cookie or terms consent notice"),
        ("Sign up for our Asia newsletter", "call to action (subscribe, follow, download, share)"),
        ("Get the top stories delivered to your inbox every weekday.", "call to action (subscribe, follow, download, share)"),
        ("Ikuti kami di Google News", "call to action (subscribe, follow, download, share)"),
        ("點我下載APP", "call to action (subscribe, follow, download, share)"),
        ("不用抽 不用搶 現在用APP看新聞 保證天天中獎", "call to action (subscribe, follow, download, share)"),
        ("Halaman selanjutnya", "advertisement label or pagination link"),
        ("Advertisement", "advertisement label or pagination link"),
        # article prose that uses the same words
        ("The regulator said websites must let users reject all cookies before tracking them, the ministry said.", None),
        ("Subscribers to the service lost 2 million yuan in the scam, police said on Monday after the arrests.", None),
        ("Police urged the public to download the national anti-fraud app and report suspicious calls at once.", None),
        ("关注民生，公安部表示将继续加大打击力度，切实保护人民群众财产安全。", None),
        ("Tontonan itu ditayangkan di televisi nasional setiap malam sejak bulan lalu, kata polisi.", None),
    ],
)
def test_reader_prompt(text, reason):
    assert CLEANING_RULES.get("reader_prompt")().check(text) == reason


@pytest.mark.parametrize(
    "rule, text, reason",
    [
        ("byline", "By Jane Doe and John Roe", "byline or credit line"),
        ("byline", "By Monday the police had arrested 200 people.", None),
        ("byline", "本报记者 王煜 李四", "byline or credit line"),
        ("byline", "記者林志強／台北報導", "byline or credit line"),
        ("byline", "记者探访", None),  # a subheading: no outlet, no space, no "報導"
        ("byline", "(rdp/isa)", "byline or credit line"),
        ("byline", "原标题：中缅泰三国警方联合打击电诈", "byline or credit line"),
        ("copyright_footer", "Dilarang keras mengambil konten, melakukan crawling atau pengindeksan otomatis untuk AI "
                             "di situs web ini tanpa izin tertulis dari Kantor Berita ANTARA.", "reprint/copyright terms"),
        ("copyright_footer", "Polisi menangkap pelaku yang menyalin konten situs berita tanpa izin dan menjualnya "
                             "kepada pihak lain, kata juru bicara.", None),
    ],
)
def test_block_rules_on_other_sites(rule, text, reason):
    assert CLEANING_RULES.get(rule)().check(text) == reason


@pytest.mark.parametrize(
    "text, cut",
    [
        ("▲受困緬甸的台灣人今天返抵桃園機場。（記者林志強攝）", ["（記者林志強攝）"]),  # the brackets go with the credit
        ("Police escort suspects in Nanjing, Feb. 20, 2025. (Xinhua/Li Bo)", [" (Xinhua/Li Bo)"]),
        ("Police escort suspects in Bangkok. (AP Photo/Sakchai Lalit)", [" (AP Photo/Sakchai Lalit)"]),
        ("Trade between the two (China/Myanmar) rose.", []),  # not after a sentence, not at the end
    ],
)
def test_photo_credits_on_other_sites(text, cut):
    assert [text[s:e] for s, e, _ in CLEANING_RULES.get("photo_credit")().spans(text)] == cut


def test_script_and_style_elements_leave_with_their_content():
    page = "\n".join([
        "<head><script>var x = 1; function f(){return 2;}</script><style>body{color:red}</style></head>",
        "Polisi menangkap lebih dari 200 tersangka penipuan di Myanmar pada hari Kamis kemarin sore.",
        '<script type="text/javascript">',
        "var tracker = 'The police arrested more people in a joint operation on Monday, officials said.';",
        "</script> Mereka dipulangkan ke Tiongkok melalui Thailand pada hari Jumat pagi ini.",
        "<STYLE>p { margin: 0 }</STYLE>",
    ])
    result = ingest_text(page, doc_id="ex")
    assert [(d.id, [p.text for p in d.paragraphs]) for d in result.documents] == [("ex.id", [
        "Polisi menangkap lebih dari 200 tersangka penipuan di Myanmar pada hari Kamis kemarin sore.",
        "Mereka dipulangkan ke Tiongkok melalui Thailand pada hari Jumat pagi ini.",
    ])]
    assert [(r.rule, r.text, r.reason) for r in result.removed if "element" in r.reason] == [
        ("html_remnant", "<script>var x = 1; function f(){return 2;}</script>", "script element (code, not text)"),
        ("html_remnant", "<style>body{color:red}</style>", "style element (code, not text)"),
        ("html_remnant", '<script type="text/javascript">', "script element (code, not text)"),
        ("html_remnant", "var tracker = 'The police arrested more people in a joint operation on Monday, officials "
         "said.';", "script element (code, not text)"),
        ("html_remnant", "</script>", "script element (code, not text)"),
        ("html_remnant", "<STYLE>p { margin: 0 }</STYLE>", "style element (code, not text)"),
    ]


def test_character_references_are_decoded_in_the_text_not_cut_out():
    page = "\n".join([
        "<p>Operasi ini merupakan hasil kerja sama tiga negara &amp; aparat setempat.&nbsp;Menurut juru bicara, "
        "operasi akan berlanjut.</p>",
        "<p>Polisi menangkap lebih dari 200 tersangka penipuan di Myanmar pada hari Kamis kemarin.</p>",
        "Kata juru bicara: &quot;Kami tidak akan berhenti&#39;&#x21;&quot; Kasus AT&T &notice &bogus; tetap.",
        "Copyright &copy; 2024 Berita.",
    ])
    result = ingest_text(page, doc_id="ex")
    (doc,) = result.documents
    assert [(p.text, p.original) for p in doc.paragraphs] == [
        ("Operasi ini merupakan hasil kerja sama tiga negara & aparat setempat. Menurut juru bicara, operasi akan "
         "berlanjut.",
         "Operasi ini merupakan hasil kerja sama tiga negara &amp; aparat setempat.&nbsp;Menurut juru bicara, "
         "operasi akan berlanjut."),
        ("Polisi menangkap lebih dari 200 tersangka penipuan di Myanmar pada hari Kamis kemarin.", None),
        # only references with their ";" that the html module knows: "AT&T", "&notice", "&bogus;" stay as written
        ("Kata juru bicara: \"Kami tidak akan berhenti'!\" Kasus AT&T &notice &bogus; tetap.",
         "Kata juru bicara: &quot;Kami tidak akan berhenti&#39;&#x21;&quot; Kasus AT&T &notice &bogus; tetap."),
    ]
    for p in doc.paragraphs:
        assert page[p.start:p.end] == p.raw
    assert [(r.rule, r.text) for r in result.removed] == [
        ("html_remnant", "<p>"), ("html_remnant", "</p>"), ("html_remnant", "<p>"), ("html_remnant", "</p>"),
        ("copyright_footer", "Copyright &copy; 2024 Berita.")]
    # the footer is judged as read: "&copy;" is the copyright sign
    assert result.removed[-1].reason == "copyright or licence notice"


@pytest.mark.parametrize(
    "raw, text",
    [
        # a clause mark glued between two words (the shipped id and en pages)
        ("pada saat yang sama,Mengusulkan serangkaian konsep", "pada saat yang sama, Mengusulkan serangkaian konsep"),
        ("Pertama,Meningkatkan kerja sama", "Pertama, Meningkatkan kerja sama"),
        ("Juga,Badan keamanan publik", "Juga, Badan keamanan publik"),
        ("Kedua,Tingkatkan tindakan kerasMengingat kejahatan", "Kedua, Tingkatkan tindakan keras Mengingat kejahatan"),
        ("(Source:Ministry of Public Security, P. R. China)", "(Source: Ministry of Public Security, P. R. China)"),
        ("Jakarta;Bandung dan Surabaya,Medan", "Jakarta; Bandung dan Surabaya, Medan"),
        ("Le café,Émile y el señorÁlvarez", "Le café, Émile y el señor Álvarez"),  # Latin-1 letters are letters
        # a lowercase word glued to a capitalised one
        ("lagiTindakan keras bersama", "lagi Tindakan keras bersama"),
        ("yang kerasMengingat", "yang keras Mengingat"),
        # no glue: numbers, Chinese, a full stop (the sentence splitter's), a hyphen
        ("Rp1,5 juta pada pukul 10:30 dari 50.000 orang", "Rp1,5 juta pada pukul 10:30 dari 50.000 orang"),
        ("亓延军指出,近年来,公安部表示:将继续", "亓延军指出,近年来,公安部表示:将继续"),
        ("di seluruh dunia.Menjalin kerja sama", "di seluruh dunia.Menjalin kerja sama"),
        ("Kongres Nasional ke-19,", "Kongres Nasional ke-19,"),
        # addresses, handles and tags are written as they are
        ("lihat https://www.polri.go.id/berita,Terkini atau polri.go.id/lagi,Kasus",
         "lihat https://www.polri.go.id/berita,Terkini atau polri.go.id/lagi,Kasus"),
        ("kirim ke humas@polri.go.id,Badan atau www.detik.com,Berita #cekFakta",
         "kirim ke humas@polri.go.id,Badan atau www.detik.com,Berita #cekFakta"),
        # colons that glue nothing: a short title prefix, a double colon, a token of several colons
        ("Re:Zero dan std::vector, urn:isbn:abc, fe80::1ff:fe23",
         "Re:Zero dan std::vector, urn:isbn:abc, fe80::1ff:fe23"),
        # CamelCase names and brand prefixes: a capital first, or fewer than three lowercase letters before it
        ("iPhone eBay macOS iOS WhatsApp JavaScript DeepSeek YouTube McDonald LinkedIn TikTok",
         "iPhone eBay macOS iOS WhatsApp JavaScript DeepSeek YouTube McDonald LinkedIn TikTok"),
        # Indonesian outlets' channel names, lowercase then capitalised
        ("Dilansir detikNews dan kumparanBisnis, lagiTindakan", "Dilansir detikNews dan kumparanBisnis, lagi Tindakan"),
        # the ";" that closes a character reference is no clause mark
        ("tiga negara &amp;Polisi", "tiga negara &Polisi"),
    ],
)
def test_spaces_lost_between_words_go_back(raw, text):
    edited, edits = edited_text(raw)
    assert edited == text
    # each repair is one space put into an empty span of the raw text
    inserted = [(end - start, replacement) for start, end, replacement, kind in edits if kind == "missing_space"]
    assert inserted == [(0, " ")] * (text.count(" ") - raw.count(" "))


def test_sentence_offsets_across_inserted_spaces():
    """An inserted space maps to the empty raw span where it went in: each sentence's offsets slice its raw text,
    glued as the page has it, also beside a decoded character reference."""
    from mtkit.segment import segment_document

    page = ("Polisi menangkap lebih dari 200 tersangka penipuan di Myanmar bersama aparat tiga negara &amp; setempat. "
            "Pertama,Meningkatkan kerja sama dengan lembaga asing. Kedua,Tingkatkan tindakan kerasMengingat kejahatan "
            "lintas negara.&nbsp;Juga,Badan keamanan publik juga aktif.\n")
    (doc,) = ingest_text(page, doc_id="p").documents
    sentences = segment_document(doc)
    assert [(s.text, page[s.start:s.end]) for s in sentences] == [
        ("Polisi menangkap lebih dari 200 tersangka penipuan di Myanmar bersama aparat tiga negara & setempat.",
         "Polisi menangkap lebih dari 200 tersangka penipuan di Myanmar bersama aparat tiga negara &amp; setempat."),
        ("Pertama, Meningkatkan kerja sama dengan lembaga asing.",
         "Pertama,Meningkatkan kerja sama dengan lembaga asing."),
        ("Kedua, Tingkatkan tindakan keras Mengingat kejahatan lintas negara.",
         "Kedua,Tingkatkan tindakan kerasMengingat kejahatan lintas negara."),
        ("Juga, Badan keamanan publik juga aktif.", "Juga,Badan keamanan publik juga aktif."),
    ]
    assert all(s.original == page[s.start:s.end] for s in sentences)
    # spans that start or end at an inserted space slice the raw text up to or from where it went in
    raw = "sama,Mengusulkan"
    text, edits = edited_text(raw)
    starts, ends = raw_offsets(raw, edits)
    assert text == "sama, Mengusulkan"
    assert [raw[starts[s]:ends[e - 1]] for s, e in [(0, 5), (0, 6), (5, 17), (6, 17)]] == [
        "sama,", "sama,", "Mengusulkan", "Mengusulkan"]


def test_a_page_with_no_text_left_is_a_warning_or_with_require_text_one_error(tmp_path, capsys, caplog):
    page = tmp_path / "junk.txt"
    page.write_text("Copyright 2024. All rights reserved.\nShare on Facebook\n")
    assert ingest_file(page).documents == []
    assert caplog.messages == [f"{page}: no article text left after cleaning (2 blocks removed)"]
    caplog.clear()
    with pytest.raises(DataError, match=r"junk.txt: no article text left after cleaning$"):
        ingest_file(page, require_text=True)
    assert caplog.messages == []
    # align says it once, as its error (it used to log the warning first)
    other = tmp_path / "id.txt"
    other.write_text("Jakarta - Polisi menangkap ratusan tersangka penipuan daring di Myanmar.\n")
    assert main(["align", str(page), str(other), "--encoder", "lexical"]) == 2
    assert capsys.readouterr().err == f"mtkit align: error: {page}: no article text left after cleaning\n"
    assert caplog.messages == []


def test_a_page_dumped_with_its_markup_keeps_its_article_only():
    # the review's page: script code, a menu, entities inside a paragraph and a footer, document-structure tags
    page = "\n".join([
        "<html><head><title>Berita Hari Ini</title><script>var x = 1; function f(){return 2;}</script>"
        "<style>body{color:red}</style></head>",
        '<body><div class="nav">Beranda | Nasional | Internasional | Olahraga</div>',
        "<p>Polisi menangkap lebih dari 200 tersangka penipuan di Myanmar.Mereka dipulangkan ke Tiongkok melalui "
        "Thailand pada hari Kamis.</p>",
        "<p>Operasi ini merupakan hasil kerja sama tiga negara &amp; aparat setempat.&nbsp;Menurut juru bicara, "
        "operasi akan berlanjut.</p>",
        '<div class="footer">Copyright &copy; 2024 Berita. All rights reserved.</div></body></html>',
    ])
    result = ingest_text(page, doc_id="html")
    assert [(d.id, [p.text for p in d.paragraphs]) for d in result.documents] == [("html.id", [
        "Polisi menangkap lebih dari 200 tersangka penipuan di Myanmar.Mereka dipulangkan ke Tiongkok melalui "
        "Thailand pada hari Kamis.",
        "Operasi ini merupakan hasil kerja sama tiga negara & aparat setempat. Menurut juru bicara, operasi akan "
        "berlanjut.",
    ])]
    assert [(r.rule, r.text) for r in result.removed if r.rule != "html_remnant"] == [
        ("page_frame", "Berita Hari Ini"), ("page_frame", "Beranda | Nasional | Internasional | Olahraga"),
        ("copyright_footer", "Copyright &copy; 2024 Berita. All rights reserved.")]
