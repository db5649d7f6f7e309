"""Shared helpers: batching, atomic writes, signatures, registries."""

import os

import pytest

from mtkit import __version__
from mtkit.errors import ConfigError
from mtkit.registry import Registry
from mtkit.utils import (atomic_write, checked_texts, fill_batches, length_sorted_batches, make_signature,
                         missing_model_folder, option_text, stable_hash)


@pytest.mark.parametrize(
    "lengths, kwargs, expected",
    [
        ([3, 1, 2], {}, [[0, 2, 1]]),
        ([3, 1, 2, 5], {"max_batch_size": 2}, [[3, 0], [2, 1]]),
        # padded size = len(batch) * longest: 5*1, then 3+2 -> 3*2=6 <= 6, then 1
        ([3, 1, 2, 5], {"max_batch_tokens": 6}, [[3], [0, 2], [1]]),
        # sorting only inside windows of two items keeps streaming order between windows
        ([1, 4, 9, 2], {"sort_window": 2}, [[1, 0], [2, 3]]),
        ([], {}, []),
    ],
)
def test_length_sorted_batches(lengths, kwargs, expected):
    items = ["x" * n for n in lengths]
    assert list(length_sorted_batches(items, **kwargs)) == expected


def test_a_single_item_longer_than_the_token_budget_still_gets_a_batch():
    assert list(length_sorted_batches(["x" * 50], max_batch_tokens=10)) == [[0]]


def test_fill_batches_counts_each_sides_longest():
    # (source, target) sides: a batch's padded size is its size times (longest source + longest target)
    sides = [(5, 1), (1, 5), (2, 2), (1, 1)]
    assert list(fill_batches(range(4), sides.__getitem__, max_batch_tokens=20)) == [[0, 1], [2, 3]]  # 2*(5+5)
    assert list(fill_batches(range(4), sides.__getitem__, max_batch_tokens=19)) == [[0], [1, 2], [3]]  # 2*(2+5)
    assert list(fill_batches(range(4), sides.__getitem__)) == [[0, 1, 2, 3]]  # no bound


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError):
        with atomic_write(target) as fh:
            fh.write("half")
            raise RuntimeError("crash")
    assert not target.exists()
    assert os.listdir(tmp_path) == []
    with atomic_write(target) as fh:
        fh.write("whole\n")
    assert target.read_text() == "whole\n"


@pytest.mark.parametrize("args, kwargs, expected", [
    (("tgt_lang",), {}, "tgt_lang= / --tgt-lang"),
    (("max_length", 256), {}, "max_length=256 / --max-length 256"),
    (("device", "cpu"), {}, "device='cpu' / --device cpu"),
    (("dry_run", True), {}, "dry_run=True / --dry-run"),
    (("beam_size", 4), {"flag": "--beam"}, "beam_size=4 / --beam 4"),
])
def test_option_text_names_a_setting_as_the_api_and_the_cli_spell_it(args, kwargs, expected):
    assert option_text(*args, **kwargs) == expected


def test_signature_and_hash_are_stable():
    assert make_signature("align:bertalign", max_align=5, skip=-0.1, margin=True) == (
        f"align:bertalign|max_align:5|skip:-0.1|margin:yes|mtkit:{__version__}"
    )
    assert stable_hash({"b": 1, "a": [1, 2]}) == stable_hash({"a": [1, 2], "b": 1})
    assert stable_hash("x") != stable_hash("y")
    assert len(stable_hash("x", length=8)) == 8


def test_registry_lists_known_names_on_a_miss():
    reg: Registry = Registry("filter")

    @reg.register("length_ratio")
    class LengthRatio:
        pass

    assert reg.get("length_ratio") is LengthRatio
    assert LengthRatio.registered_name == "length_ratio"
    with pytest.raises(ConfigError, match=r"unknown filter 'lenght_ratio'; known: length_ratio"):
        reg.get("lenght_ratio")
    with pytest.raises(ConfigError, match="registered twice"):
        reg.register("length_ratio")(LengthRatio)


def test_atomic_files_appear_only_on_close(tmp_path):
    from mtkit.utils import AtomicFiles

    files = AtomicFiles()
    files.get("a", tmp_path / "a.txt").write("one\n")
    files.get("b", tmp_path / "sub" / "b.txt").write("two\n")
    files.get("a", tmp_path / "a.txt").write("three\n")
    assert not (tmp_path / "a.txt").exists()
    files.close()
    assert (tmp_path / "a.txt").read_text() == "one\nthree\n"
    assert (tmp_path / "sub" / "b.txt").read_text() == "two\n"


def test_atomic_files_abort_leaves_nothing(tmp_path):
    from mtkit.utils import AtomicFiles

    files = AtomicFiles()
    files.get("a", tmp_path / "a.txt").write("one\n")
    files.abort()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("device, cudnn_inside", [("cuda", False), ("cuda:0", False), ("cpu", True)])
def test_attention_without_cudnn_only_changes_cuda_and_restores(device, cudnn_inside):
    import torch

    from mtkit.utils import attention_without_cudnn

    assert torch.backends.cuda.cudnn_sdp_enabled()
    with attention_without_cudnn(torch.device(device)):
        assert torch.backends.cuda.cudnn_sdp_enabled() == cudnn_inside
        assert torch.backends.cuda.flash_sdp_enabled() and torch.backends.cuda.mem_efficient_sdp_enabled()
    assert torch.backends.cuda.cudnn_sdp_enabled()


@pytest.mark.parametrize("values, kwargs, message", [
    ("abc", {}, "texts is one str (3 characters), not a list of lines; give f([line])"),
    (b"ab", {}, "texts is one bytes (2 bytes), not a list of lines; give f([line])"),
    (None, {}, "texts is None, not a list of lines; give f([line])"),
    (["a", None], {}, "texts[1] is None, not a string"),
    (["a", b"x"], {"start": 10}, "texts[11] is bytes b'x', not a string"),
    ([1.5], {"also": (int,)}, "texts[0] is float 1.5, not str or int"),
])
def test_checked_texts_refuses_wrong_types_with_a_type_error(values, kwargs, message):
    with pytest.raises(TypeError) as error:
        list(checked_texts(values, "texts", items="lines", hint="give f([line])", **kwargs))
    assert str(error.value) == message


def test_checked_texts_checks_the_list_at_the_call_and_its_items_as_they_are_read():
    with pytest.raises(TypeError):
        checked_texts("abc", "texts", items="lines", hint="")  # no next() needed
    stream = iter(["a", "b", None])
    texts = checked_texts(stream, "texts", items="lines", hint="")
    assert (next(texts), next(texts)) == ("a", "b")
    with pytest.raises(TypeError, match=r"^texts\[2\] is None, not a string$"):
        next(texts)
    assert list(checked_texts(["a", 1], "texts", items="lines", hint="", also=(int,))) == ["a", 1]


@pytest.mark.parametrize("name, expected", [
    ("models/typo", "no such model folder (models is a local folder, so models/typo is read as a path; to load the "
                    "Hub model models/typo, give it from another directory or rename the local folder models)"),
    ("./models/typo", "no such model folder"), ("runs/x/final", "no such model folder"),
    ("models/base", None), ("models", None),  # there: loaded from the folder
    ("Helsinki-NLP/opus-mt-zh-en", None), ("labse", None),  # hub ids when no local folder has the owner's name
])
def test_missing_model_folder(name, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models" / "base").mkdir(parents=True)
    assert missing_model_folder(name) == expected
