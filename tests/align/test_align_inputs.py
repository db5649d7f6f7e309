"""Bad and unusual inputs to the align and score-align stage: clear errors or warnings, never a traceback or a
silently wrong result."""

import logging
import re
from pathlib import Path

import pytest

from mtkit.align import LexicalEncoder, align, align_many, get_encoder
from mtkit.languages import language_code
from mtkit.align.scoring import parse_bead, read_beads, score_alignments
from mtkit.cli import main
from mtkit.errors import ConfigError, DataError
from mtkit.ingest import ingest_text
from mtkit.records import Alignment, Bead, Sentence
from mtkit.segment import segment_document

# ------------------------------------------------------------------ score-align


@pytest.mark.parametrize("line", ["[0.5]:[0]", "[-1]:[0]", "(0,):[0]", "{0}:[0]", '"01":[0]', "[True]:[0]",
                                  "[0]:[0]:[1]", "[0]:0"])
def test_bead_sides_must_be_lists_of_sentence_indices(line):
    # literal_eval reads all of these; int() used to turn 0.5, True, "01" and -1 into indices
    with pytest.raises(DataError, match="not an alignment bead like"):
        parse_bead(line)


def test_alignment_files_that_are_not_utf8_text_or_have_a_bom(tmp_path):
    (tmp_path / "latin1").write_bytes(b"[0]:[0]\n\xe9\n")
    with pytest.raises(DataError, match=r"latin1: not UTF-8 text \(byte 8\)"):
        read_beads(tmp_path / "latin1")
    with pytest.raises(DataError, match="is a directory, not an alignment file"):
        read_beads(tmp_path)
    (tmp_path / "bom").write_bytes(b"\xef\xbb\xbf[0]:[0]\r\n[1, 2]:[]\r\n")
    assert read_beads(tmp_path / "bom") == [Bead((0,), (0,)), Bead((1, 2), ())]


def test_test_and_gold_of_different_documents_are_an_error_or_a_warning(caplog):
    gold = [Bead((0,), (0,)), Bead((1,), (1, 2))]
    with caplog.at_level(logging.WARNING, logger="mtkit.align"):
        score = score_alignments([[Bead((0, 1), (5,))]], [gold], names=["t vs g"])
    assert score.strict_f1 == 0.0
    assert caplog.messages == ["t vs g: TEST aligns target sentence 5 but GOLD's target sentences end at 2: indices "
                               "out of range; are TEST and GOLD alignments of one document, given in order?"]
    with pytest.raises(DataError, match="document 2: TEST holds no beads but GOLD holds 2"):
        score_alignments([gold, []], [gold, gold])
    with pytest.raises(DataError, match="document 1: GOLD holds no beads but TEST holds 2"):
        score_alignments([gold], [[]])
    # a TEST that stops short of the gold (no 1-0 beads at the end) is scored, and without a warning
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="mtkit.align"):
        assert score_alignments([[Bead((0,), (0,))]], [gold + [Bead((2,), ())]]).strict_p == 1.0
        assert score_alignments([[], gold], [[], gold]).strict_f1 == 1.0
    assert not caplog.messages


def test_score_alignments_takes_alignments_and_files(tmp_path, caplog):
    # an Alignment was "TypeError: 'Alignment' object is not iterable", a path an AttributeError
    gold = [Bead((0,), (0,)), Bead((1,), (1, 2))]
    (tmp_path / "gold").write_text("[0]:[0]\n[1]:[1,2]\n")
    (tmp_path / "test").write_text("[0]:[0]\n[1]:[1]\n[]:[2]\n")
    test = [Bead((0,), (0,)), Bead((1,), (1,)), Bead((), (2,))]
    expected = score_alignments([test], [gold])
    assert (expected.strict_p, expected.strict_r, expected.lax_p, expected.lax_r) == pytest.approx((1 / 3, 0.5, 2 / 3, 1))
    alignment = Alignment(test, "align:test")
    for tests, golds in [([alignment], [gold]), ([test], [Alignment(gold)]), ([test], [str(tmp_path / "gold")]),
                         ([tmp_path / "test"], [tmp_path / "gold"]), (iter([alignment]), (gold,))]:
        assert score_alignments(tests, golds) == expected
    # a pair of paths is named by them, as the CLI names it
    (tmp_path / "far").write_text("[0,1]:[5]\n")
    with caplog.at_level(logging.WARNING, logger="mtkit.align"):
        score_alignments([tmp_path / "far"], [str(tmp_path / "gold")])
        score_alignments([[Bead((0, 1), (5,))]], [gold])
    assert [m.split(": TEST aligns")[0] for m in caplog.messages] == [f"{tmp_path / 'far'} vs {tmp_path / 'gold'}",
                                                                      "document 1"]
    with pytest.raises(DataError, match=r"no-such-gold: no such file$"):
        score_alignments([alignment], [tmp_path / "no-such-gold"])


@pytest.mark.parametrize("tests, golds, message", [
    (Alignment([Bead((0,), (0,))]), [[Bead((0,), (0,))]],
     "score_alignments takes a list of test alignments, one per document, not one Alignment: "
     "score_alignments([test], [gold])"),
    ([[Bead((0,), (0,))]], "gold.txt", "score_alignments takes a list of gold alignments, one per document, not "
                                       "one str: score_alignments([test], [gold])"),
    ([[Bead((0,), (0,))]], None, "score_alignments takes a list of gold alignments, one per document (an "
                                 "Alignment, a list of Beads or the path of a vecalign file each), not NoneType"),
    ([Bead((0,), (0,))], [[Bead((0,), (0,))]], "score_alignments takes one alignment per document; tests[0] is a "
     "Bead: give each document's beads as one list, score_alignments([beads], [gold_beads])"),
    # read_beads' lists for both, of different lengths: said as the mistake it is, not as a count mismatch
    ([Bead((0,), (0,)), Bead((1,), (1,))], [Bead((0,), (0,))], "score_alignments takes one alignment per document; "
     "tests[0] is a Bead: give each document's beads as one list, score_alignments([beads], [gold_beads])"),
    ([[Bead((0,), (0,))]], [3], "score_alignments takes, for each document, an Alignment, a list of Beads or the "
                                "path of a vecalign file; golds[0] is int"),
    ([[Bead((0,), (0,)), ((1,), (1,))]], [[Bead((0,), (0,))]], "score_alignments takes, for each document, an "
     "Alignment, a list of Beads or the path of a vecalign file; tests[0][1] is tuple, not a Bead"),
])
def test_score_alignments_names_what_it_takes(tests, golds, message):
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        score_alignments(tests, golds)


def test_score_align_cli_names_the_files_of_a_mismatched_pair(tmp_path, capsys, caplog):
    (tmp_path / "a").write_text("[0]:[0]\n[1]:[1]\n")
    (tmp_path / "b").write_text("[0]:[0]\n[1]:[1]\n[2,3]:[2]\n[4]:[3]\n")
    (tmp_path / "empty").write_text("\n")
    assert main(["score-align", str(tmp_path / "a"), str(tmp_path / "a"),
                 str(tmp_path / "b"), str(tmp_path / "a")]) == 0
    assert f"{tmp_path / 'b'} vs {tmp_path / 'a'}: TEST aligns source sentence 4 but GOLD's source sentences " \
           "end at 1: indices out of range" in caplog.text
    assert main(["score-align", str(tmp_path / "empty"), str(tmp_path / "a")]) == 2
    assert capsys.readouterr().err == (f"mtkit score-align: error: {tmp_path / 'empty'} vs {tmp_path / 'a'}: "
                                       "TEST holds no beads but GOLD holds 2\n")
    (tmp_path / "bin").write_bytes(b"\xff\xfe[0]:[0]\n")
    assert main(["score-align", str(tmp_path / "bin"), str(tmp_path / "a")]) == 2
    assert "bin: not UTF-8 text (byte 0)" in capsys.readouterr().err


# ------------------------------------------------------------------ align: inputs and options

ROOT = Path(__file__).resolve().parents[2]
RAW = ROOT / "corpora" / "mps-fraud-2024" / "raw"
BILINGUAL = RAW / "003_91cde0563d2e864a.txt"  # Chinese body, then English body


def test_presegmented_lines_are_the_files_lines(tmp_path, capsys, caplog):
    # U+2028 and NEL inside a line used to split it (str.splitlines), so the output indexed 4 sentences of a
    # 3-line file; CRLF ends a line, a lone CR does not (as translate and evaluate read lines, and wc -l counts
    # them): a translation of the file has as many lines as it
    (tmp_path / "src").write_bytes("The police arrested ten suspects.\r\nThey were sent\u2028back\x85to China.\r\n"
                                   "The case is closed.\r\n".encode("utf-8"))
    (tmp_path / "tgt").write_bytes(b"The police arrested ten suspects.\nThey were sent back\rto China.\n"
                                   b"The case is closed.")
    assert main(["align", str(tmp_path / "src"), str(tmp_path / "tgt"), "--presegmented", "--encoder", "lexical",
                 "--src-lang", "en", "--tgt-lang", "en", "--format", "vecalign"]) == 0
    assert capsys.readouterr().out.splitlines() == ["[0]:[0]", "[1]:[1]", "[2]:[2]"]
    assert f"{tmp_path / 'tgt'}: carriage returns inside lines are read as part of the line" in caplog.text
    assert "src: carriage returns" not in caplog.text


def test_a_presegmented_file_that_is_not_utf8_is_read_with_a_warning(tmp_path, capsys, caplog):
    (tmp_path / "fr").write_bytes("Café au lait.\nLe garçon est là.\n".encode("latin-1"))
    assert main(["align", str(tmp_path / "fr"), str(tmp_path / "fr"), "--presegmented", "--encoder", "lexical",
                 "--format", "vecalign"]) == 0
    assert capsys.readouterr().out.splitlines() == ["[0]:[0]", "[1]:[1]"]
    assert f"{tmp_path / 'fr'}: not UTF-8 text (line 1: invalid continuation byte); read as " in caplog.text


@pytest.mark.parametrize("code, expected", [("zh", "zh"), ("ZH", "zh"), ("zh-CN", "zh"), ("zh_Hans", "zh"),
                                            ("ind", "id"), (" en ", "en"), ("", None), (None, None)])
def test_language_codes_are_normalised(code, expected):
    assert language_code(code) == expected


@pytest.mark.parametrize("code", ["chinese", "xx", "z", "中文"])
def test_a_value_that_is_not_a_language_code_is_an_error(code, capsys):
    with pytest.raises(ConfigError, match=f"src_lang {code!r} is not a language code"):
        align(["Satu."], ["一。"], encoder="lexical", src_lang=code)
    assert main(["align", str(BILINGUAL), str(BILINGUAL), "--encoder", "lexical", "--src-lang", code]) == 2
    assert capsys.readouterr().err == (f"mtkit align: error: --src-lang {code!r} is not a language code; give an "
                                       "ISO 639-1 code such as zh, id or en\n")


def test_an_upper_case_or_regional_language_code_aligns_as_the_plain_one():
    # the lexical encoder's Indonesian lexicon is keyed by "id": --tgt-lang ID used to drop F1 from 0.714 to 0.231
    folder = ROOT / "bench" / "gold" / "mps" / "zh-id"
    src = (folder / "src.txt").read_text(encoding="utf-8").splitlines()
    tgt = (folder / "tgt.txt").read_text(encoding="utf-8").splitlines()
    result = align(src, tgt, encoder="lexical", src_lang="ZH", tgt_lang="id-ID")
    assert result.beads == align(src, tgt, encoder="lexical", src_lang="zh", tgt_lang="id").beads
    assert round(score_alignments([result.beads], [read_beads(folder / "gold.txt")]).strict_f1, 3) == 0.714
    assert "warnings" not in result.meta


def test_a_bilingual_page_without_its_language_option_warns(capsys, caplog):
    assert main(["align", str(BILINGUAL), str(BILINGUAL), "--encoder", "lexical", "--tgt-lang", "EN",
                 "--format", "vecalign"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert (lines[0], lines[-1], len(lines)) == ("[0]:[0]", "[11]:[23]", 12)  # zh (12) vs en (24)
    assert caplog.messages[0] == (f"{BILINGUAL} holds zh, en text; aligning its zh text (choose with --src-lang)")


def test_a_page_with_no_text_left_is_an_error_also_with_a_language(tmp_path, capsys):
    (tmp_path / "page.txt").write_text("Copyright 2024. All rights reserved.\n")
    # with --src-lang this was an IndexError
    assert main(["align", str(tmp_path / "page.txt"), str(BILINGUAL), "--encoder", "lexical",
                 "--src-lang", "en"]) == 2
    assert capsys.readouterr().err.endswith("page.txt: no article text left after cleaning\n")


@pytest.mark.parametrize("src, tgt, message", [
    ("Polisi menangkap 10 tersangka.", ["警方抓获10名嫌疑人。"],
     "src is one str (30 characters), not a list of sentences; split a text first (mtkit.segment, or one sentence "
     "per line)"),
    (None, ["警方抓获10名嫌疑人。"],
     "src is None, not a list of sentences; split a text first (mtkit.segment, or one sentence per line)"),
    (["Polisi menangkap 10 tersangka.", None], ["警方抓获10名嫌疑人。"], "src[1] is None, not str or Sentence"),
    (["Polisi menangkap 10 tersangka."], [b"x"], "tgt[0] is bytes b'x', not str or Sentence"),
])
def test_sides_must_be_lists_of_strings(src, tgt, message):
    # a string aligned character by character (27 unaligned "sentences", no error); None was an AttributeError.
    # A TypeError, as for translate's and evaluate's lists (mtkit.utils.checked_texts): these were DataErrors
    # naming "the source side" and "source sentence 1"; the argument's name and index say the same
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        align(src, tgt, encoder="lexical")


def test_sentence_records_of_the_segmenter_align_as_their_texts_in_their_language():
    # segment_document's records were "DataError: source sentence 0 is Sentence, not str"
    zh = ingest_text("公安部严打电诈跨国犯罪。缅甸警方与泰国警方合作。共抓获犯罪嫌疑人二十名。", doc_id="a").documents[0]
    en = ingest_text("The Ministry of Public Security cracks down on telecom fraud. Myanmar police cooperated with "
                     "Thai police. Twenty suspects were arrested.", doc_id="b").documents[0]
    src, tgt = segment_document(zh), segment_document(en)
    assert [len(src), len(tgt), src[0].lang, tgt[0].lang] == [3, 3, "zh", "en"]
    result = align(src, tgt, encoder="lexical")
    assert result == align([s.text for s in src], [t.text for t in tgt], encoder="lexical", src_lang="zh",
                           tgt_lang="en")
    assert [b.vecalign() for b in result.beads] == ["[0]:[0]", "[1]:[1]", "[2]:[2]"]
    assert next(align_many([(src, tgt)], encoder="lexical")) == result


ID_TEXTS = ["Polisi menangkap 10 tersangka penipuan.", "Mereka dipulangkan ke Tiongkok pada hari Kamis."]


@pytest.mark.parametrize("langs, src_lang, expected", [
    (["ms", "ms"], None, "ms"),  # the records' language (detection says id)
    (["ms", "und"], None, "ms"),  # undetermined says nothing either way
    (["MS", "ms"], None, "ms"),  # normalised as a given code is
    (["ms", "id"], None, "id"),  # records that disagree: detected
    (["und", "und"], None, "id"),
    (["ms", None], None, "id"),  # a plain string among the records: detected
    (["ms", "ms"], "id", "id"),  # a language given wins
])
def test_a_language_not_given_is_the_sentence_records_when_they_agree(langs, src_lang, expected):
    src = [Sentence("d.ms", k, text, lang, "Latn", 0, len(text)) if lang else text
           for k, (text, lang) in enumerate(zip(ID_TEXTS, langs))]
    result = align(src, ["警方抓获10名诈骗嫌疑人。", "他们周四被遣返回中国。"], encoder=LexicalEncoder(), src_lang=src_lang)
    assert (result.meta["src_lang"], result.meta["tgt_lang"]) == (expected, "zh")


def test_progress_bars_on_request(capsys):
    src, tgt = ["Polisi menangkap 10 tersangka.", "Mereka dipulangkan."], ["警方抓获10名嫌疑人。", "他们被遣返。"]
    quiet = align(src, tgt, encoder="lexical", src_lang="id", tgt_lang="zh")
    assert capsys.readouterr().err == ""
    assert align(src, tgt, encoder="lexical", src_lang="id", tgt_lang="zh", show_progress=True) == quiet
    assert list(align_many([(src, tgt)], encoder="lexical", src_lang="id", tgt_lang="zh", show_progress=True)) == [quiet]
    bars = capsys.readouterr().err
    # a bar per side and call, each ending its line (tqdm redraws one in place with \r)
    assert ["embed: 100%" in line for line in bars.split("\n")] == [True] * 4 + [False]
    with pytest.raises(TypeError, match=r"^align\(\) got an unexpected keyword argument 'progress'$"):
        align(src, tgt, encoder="lexical", progress=True)


def test_a_language_not_given_is_detected_once_per_document(monkeypatch):
    seen = []
    encode = LexicalEncoder.encode

    def recording(self, texts, *, lang=None, show_progress=False):
        seen.append((lang, len(texts)))
        return encode(self, texts, lang=lang, show_progress=show_progress)

    monkeypatch.setattr(LexicalEncoder, "encode", recording)
    src = ["Polisi menangkap 10 tersangka penipuan.", "Mereka dipulangkan ke Tiongkok pada hari Kamis."]
    tgt = ["警方抓获10名诈骗嫌疑人。", "他们周四被遣返回中国。"]
    pairs = [(src, tgt), (tgt, src)]
    detected = list(align_many(pairs, encoder=LexicalEncoder()))
    # the encoder used to get lang=None and detected the language of each window itself
    assert seen == [("id", 4), ("zh", 4), ("zh", 4), ("id", 4)]  # each distinct window once
    given = [align(src, tgt, encoder=LexicalEncoder(), src_lang="id", tgt_lang="zh"),
             align(tgt, src, encoder=LexicalEncoder(), src_lang="zh", tgt_lang="id")]
    assert [r.beads for r in detected] == [r.beads for r in given]
    assert [b.vecalign() for b in detected[0].beads] == ["[0]:[0]", "[1]:[1]"]


@pytest.mark.parametrize("name", ["./no-such-model", "/no/such/model", "~/models/x"])
def test_an_encoder_path_that_is_not_a_folder(name, tmp_path, capsys):
    # was "not in the local Hugging Face cache and the hub is unreachable", as if it were a hub id
    with pytest.raises(ConfigError, match=re.escape(f"encoder {name!r}: no such model folder")):
        get_encoder(name)
    (tmp_path / "model.bin").write_bytes(b"x")
    with pytest.raises(ConfigError, match="no such model folder"):
        get_encoder(str(tmp_path / "model.bin"))


def test_an_encoder_beside_a_folder_of_its_owners_name_is_a_path(tmp_path, monkeypatch):
    # models/typo beside a models folder went to the hub as a hub id
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    with pytest.raises(ConfigError, match=re.escape("encoder 'models/typo': no such model folder (models is a local "
                                                    "folder, so models/typo is read as a path; to load the Hub")):
        get_encoder("models/typo")


def test_align_tsv_and_jsonl_join_a_beads_sentences_as_the_corpus_does(tmp_path, capsys):
    """Chinese sentences of one bead run together (they were joined with a space), and a tab inside a sentence
    no longer adds a TSV column."""
    import json

    gold = Path(__file__).resolve().parents[2] / "bench" / "gold" / "mps" / "zh-id"
    src = (gold / "src.txt").read_text(encoding="utf-8").splitlines()
    tgt = (gold / "tgt.txt").read_text(encoding="utf-8").splitlines()
    tgt[1] = tgt[1].replace(" ", "\t", 1)
    (tmp_path / "tgt.txt").write_text("\n".join(tgt) + "\n", encoding="utf-8")
    args = ["align", str(gold / "src.txt"), str(tmp_path / "tgt.txt"), "--presegmented", "--encoder", "lexical"]
    assert main([*args, "--format", "vecalign"]) == 0
    assert capsys.readouterr().out.splitlines()[1] == "[1,2,3]:[1]"
    assert main(args) == 0
    fields = capsys.readouterr().out.splitlines()[1].split("\t")
    assert fields[1:] == ["".join(src[1:4]), tgt[1].replace("\t", " ")]
    assert main([*args, "--format", "jsonl"]) == 0
    bead = json.loads(capsys.readouterr().out.splitlines()[1])
    assert (bead["src_text"], bead["tgt_text"]) == ("".join(src[1:4]), tgt[1])


def test_the_lexical_encoder_says_when_it_has_no_word_list_for_a_language(caplog, monkeypatch):
    """On Text+Berg de-fr the lexical encoder scores little above a length-only aligner: aligning such a pair says so
    (once in the log per pair of languages, in every alignment's warnings); zh/en/id pairs and one-language pairs
    stay quiet."""
    de = ["Die Polizei hat gestern zehn Verdächtige festgenommen.", "Sie wurden nach China gebracht."]
    fr = ["La police a arrêté dix suspects hier.", "Ils ont été transférés en Chine."]
    expected = ("the lexical encoder has word lists for zh, en, id only, not de or fr: de-fr is matched by shared "
                "numbers, spellings and sentence length (expect little better than a length-only aligner); use LaBSE "
                "(encoder='labse' / --encoder labse)")
    monkeypatch.setattr("mtkit.align._COVERAGE_LOGGED", set())
    with caplog.at_level(logging.WARNING, logger="mtkit.align"):
        first = align(de, fr, encoder="lexical", src_lang="de", tgt_lang="fr")
        second = align(de, fr, encoder="lexical", src_lang="de", tgt_lang="fr")
    assert first.meta["warnings"] == second.meta["warnings"] == [expected]
    assert [r.getMessage() for r in caplog.records].count(expected) == 1
    assert "warnings" not in align(de[:1] * 2, de, encoder="lexical", src_lang="de", tgt_lang="de").meta
    assert "warnings" not in align(["缅甸警方抓获10人。"], ["Polisi menangkap 10 orang."], encoder="lexical",
                                   src_lang="zh", tgt_lang="id").meta


def test_score_align_warns_of_a_test_far_shorter_than_its_gold_and_refuses_nothing_to_score(tmp_path, caplog):
    """A TEST of another, shorter document ends before half of GOLD's sentences: scored, with a warning (ending a
    little short, as an aligner without 1-0 beads does, stays quiet: above). No bead anywhere is an error, not a
    table of zeros; ``[]:[]`` is no bead."""
    gold = [Bead((i,), (i,)) for i in range(40)]
    with caplog.at_level(logging.WARNING, logger="mtkit.align"):
        assert score_alignments([[Bead((i,), (i,)) for i in range(16)]], [gold], names=["t vs g"]).strict_p == 1.0
    assert caplog.messages == ["t vs g: TEST's sentences end at source 15, target 15 but GOLD's at 39, 39: less "
                               "than half of GOLD's document; are TEST and GOLD alignments of one document, given "
                               "in order?"]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="mtkit.align"):
        score_alignments([[Bead((i,), (i,)) for i in range(20)] + [Bead((39,), (39,))]], [gold])
        score_alignments([[Bead((0,), (0,))]], [[Bead((0,), (0,)), Bead((8,), (8,))]])  # too short to tell
    assert not caplog.messages
    with pytest.raises(DataError, match=r"^nothing to score: no bead in any TEST or GOLD \(a vs b, c vs d\)$"):
        score_alignments([[], []], [[], []], names=["a vs b", "c vs d"])
    with pytest.raises(DataError, match="not an alignment bead like"):
        parse_bead("[]:[]")
    (tmp_path / "empty").write_text("")
    assert main(["score-align", str(tmp_path / "empty"), str(tmp_path / "empty")]) == 2
    assert main(["score-align", str(tmp_path / "empty")]) == 2


def test_score_align_cli_errors_read_as_english(tmp_path, capsys):
    (tmp_path / "a").write_text("[0]:[0]\n")
    assert main(["score-align", str(tmp_path / "a")]) == 2
    assert capsys.readouterr().err == "mtkit score-align: error: give TEST GOLD pairs; got 1 file\n"


def test_align_refuses_a_folder(tmp_path, capsys):
    """Given a corpus folder, align took the first page in the language from anywhere in it: a page of another
    story, aligned without a word of warning."""
    page = RAW / "004_5065d816adfc3ec2.txt"
    for presegmented in ([], ["--presegmented"]):
        assert main(["align", str(RAW), str(page), "--src-lang", "zh", "--tgt-lang", "zh", *presegmented]) == 2
        assert capsys.readouterr().err == (f"mtkit align: error: {RAW}: is a directory; give one page or text file "
                                           "(`mtkit build` aligns the stories of a corpus folder)\n")


def test_empty_sides_say_which_and_no_word_list_warning(caplog, monkeypatch):
    """An empty side matches nothing, so the lexical encoder's missing word list is no news (it was warned as
    "None-fr"); a language guessed from a few Latin letters is not named in a warning (it read "a b c." as
    German); both sides empty is said so."""
    monkeypatch.setattr("mtkit.align._COVERAGE_LOGGED", set())
    fr = ["La police a arrêté dix suspects hier.", "Ils ont été transférés en Chine."]
    assert align([], fr, encoder="lexical").meta["warnings"] == [
        "one side is empty (0 source, 2 target sentences with text): every sentence is unaligned"]
    assert align(["", " "], ["\t"], encoder="lexical").meta["warnings"] == [
        "both sides are empty (no sentence with text on either side): nothing to align"]
    assert "warnings" not in align(["a b c.", "d e f."], ["a a a.", "b b b."], encoder="lexical").meta
    with caplog.at_level(logging.WARNING, logger="mtkit.align"):
        result = align(["a b c.", "d e f."], fr, encoder="lexical")
    assert result.meta["warnings"] == [
        "the lexical encoder has word lists for zh, en, id only, not fr: fr text is matched by shared numbers, "
        "spellings and sentence length (expect little better than a length-only aligner); use LaBSE "
        "(encoder='labse' / --encoder labse)"]
