"""`mtkit translate` as a user runs it: bad settings and inputs get clear errors (no traceback, no empty file),
a resumed job never takes another model's chunks, and --dtype reaches CTranslate2."""

import pytest
import torch

from mtkit.cli import main
from mtkit.errors import BackendError, ConfigError, DataError
from mtkit.testing import build_tiny_marian
from mtkit.translate import Translator, read_inputs, translate_file

from test_translate_engine import killed_after_one_chunk  # same folder: pytest puts it on sys.path

INPUTS = ["公安 部", "缅甸 警方", "", "合作 泰国", "跨国 犯罪"]


@pytest.fixture(scope="module")
def marians(tmp_path_factory):
    """Two different random Marians saved in folders of the same name (as runs/a/final and runs/b/final)."""
    root = tmp_path_factory.mktemp("runs")
    return build_tiny_marian(root / "a" / "final", seed=1), build_tiny_marian(root / "b" / "final", seed=2)


def test_jsonl_nested_field(tmp_path):
    """`mtkit build`'s JSONL keeps the text under translation.<lang>: a dotted --field reads it."""
    (tmp_path / "a.jsonl").write_text('{"translation": {"zh": "公安部", "en": "MPS"}, "a.b": "dotted key"}\n\n'
                                      '{"translation": {"en": "police"}}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"a.jsonl:3: no field 'translation.zh' \(fields: translation\)$"):
        read_inputs(tmp_path / "a.jsonl", field="translation.zh")
    (tmp_path / "a.jsonl").write_text('{"translation": {"zh": "公安部", "en": "MPS"}, "a.b": "dotted key"}\n\n',
                                      encoding="utf-8")
    assert read_inputs(tmp_path / "a.jsonl", field="translation.zh") == ["公安部", ""]
    assert read_inputs(tmp_path / "a.jsonl", field="a.b") == ["dotted key", ""]
    with pytest.raises(DataError, match=r"a.jsonl:1: field 'translation' is \{.*, not a string$"):
        read_inputs(tmp_path / "a.jsonl", field="translation")


def test_jsonl_values_that_are_not_text(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"text": "公安部"}\n{"text": null}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"^.*a.jsonl:2: field 'text' is null, not a string$"):
        read_inputs(tmp_path / "a.jsonl")
    (tmp_path / "b.jsonl").write_text('{"text": ["a", "b"]}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r'b.jsonl:1: field \'text\' is \["a", "b"\], not a string$'):
        read_inputs(tmp_path / "b.jsonl")
    (tmp_path / "c.jsonl").write_text('"just a string"\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"c.jsonl:1: a JSON str, not an object with a 'text' field$"):
        read_inputs(tmp_path / "c.jsonl")


def _dataset(root):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (root / "data" / "en-zh").mkdir(parents=True)
    pq.write_table(pa.table({"translation": [{"en": "Police", "zh": "缅甸 警方"}]}),
                   root / "data" / "en-zh" / "test-00000-of-00001.parquet")
    (root / "README.md").write_text("---\nconfigs:\n- config_name: en-zh\n  data_files:\n  - split: test\n"
                                    "    path: data/en-zh/test-*\n---\n", encoding="utf-8")
    return root


def test_dataset_folder_errors(tmp_path):
    folder = _dataset(tmp_path / "ds")
    assert read_inputs(folder, split="test", config="en-zh", src_lang="zh") == ["缅甸 警方"]
    # a split the build left empty has no file: a clear error, not datasets' traceback
    with pytest.raises(DataError, match=r"ds \(en-zh\): no split 'validation' \(empty splits are not declared\); "
                                        r"splits: test$"):
        read_inputs(folder, split="dev", config="en-zh", src_lang="zh")
    with pytest.raises(ConfigError, match=r"ds: no config 'id-zh' \(BuilderConfig 'id-zh' "):
        read_inputs(folder, split="test", config="id-zh", src_lang="zh")
    with pytest.raises(DataError, match=r"ds \(en-zh\): no id text; languages: en, zh$"):
        read_inputs(folder, split="test", config="en-zh", src_lang="id")



def test_dataset_folder_given_with_a_tilde(tmp_path, monkeypatch):
    # the reader translate, evaluate and finetune share passed "~/ds" on to datasets, which took it for a Hub id: "no config 'en-zh' (Repo id
    # must use alphanumeric chars ...)"
    monkeypatch.setenv("HOME", str(tmp_path))
    _dataset(tmp_path / "ds")
    from mtkit.corpus.dataset import translation_split

    assert translation_split("~/ds", "en-zh", "test", ("zh",))["translation"] == [{"en": "Police", "zh": "缅甸 警方"}]

@pytest.mark.parametrize("settings, message", [
    ({"beam_size": 0}, "beam size must be at least 1, not 0"),
    ({"beam_size": -3}, "beam size must be at least 1, not -3"),
    ({"max_length": 0}, "max_length must be at least 1, not 0"),
    ({"max_batch_tokens": -5}, "max_batch_tokens must be at least 0, not -5"),
])
def test_settings_no_search_can_run_with(marians, settings, message):
    tr = Translator(marians[0], backend="hf")
    with pytest.raises(ConfigError, match=f"^{message}$"):
        tr.translate(INPUTS, **settings)


def test_one_string_is_not_a_list_of_sentences(marians):
    tr = Translator(marians[0])
    with pytest.raises(TypeError, match=r"translate takes a list of sentences, not one string: translate\(\[text\]\)"):
        tr.translate("公安 部")


@pytest.mark.parametrize("backend", ["hf", "mtkit"])
def test_max_length_over_the_positions_is_a_clear_error_on_every_backend(marians, backend):
    tr = Translator(marians[0], backend=backend)
    with pytest.raises(ConfigError, match="^max_length 300 is over the model's 256 decoder positions; "
                                          "use --max-length 256 or less$"):
        tr.translate(["合作"], max_length=300)


def test_cli_bad_settings_write_nothing(marians, tmp_path, capsys):
    (tmp_path / "in.txt").write_text("\n".join(INPUTS) + "\n", encoding="utf-8")
    base = ["translate", str(tmp_path / "in.txt"), "--model", str(marians[0]), "--out", str(tmp_path / "out.txt")]
    # a negative chunk size made no chunks, and an empty file was reported as "5 lines ->"
    assert main(base + ["--chunk-size", "-1"]) == 2
    assert "mtkit translate: error: chunk size must be at least 1, not -1" in capsys.readouterr().err
    assert main(base + ["--beam", "0"]) == 2
    assert "mtkit translate: error: beam size must be at least 1, not 0" in capsys.readouterr().err
    assert not (tmp_path / "out.txt").exists() and not (tmp_path / "out.txt.partial").exists()


def test_model_paths_that_hold_no_model(tmp_path, capsys):
    (tmp_path / "in.txt").write_text("合作\n", encoding="utf-8")
    (tmp_path / "empty").mkdir()
    for model, reason in [(str(tmp_path / "nowhere"), "no such model folder"), ("runs/x/final", "no such model folder"),
                          (str(tmp_path / "empty"), "not a saved model (no config.json or adapter_config.json)"),
                          (str(tmp_path / "in.txt"), "a file, not a model folder or hub name")]:
        message = f"cannot load translation model {model!r}: {reason}"
        with pytest.raises(BackendError) as raised:
            Translator(model)
        assert str(raised.value) == message
        assert main(["translate", str(tmp_path / "in.txt"), "--model", model, "--out", str(tmp_path / "o.txt")]) == 2
        assert f"mtkit translate: error: {message}\n" == capsys.readouterr().err
        assert not (tmp_path / "o.txt.partial").exists()  # a failed start leaves no empty resume folder


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_cuda_device_without_cuda(marians):
    for device in ("cuda", "cuda:1"):
        with pytest.raises(ConfigError, match=f"^device '{device}': torch sees no CUDA device here; use --device cpu$"):
            Translator(marians[0], device=device)


@pytest.mark.parametrize("device", ["gpu", "CPU", "mps", "cuda:", "cuda:x"])
def test_a_device_torch_does_not_take_is_refused_before_the_model_loads(tmp_path, capsys, device):
    # torch's RuntimeError came as a traceback, after the model had been loaded: here no model is even there
    message = f"unknown device {device!r}; use cpu, cuda or cuda:N (N: a GPU's index)"
    with pytest.raises(ConfigError) as raised:
        Translator(tmp_path / "no-model", device=device)
    assert str(raised.value) == message
    (tmp_path / "in.txt").write_text("合作\n", encoding="utf-8")
    assert main(["translate", str(tmp_path / "in.txt"), "--model", str(tmp_path / "no-model"), "--device", device,
                 "--out", str(tmp_path / "o.txt")]) == 2
    assert capsys.readouterr().err == f"mtkit translate: error: {message}\n"


@pytest.mark.parametrize("builder", ["marian", "t5"])
def test_a_model_folder_without_its_tokenizer(tmp_path, capsys, builder):
    """A checkpoint saved without its tokenizer: Marian's (and M2M100's, NLLB's) tokenizer failed with a TypeError
    traceback, and T5's (and MBart-50's) loaded empty, without a word."""
    import shutil

    from mtkit import testing

    built = getattr(testing, f"build_tiny_{builder}")(tmp_path / builder)
    (tmp_path / "bare").mkdir()
    for name in ("config.json", "generation_config.json", "model.safetensors"):
        shutil.copy(built / name, tmp_path / "bare" / name)
    message = (f"cannot load translation model {str(tmp_path / 'bare')!r}: no tokenizer files (tokenizer_config.json, "
               "tokenizer.json, *.spm, *.model, vocab.*, merges.txt); save the tokenizer with the model")
    with pytest.raises(BackendError) as raised:
        Translator(tmp_path / "bare", tgt_lang="en")
    assert str(raised.value) == message
    (tmp_path / "in.txt").write_text("合作\n", encoding="utf-8")
    capsys.readouterr()  # the builder's progress bars
    assert main(["translate", str(tmp_path / "in.txt"), "--model", str(tmp_path / "bare"), "--tgt-lang", "en",
                 "--out", str(tmp_path / "o.txt")]) == 2
    assert capsys.readouterr().err == f"mtkit translate: error: {message}\n"


def test_a_model_path_with_a_tilde(marians, tmp_path, monkeypatch, capsys):
    # the path check expanded ~, but transformers was given "~/runs/a/final" and read it as a hub id
    monkeypatch.setenv("HOME", str(marians[0].parents[1]))
    expected = Translator(marians[0]).translate(INPUTS, max_length=4)
    assert Translator("~/a/final").translate(INPUTS, max_length=4) == expected
    (tmp_path / "in.txt").write_text("\n".join(INPUTS) + "\n", encoding="utf-8")
    assert main(["translate", str(tmp_path / "in.txt"), "--model=~/a/final", "--out", str(tmp_path / "o.txt"),
                 "--max-length", "4"]) == 0
    assert (tmp_path / "o.txt").read_text(encoding="utf-8") == "\n".join(expected) + "\n"


def test_resume_never_takes_another_models_chunks(marians, tmp_path):
    """Both models' signatures say `model:final`: an interrupted job of one must not lend its chunks to the other."""
    a, b = Translator(marians[0]), Translator(marians[1])
    assert a.signature() == b.signature()
    settings = dict(chunk_size=2, max_length=6)
    expected = translate_file(b, INPUTS, tmp_path / "b.txt", **settings).read_text(encoding="utf-8")
    assert translate_file(a, INPUTS, tmp_path / "a.txt", **settings).read_text(encoding="utf-8") != expected

    killed_after_one_chunk(a, INPUTS, tmp_path / "out.txt", **settings)
    assert len(list((tmp_path / "out.txt.partial").rglob("chunk-*.txt"))) == 1
    assert translate_file(b, INPUTS, tmp_path / "out.txt", **settings).read_text(encoding="utf-8") == expected


def test_ct2_gets_the_dtype(marians, tmp_path, monkeypatch):
    pytest.importorskip("ctranslate2")
    monkeypatch.setenv("HOME", str(tmp_path))  # the converted model is cached under ~/.cache/mtkit/ct2
    assert Translator(marians[0], backend="ct2", dtype="fp32").backend.translator.compute_type == "float32"
    if not torch.cuda.is_available():
        # CTranslate2 has no float16 on a CPU: an error, not a float32 run signed `dtype:fp16`
        with pytest.raises(BackendError, match=r"^CTranslate2 cannot run float16 on cpu \(.*\); this device supports: "
                                               r".*float32"):
            Translator(marians[0], backend="ct2", dtype="fp16")


def test_a_source_code_is_checked_when_the_translator_is_made(marians, tmp_path, caplog):
    """A code no splitter knows fails at once for Marian (which checks no codes), not at the first input over the
    model's limit; a code an NLLB model knows (zho_Hans) but the segmenter does not only turns splitting off."""
    from mtkit.testing import build_tiny_nllb

    with pytest.raises(ConfigError, match=r"no sentence splitter for language 'zz'"):
        Translator(marians[0], src_lang="zz", tgt_lang="en")
    nllb = build_tiny_nllb(tmp_path / "nllb")
    with caplog.at_level("WARNING", logger="mtkit.translate"):
        translator = Translator(nllb, src_lang="zho_Hans", tgt_lang="eng_Latn")
    assert translator._splitter is None
    assert "no sentence splitter for 'zho_Hans': inputs over the model's limit of" in caplog.text
    assert Translator(nllb, src_lang="zh", tgt_lang="en")._splitter.name == "zh"


def test_progress_bars_on_request_when_stderr_is_a_file(marians, tmp_path, capsys):
    (tmp_path / "in.txt").write_text("\n".join(INPUTS) + "\n", encoding="utf-8")
    argv = ["translate", str(tmp_path / "in.txt"), "--model", str(marians[0]), "--out", str(tmp_path / "o.txt"),
            "--max-length", "4"]
    assert main(argv) == 0
    assert "translating" not in capsys.readouterr().err  # not a terminal: no bar by default
    assert main(["--progress", *argv[:5], str(tmp_path / "p.txt"), "--max-length", "4"]) == 0
    bar = capsys.readouterr().err
    assert "translating: 100%" in bar and "5/5" in bar and "sent/s" in bar
