"""The CLI's shared options: -v, -q and --progress before or after the command's name."""

from mtkit.cli import build_parser, main


def test_output_options_go_before_or_after_the_command():
    parse = build_parser().parse_args
    after = parse(["score-align", "-v", "-q", "--progress", "t", "g"])
    assert (after.verbose, after.quiet, after.force_progress, after.files) == (1, True, True, ["t", "g"])
    before = parse(["-vv", "score-align", "t", "g"])  # not given after the name: the ones before stay
    assert (before.verbose, before.quiet, before.force_progress) == (2, False, False)
    assert (parse(["score-align", "t", "g"]).verbose, parse(["-q", "score-align", "t", "g"]).quiet) == (0, True)


def test_no_progress_turns_the_hugging_face_bars_off_unless_the_user_set_them(tmp_path, monkeypatch, capsys):
    (tmp_path / "a").write_text("[0]:[0]\n")
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "")  # recorded, so that the test's setting is undone
    monkeypatch.delenv("HF_HUB_DISABLE_PROGRESS_BARS")
    monkeypatch.setenv("HF_DATASETS_DISABLE_PROGRESS_BARS", "0")
    assert main(["score-align", "-q", str(tmp_path / "a"), str(tmp_path / "a")]) == 0
    import os

    assert (os.environ["HF_HUB_DISABLE_PROGRESS_BARS"], os.environ["HF_DATASETS_DISABLE_PROGRESS_BARS"]) == ("1", "0")
