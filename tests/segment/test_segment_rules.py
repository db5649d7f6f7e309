"""Sentence segmentation: hand-checked paragraphs of each language, and the `mtkit segment` contract."""

import contextlib
import io
import json
from pathlib import Path

import pytest

from mtkit.cli import main
from mtkit.errors import ConfigError
from mtkit.segment import split_sentences

ROOT = Path(__file__).resolve().parents[2]
RAW = ROOT / "corpora" / "mps-fraud-2024" / "raw"
SEEDS = sorted(RAW.glob("*.txt"))


def sentences(text, lang):
    return [text[s:e] for s, e in split_sentences(text, lang)]


@pytest.mark.parametrize(
    "lang, text, expected",
    [
        # a missing space after a full stop still ends the sentence
        ("id", "di seluruh dunia.Menjalin serangkaian mekanisme kerja sama.",
         ["di seluruh dunia.", "Menjalin serangkaian mekanisme kerja sama."]),
        # a word of capitals glued to the dot is part of a name; a capitalised word after it opens a sentence
        ("en", "The suspects used Booking.com and ASP.NET tools, police in the U.S.Department of Justice said on "
               "Monday.The case continues.",
         ["The suspects used Booking.com and ASP.NET tools, police in the U.S.Department of Justice said on Monday.",
          "The case continues."]),
        ("id", "Pelaku memakai VB.NET dan ASP.NET.Mereka ditangkap di seluruh dunia.Menjalin kerja sama.",
         ["Pelaku memakai VB.NET dan ASP.NET.", "Mereka ditangkap di seluruh dunia.", "Menjalin kerja sama."]),
        # numbers with a full stop are not boundaries
        ("id", "menangkap lebih dari 50.000 tersangka penipuan. Ini naik 5.3 persen.",
         ["menangkap lebih dari 50.000 tersangka penipuan.", "Ini naik 5.3 persen."]),
        # a full stop followed by a comma continues the sentence
        ("id", "telah diluncurkan., dan melakukan operasi khusus. Pada langkah selanjutnya, badan keamanan publik:",
         ["telah diluncurkan., dan melakukan operasi khusus.", "Pada langkah selanjutnya, badan keamanan publik:"]),
        ("id", "lembaga penegak hukum negara terkait. , pertukaran bukti, penangkapan. Kami akan bekerja.",
         ["lembaga penegak hukum negara terkait. , pertukaran bukti, penangkapan.", "Kami akan bekerja."]),
        ("id", 'menyumbangkan "kebijaksanaan Tiongkok" dan "solusi Tiongkok." Kedua,Tingkatkan tindakan keras',
         ['menyumbangkan "kebijaksanaan Tiongkok" dan "solusi Tiongkok."', "Kedua,Tingkatkan tindakan keras"]),
        # abbreviations
        ("en", "effectively maintained regional stability. (Source:Ministry of Public Security, P. R. China)",
         ["effectively maintained regional stability.", "(Source:Ministry of Public Security, P. R. China)"]),
        ("en", "He met Dr. Smith at No. 5 Street. Then he left.", ["He met Dr. Smith at No. 5 Street.", "Then he left."]),
        ("en", "with China’s international voice and influence steadily increasing. In October of last year, police "
               "liaison officers from eight countries—France, Australia—visited.",
         ["with China’s international voice and influence steadily increasing.",
          "In October of last year, police liaison officers from eight countries—France, Australia—visited."]),
        # Chinese: closing quotes stay with their sentence, even when a digit follows
        ("zh", "当时,王毅谈到,“中泰双方合作走在前列”“我们要加强合作,维护社会的稳定。”8月19日,王毅和敦会谈时,再度提到了“共同打击电信诈骗”。",
         ["当时,王毅谈到,“中泰双方合作走在前列”“我们要加强合作,维护社会的稳定。”", "8月19日,王毅和敦会谈时,再度提到了“共同打击电信诈骗”。"]),
        ("zh", "他说,要“迅速遏制境外电信网络诈骗反弹势头”。据央视报道,仍有诸多困难与阻力。",
         ["他说,要“迅速遏制境外电信网络诈骗反弹势头”。", "据央视报道,仍有诸多困难与阻力。"]),
        # decimals, list numbers, ellipses and full-width/ASCII marks
        ("zh", "已抓获5.3万余人!时间线回顾。1.本网稿件下注明来源。真的吗？是的……好的。",
         ["已抓获5.3万余人!", "时间线回顾。", "1.本网稿件下注明来源。", "真的吗？", "是的……好的。"]),
        ("zh", "亓延军表示,下一步,公安机关将主要从以下四个方面开展工作:", ["亓延军表示,下一步,公安机关将主要从以下四个方面开展工作:"]),
        # Traditional script, with flattened ruby annotations inside
        ("zh", "此次行動(dòng)是重大戰(zhàn)果。公安部有關(guān)負(fù)責(zé)人表示,必須加大力度。",
         ["此次行動(dòng)是重大戰(zhàn)果。", "公安部有關(guān)負(fù)責(zé)人表示,必須加大力度。"]),
        # a comma with the space missing is not a boundary; junk glued to a word is not one either
        ("id", "pada saat yang sama,Mengusulkan serangkaian konsep. Berhasil.",
         ["pada saat yang sama,Mengusulkan serangkaian konsep.", "Berhasil."]),
        ("id", "lagiTindakan keras bersama telah diluncurkan., dan melakukan operasi khusus.",
         ["lagiTindakan keras bersama telah diluncurkan., dan melakukan operasi khusus."]),
        # Indonesian titles and abbreviations sentencex does not know
        ("id", "Hal ini dikatakan oleh Ir. Joko dkk. pada hari Senin. Kapolri Jend. Listyo hadir di Jl. Sudirman.",
         ["Hal ini dikatakan oleh Ir. Joko dkk. pada hari Senin.", "Kapolri Jend. Listyo hadir di Jl. Sudirman."]),
        # ... but a sentence that merely ends in a word like "Ir" is still one
        ("id", "Air mengalir. Joko datang.", ["Air mengalir.", "Joko datang."]),
        ("id", "Mereka membawa buah, sayur, dll. Kemudian pulang.", ["Mereka membawa buah, sayur, dll.", "Kemudian pulang."]),
        ("en", "It cost 5.3 million. Then 50.000 more!Really? Yes.",
         ["It cost 5.3 million.", "Then 50.000 more!", "Really?", "Yes."]),
        ("en", "Next, the police will work on four aspects:", ["Next, the police will work on four aspects:"]),
        # Chinese: closing quote after or before the full stop, a colon-introduced quote, amounts
        ("zh", "他说:“我们要加强合作。”随后离开。", ["他说:“我们要加强合作。”", "随后离开。"]),
        ("zh", "他说“我们要加强合作”。随后离开！真的?是的。最高悬赏金额高达60万元。",
         ["他说“我们要加强合作”。", "随后离开！", "真的?", "是的。", "最高悬赏金额高达60万元。"]),
        ("zh", "陈海指出,取得初步成效。“尽管如此,电诈活动依然猖獗。中国政府对此高度重视。”他说,双方应进一步采取措施。",
         ["陈海指出,取得初步成效。", "“尽管如此,电诈活动依然猖獗。", "中国政府对此高度重视。”", "他说,双方应进一步采取措施。"]),
        ("zh", "（信息来源:中华人民共和国公安部）", ["（信息来源:中华人民共和国公安部）"]),
        ("zh", "2月20日,隨著中國民航包機(jī)降落,緬甸的200名中國籍涉詐犯罪嫌疑人被押解回國。此外,已於2月20日押解回國！",
         ["2月20日,隨著中國民航包機(jī)降落,緬甸的200名中國籍涉詐犯罪嫌疑人被押解回國。", "此外,已於2月20日押解回國！"]),
        ("ja", "東京に行きました。楽しかった！", ["東京に行きました。", "楽しかった！"]),
        ("en", "   ", []),
    ],
)
def test_split_sentences(lang, text, expected):
    assert sentences(text, lang) == expected


@pytest.mark.parametrize(
    "lang, text, expected",
    [
        # "Pol." after a police rank, administrative units and religious titles stand before a name
        ("id", "Kapolda Metro Jaya Irjen Pol. Karyoto mengatakan kasus itu selesai. Polisi menyelidiki.",
         ["Kapolda Metro Jaya Irjen Pol. Karyoto mengatakan kasus itu selesai.", "Polisi menyelidiki."]),
        ("id", "Ia tinggal di Kab. Bogor, Prov. Jawa Barat, dekat Kec. Cibinong. Ia petani.",
         ["Ia tinggal di Kab. Bogor, Prov. Jawa Barat, dekat Kec. Cibinong.", "Ia petani."]),
        ("id", "Pdt. Yohanes dan Ust. Abdul hadir. Acara dimulai.", ["Pdt. Yohanes dan Ust. Abdul hadir.", "Acara dimulai."]),
        # "Rp.", "tgl.", "hal." stand before a number; "hal" ending a sentence still ends it
        ("id", "Harganya Rp. 5.000 per kilo pada tgl. 5 Mei, lihat hal. 12. Mahal.",
         ["Harganya Rp. 5.000 per kilo pada tgl. 5 Mei, lihat hal. 12.", "Mahal."]),
        ("id", "Itu bukan hal. Kami pulang.", ["Itu bukan hal.", "Kami pulang."]),
        # "a.m."/"p.m." go on into a name, a weekday or a number; a word that opens sentences starts a new one
        ("en", "The plane landed at 3 p.m. Beijing time on Thursday. It carried 200 suspects.",
         ["The plane landed at 3 p.m. Beijing time on Thursday.", "It carried 200 suspects."]),
        ("en", "The talks began at 10 a.m. Monday and ended at 4 p.m. on Tuesday.",
         ["The talks began at 10 a.m. Monday and ended at 4 p.m. on Tuesday."]),
        ("en", "The suspects landed at 3 p.m. The police then took them away.",
         ["The suspects landed at 3 p.m.", "The police then took them away."]),
        ("en", "The court sat until 5 p.m. However, no verdict came.", ["The court sat until 5 p.m.", "However, no verdict came."]),
        # abbreviations sentencex knows, and the ones added for it ("Ms.", "Vol." before a number)
        ("en", "Ms. Wang met Gen. Li and Mr. J. Smith of the U.S. Embassy in Room No. 5 on Jan. 12, see Vol. 3 of it.",
         ["Ms. Wang met Gen. Li and Mr. J. Smith of the U.S. Embassy in Room No. 5 on Jan. 12, see Vol. 3 of it."]),
        ("en", "He grew up in the U.S. He later moved to Bangkok.", ["He grew up in the U.S.", "He later moved to Bangkok."]),
        # a 《》 title is a name: a ? or ! inside it ends no sentence
        ("zh", "他读了《你好吗?》这本书。电影《战狼!》上映。", ["他读了《你好吗?》这本书。", "电影《战狼!》上映。"]),
        ("zh", "据《人民日报》报道,已抓获5.3万余人!时间线回顾。", ["据《人民日报》报道,已抓获5.3万余人!", "时间线回顾。"]),
        # a stray 《 with no 》 near it holds nothing back
        ("zh", "他说《好。没有闭合的书名号。", ["他说《好。", "没有闭合的书名号。"]),
        # nor one whose next 》 (here a later title's) is more than MAX_TITLE = 60 characters on
        ("zh", "他说《好。大家都同意了。然后出发前往北京参加会议,会议讨论了打击跨境电信网络诈骗犯罪的很多问题和下一步的安排,"
               "并通报了近期的工作进展。后来他读了《人民日报》。",
         ["他说《好。", "大家都同意了。", "然后出发前往北京参加会议,会议讨论了打击跨境电信网络诈骗犯罪的很多问题和下一步的安排,"
                                "并通报了近期的工作进展。", "后来他读了《人民日报》。"]),
        # at the limit: 》 60 characters after 《 closes a title, 61 characters after it does not
        ("zh", "他读了《打击电诈。" + "跨国犯罪" * 13 + "案件》一书。", ["他读了《打击电诈。" + "跨国犯罪" * 13 + "案件》一书。"]),
        ("zh", "他读了《打击电诈。" + "跨国犯罪" * 13 + "的案件》一书。", ["他读了《打击电诈。", "跨国犯罪" * 13 + "的案件》一书。"]),
    ],
)
def test_abbreviations_and_titles(lang, text, expected):
    assert sentences(text, lang) == expected


def test_unknown_language_is_a_clear_error():
    with pytest.raises(ConfigError, match="no sentence splitter for language 'xx'"):
        split_sentences("text", "xx")


@pytest.fixture(scope="module")
def segmented():
    out = {}
    for seed in SEEDS:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            assert main(["segment", str(seed)]) == 0
        out[seed.name[:3]] = buffer.getvalue().splitlines()
    return out


BOILERPLATE = ["berita", "Русский язык", "6165cc", "QWERASDZXCRQEFA", "Global Edition", "By ZHOU WENTING",
               "href=", "记者 杨可佳 摄", "攝", "Copyright", "BACK TO THE TOP", "本網(wǎng)", "等二则",
               "经典小说推荐", "友情链接", "北京青年报客户端", "相关阅读", "编辑/", "版权声明", "最新评论", "Editor's picks",
               "权威发布|"]


@pytest.mark.parametrize("seed", ["000", "001", "002", "003", "004"])
def test_every_line_is_raw_text_and_no_boilerplate(segmented, seed):
    from mtkit.ingest.clean import edited_text

    raw = next(RAW.glob(f"{seed}_*.txt")).read_text(encoding="utf-8")
    lines = segmented[seed]
    assert lines
    for line in lines:
        # raw text, less the pinyin annotations of 002, with the spaces scraping lost put back (000, 003)
        assert line == line.strip() and line in edited_text(raw)[0]
        for junk in BOILERPLATE:
            assert junk not in line, (junk, line)
    # verbatim but for those: the six sentences of 000 with glued words ("Pertama,Meningkatkan"), 003's source line
    if seed != "002":
        assert sum(line not in raw for line in lines) == {"000": 6, "003": 1}.get(seed, 0)


@pytest.mark.parametrize(
    "seed, count, first, last",
    [
        ("000", 17, "Kementerian Keamanan Publik: Sebanyak lebih dari 50.000 tersangka penipuan di Myanmar utara telah ditangkap",
         "(Reporter CCTV Chen Yu dan Cao Xiaozheng)"),
        ("001", 16, "公安部严打电诈跨国犯罪 累计抓获缅北涉诈嫌疑人5万余名",
         "中国维和警察忠诚履职,严格执行联合国授权任务,严格遵守联合国规定和当地法律,为任务区恢复和平与稳定作出重要贡献,也受到了各界的广泛称赞。"),
        # without the inline pinyin the page carries ("包機(jī)陸續(xù)"), as the command's description says
        ("002", 16, "新華社南京2月20日電(記者朱國亮、熊豐)2月20日,隨著中國民航包機陸續降落在江蘇南京祿口國際機場,"
         "緬甸向我遣返的妙瓦底地區首批200名中國籍涉詐犯罪嫌疑人,經泰國被我公安機關押解回國。",
         "公安機關還將與更多國家深化務實合作,全力解救被困人員,全力緝捕“金主”、骨干,堅決清剿電詐園區,"
         "壓縮犯罪生存空間,切實維護中國公民生命財產安全。"),
        ("003", 36, "公安机关国际执法合作实现新发展取得新进步", "(Source: Ministry of Public Security, P. R. China)"),
        ("004", 45, "严厉打击!", "各方表示,将用实际行动向那些仍不收手的赌诈犯罪集团发出严厉警告,向国内外展示中泰缅老四国警方团结合作、严打赌诈的坚定决心。"),
    ],
)
def test_sentence_counts_and_ends(segmented, seed, count, first, last):
    lines = segmented[seed]
    assert (len(lines), lines[0], lines[-1]) == (count, first, last)


def test_the_indonesian_glued_sentence_is_two(segmented):
    lines = segmented["000"]
    i = next(i for i, line in enumerate(lines) if line.endswith("penegak hukum di seluruh dunia."))
    assert lines[i + 1].startswith("Menjalin serangkaian mekanisme kerja sama dengan lembaga penegak hukum asing")


def test_lang_filter_and_jsonl(capsys):
    seed = str(RAW / "003_91cde0563d2e864a.txt")
    assert main(["segment", seed, "--lang", "en"]) == 0
    english = capsys.readouterr().out.splitlines()
    assert english[0] == "New Developments and Progress in International Law Enforcement Cooperation by Public Security Organs"
    assert len(english) == 24
    assert main(["segment", seed, "--lang", "zh", "--jsonl"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    raw = Path(seed).read_text(encoding="utf-8")
    assert len(records) == 12
    assert {r["doc_id"] for r in records} == {"mps-coop-2024.zh"}
    assert all(raw[r["start"]:r["end"]] == r["text"] and r["lang"] == "zh" and r["script"] == "Hans" for r in records)
    assert [r["index"] for r in records] == list(range(12))


def test_to_simplified_keeps_the_original_in_jsonl(capsys):
    assert main(["segment", str(RAW / "002_f8e7142ca16b1147.txt"), "--jsonl", "--to-simplified"]) == 0
    first = json.loads(capsys.readouterr().out.splitlines()[0])
    assert first["text"].startswith("新华社南京2月20日电(记者朱国亮、熊丰)2月20日,随着中国民航包机陆续降落")
    assert first["original"].startswith("新華社南京2月20日電(記者朱國亮、熊豐)2月20日,隨著中國民航包機(jī)陸續(xù)")
    assert first["script"] == "Hans"


def test_corpus_directory_prints_every_page_in_manifest_order(segmented, capsys):
    assert main(["segment", str(RAW.parent)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [line for seed in ["000", "001", "002", "003", "004"] for line in segmented[seed]]


def test_manifest_ids_and_languages_are_used_for_a_page(capsys):
    assert main(["segment", str(RAW / "000_63baf882e5e4f05a.txt"), "--jsonl", "--lang", "id"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {(r["doc_id"], r["lang"], r["script"]) for r in records} == {("cctv-id-20240827.id", "id", "Latn")}
    assert records[0]["text"].startswith("Kementerian Keamanan Publik: Sebanyak lebih dari 50.000 tersangka")


def test_unknown_lang_option_fails_as_aligns_does(capsys):
    assert main(["segment", str(RAW / "000_63baf882e5e4f05a.txt"), "--lang", "xx"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ("mtkit segment: error: --lang 'xx' is not a language code; give an ISO 639-1 code such "
                            "as zh, id or en\n")


@pytest.mark.parametrize("code", ["ZH", "zh-CN", "zh_Hans"])
def test_lang_option_is_normalised_as_aligns_is(capsys, code):
    seed = str(RAW / "003_91cde0563d2e864a.txt")
    assert main(["segment", seed, "--lang", "zh"]) == 0
    chinese = capsys.readouterr().out
    assert main(["segment", seed, "--lang", code]) == 0
    assert capsys.readouterr().out == chinese
    assert len(chinese.splitlines()) == 12


@pytest.mark.parametrize("path, held", [(RAW / "003_91cde0563d2e864a.txt", "zh, en"), (RAW.parent, "id, zh, en")])
def test_lang_option_without_text_in_that_language_is_an_error(capsys, path, held):
    # used to print nothing and exit 0; align --src-lang fr says the same of the same page
    assert main(["segment", str(path), "--lang", "fr"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"mtkit segment: error: {path}: no fr text (it holds {held})\n"


def test_segment_goes_on_after_a_bad_page_and_exits_2(tmp_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    seed = RAW / "003_91cde0563d2e864a.txt"
    # a page without the language asked for fails alone too
    assert main(["segment", str(empty), str(seed), str(RAW / "000_63baf882e5e4f05a.txt"), "--lang", "en"]) == 2
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0] == ("New Developments and Progress in International Law Enforcement "
                                            "Cooperation by Public Security Organs")
    assert len(captured.out.splitlines()) == 24
    assert captured.err.splitlines() == [
        f"mtkit segment: error: {empty}: empty page (0 characters, all whitespace); nothing to ingest",
        f"mtkit segment: error: {RAW / '000_63baf882e5e4f05a.txt'}: no en text (it holds id)",
        f"mtkit segment: 2 of 3 paths failed: {empty}, {RAW / '000_63baf882e5e4f05a.txt'}"]


@pytest.mark.parametrize("lang, sentences, expected", [
    ("zh", ["警方抓获三人。", "他们被押解回国。"], "警方抓获三人。他们被押解回国。"),
    ("ja", ["雨です。", "寒いです。"], "雨です。寒いです。"),
    ("yue", ["落雨。", "好凍。"], "落雨。好凍。"),
    ("en", ["It rained.", "Police came."], "It rained. Police came."),
    (None, ["a.", "b."], "a. b."),
    # no spaces between words, but one between sentences: joined as the pages write them, not glued together
    ("th", ["ตำรวจจับกุมผู้ต้องสงสัยสามคน", "พวกเขาถูกส่งตัวกลับประเทศ"],
     "ตำรวจจับกุมผู้ต้องสงสัยสามคน พวกเขาถูกส่งตัวกลับประเทศ"),
    ("my", ["ရဲတပ်ဖွဲ့က ဖမ်းဆီးခဲ့သည်။", "သူတို့ကို ပြန်ပို့ခဲ့သည်။"], "ရဲတပ်ဖွဲ့က ဖမ်းဆီးခဲ့သည်။ သူတို့ကို ပြန်ပို့ခဲ့သည်။"),
])
def test_join_sentences(lang, sentences, expected):
    from mtkit.segment import join_sentences

    assert join_sentences(sentences, lang) == expected
