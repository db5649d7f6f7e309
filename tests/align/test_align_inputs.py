"""Bad and unusual inputs to the align and score-align stage: clear errors or warnings, never a traceback or a
silently wrong result."""

import logging

import pytest

from mtkit.align.scoring import parse_bead, read_beads, score_alignments
from mtkit.cli import main
from mtkit.errors import DataError
from mtkit.records import Bead

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
