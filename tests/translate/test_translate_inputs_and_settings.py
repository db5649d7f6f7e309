"""`mtkit translate` as a user runs it: bad settings and inputs get clear errors (no traceback, no empty file),
a resumed job never takes another model's chunks, and --dtype reaches CTranslate2."""

import re
from pathlib import Path

import pytest
import torch

from mtkit.cli import main
from mtkit.errors import BackendError, ConfigError, DataError
from mtkit.testing import build_tiny_m2m100, build_tiny_marian, build_tiny_mbart, build_tiny_nllb, build_tiny_t5
from mtkit.translate import Translator, TranslatorSpec, check_model_path, read_inputs, translate_file

from test_translate_engine import killed_after_one_chunk  # same folder: pytest puts it on sys.path

INPUTS = ["公安 部", "缅甸 警方", "", "合作 泰国", "跨国 犯罪"]


@pytest.fixture(scope="module")
def marians(tmp_path_factory):
    """Two different random Marians saved in folders of the same name (as runs/a/final and runs/b/final)."""
    root = tmp_path_factory.mktemp("runs")
    return build_tiny_marian(root / "a" / "final", seed=1), build_tiny_marian(root / "b" / "final", seed=2)


@pytest.fixture(scope="module")
def multilingual(tmp_path_factory):
    """Models that translate into many languages: M2M100, NLLB, MBart-50, MADLAD-style T5, and a multi-target
    Marian (as opus-mt-en-mul: target_lang mul, a >>xxx<< token per target)."""
    root = tmp_path_factory.mktemp("multilingual")
    return {"m2m100": build_tiny_m2m100(root / "m2m100"), "nllb": build_tiny_nllb(root / "nllb"),
            "mbart": build_tiny_mbart(root / "mbart"), "t5": build_tiny_t5(root / "t5"),
            "marian-mul": build_tiny_marian(root / "marian-mul", tgt_lang="mul", target_codes=("ind", "eng", "cmn_Hans"))}


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
    # named as typed, not as its alias ('validation' was reported for --split dev)
    with pytest.raises(DataError, match=r"ds \(en-zh\): no split 'dev' \(empty splits are not declared\); "
                                        r"splits: test$"):
        read_inputs(folder, split="dev", config="en-zh", src_lang="zh")
    with pytest.raises(ConfigError, match=r"ds: no config 'id-zh' \(BuilderConfig 'id-zh' "):
        read_inputs(folder, split="test", config="id-zh", src_lang="zh")
    with pytest.raises(DataError, match=r"ds \(en-zh\): no id text; languages: en, zh$"):
        read_inputs(folder, split="test", config="en-zh", src_lang="id")



def test_dataset_config_is_the_pair_of_the_languages(tmp_path):
    """The build names a config by its two languages sorted: --src-lang zh --tgt-lang en is config en-zh."""
    folder = _dataset(tmp_path / "ds")
    assert read_inputs(folder, split="test", src_lang="zh", tgt_lang="en") == ["缅甸 警方"]
    with pytest.raises(ConfigError, match=r"^a dataset folder as input needs --split and --src-lang, and --tgt-lang "
                                          r"or --config$"):
        read_inputs(folder, split="test", src_lang="zh")


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
    # (was "translate takes a list of sentences, not one string: translate([text])": one wording for align's,
    # evaluate's and translate's lists now, mtkit.utils.checked_texts)
    with pytest.raises(TypeError, match=r"^sentences is one str \(4 characters\), not a list of sentences; give "
                                        r"translate\(\[text, \.\.\.\]\)$"):
        tr.translate("公安 部")


@pytest.mark.parametrize("make", [tuple, iter, lambda xs: (x for x in xs), lambda xs: dict.fromkeys(xs).keys()],
                         ids=["tuple", "iterator", "generator", "dict-keys"])
def test_any_iterable_of_sentences(marians, make):
    # a generator was decoded in full, then failed on len(): "object of type 'generator' has no len()"
    tr = Translator(marians[0])
    inputs = ["公安 部", "缅甸 警方", "", "合作 泰国"]  # no repeat: dict keys keep every input
    assert tr.translate(make(inputs), max_length=4) == tr.translate(inputs, max_length=4)


def test_not_iterable_sentences_and_a_bad_setting_leave_a_generator_unread(marians):
    tr = Translator(marians[0])
    with pytest.raises(TypeError, match=r"^sentences is int 5, not a list of sentences; give "
                                        r"translate\(\[text, \.\.\.\]\)$"):
        tr.translate(5)
    with pytest.raises(TypeError, match=r"^sentences is None, not a list of sentences; give "
                                        r"translate_iter\(\[text, \.\.\.\]\)$"):
        tr.translate_iter(None)
    inputs = iter(INPUTS)
    with pytest.raises(ConfigError):
        tr.translate(inputs, beam_size=0)
    assert list(inputs) == INPUTS


@pytest.mark.parametrize("backend", ["hf", "mtkit"])
def test_max_length_over_the_positions_is_a_clear_error_on_every_backend(marians, backend):
    tr = Translator(marians[0], backend=backend)
    with pytest.raises(ConfigError, match="^max_length 300 is over the model's 256 decoder positions; "
                                          "use max_length=256 / --max-length 256 or less$"):
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


def test_a_missing_model_beside_a_folder_of_its_owners_name_is_a_path(tmp_path, monkeypatch, capsys):
    # models/typo beside a models folder was taken for a hub id: ~49 s of hub retries, then a connection error
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    (tmp_path / "in.txt").write_text("合作\n", encoding="utf-8")
    message = ("cannot load translation model 'models/typo': no such model folder (models is a local folder, so "
               "models/typo is read as a path; to load the Hub model models/typo, give it from another directory "
               "or rename the local folder models)")
    with pytest.raises(BackendError) as raised:
        Translator("models/typo")
    assert str(raised.value) == message
    assert main(["translate", "in.txt", "--model", "models/typo", "--src-lang", "zh", "--tgt-lang", "en",
                 "--out", "t.en"]) == 2
    assert capsys.readouterr().err == f"mtkit translate: error: {message}\n"
    # a hub id whose owner is no local folder is still a hub id, looked up in the cache and on the hub
    assert check_model_path("Helsinki-NLP/opus-mt-zh-en") == "Helsinki-NLP/opus-mt-zh-en"


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
        with pytest.raises(ConfigError, match=f"^device '{device}': torch sees no CUDA device here; use "
                                          "device='cpu' / --device cpu$"):
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
    """A code no splitter knows fails at once for a Marian that declares no pair (nothing else checks it), not at
    the first input over the model's limit; a model's own code (NLLB's zho_Hans) gets the splitter of its ISO code."""
    from mtkit.testing import build_tiny_nllb

    with pytest.raises(ConfigError, match=r"no sentence splitter for language 'zz'"):
        Translator(build_tiny_marian(tmp_path / "nopair", src_lang=None, tgt_lang=None), src_lang="zz", tgt_lang="en")
    nllb = build_tiny_nllb(tmp_path / "nllb")
    with caplog.at_level("WARNING", logger="mtkit.translate"):
        assert Translator(nllb, src_lang="zho_Hans", tgt_lang="eng_Latn")._splitter.name == "zh"
    assert not caplog.records
    assert Translator(nllb, src_lang="zh", tgt_lang="en")._splitter.name == "zh"


def test_translate_shows_a_bar_on_request(marians, capsys):
    tr = Translator(marians[0])
    capsys.readouterr()  # transformers' bar loading the weights
    quiet = tr.translate(INPUTS, max_length=4)
    assert capsys.readouterr().err == ""
    assert tr.translate(INPUTS, max_length=4, show_progress=True) == quiet
    assert "translating: 100%" in capsys.readouterr().err  # the four inputs with text
    with pytest.raises(TypeError, match=r"got an unexpected keyword argument 'progress'$"):
        tr.translate(INPUTS, progress=True)


def test_progress_bars_on_request_when_stderr_is_a_file(marians, tmp_path, capsys):
    (tmp_path / "in.txt").write_text("\n".join(INPUTS) + "\n", encoding="utf-8")
    argv = ["translate", str(tmp_path / "in.txt"), "--model", str(marians[0]), "--out", str(tmp_path / "o.txt"),
            "--max-length", "4"]
    assert main(argv) == 0
    assert "translating" not in capsys.readouterr().err  # not a terminal: no bar by default
    assert main(["--progress", *argv[:5], str(tmp_path / "p.txt"), "--max-length", "4"]) == 0
    bar = capsys.readouterr().err
    assert "translating: 100%" in bar and "5/5" in bar and "sent/s" in bar


def test_out_that_is_the_input_is_refused_before_any_load(tmp_path, capsys):
    """It replaced the input with its translations. The model named does not exist: the output is checked first."""
    (tmp_path / "in.txt").write_text("合作\n", encoding="utf-8")
    (tmp_path / "link.txt").symlink_to(tmp_path / "in.txt")
    for out in [str(tmp_path / "in.txt"), str(tmp_path / "." / "in.txt"), str(tmp_path / "link.txt")]:
        assert main(["translate", str(tmp_path / "in.txt"), "--model", str(tmp_path / "nowhere"), "--out", out]) == 2
        assert capsys.readouterr().err == (f"mtkit translate: error: cannot write {out}: it is the input file, which "
                                           "the translations would replace\n")
    assert (tmp_path / "in.txt").read_text(encoding="utf-8") == "合作\n"


def test_output_location_is_checked_before_any_load(tmp_path, capsys):
    """A folder as --out crashed after the whole job, an unwritable place after the first chunk, with tracebacks."""
    (tmp_path / "in.txt").write_text("合作\n", encoding="utf-8")
    (tmp_path / "outdir").mkdir()
    cases = [(tmp_path / "outdir", "a folder; give the output file's name"),
             (tmp_path / "in.txt" / "sub" / "o.txt", f"{tmp_path / 'in.txt'} is a file, not a folder")]
    if Path("/proc/self").is_dir():  # Linux: root may write anywhere else
        cases.append((Path("/proc/o.txt"), "cannot create files in /proc (No such file or directory)"))
    for out, reason in cases:
        assert main(["translate", str(tmp_path / "in.txt"), "--model", str(tmp_path / "nowhere"), "--out",
                     str(out)]) == 2
        assert capsys.readouterr().err == f"mtkit translate: error: cannot write {out}: {reason}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt", "outdir"]  # no .partial, no probe file left
    assert list((tmp_path / "outdir").iterdir()) == []
    with pytest.raises(ConfigError, match=r"^cannot write .*outdir: a folder; give the output file's name$"):
        translate_file(TranslatorSpec(str(tmp_path / "nowhere")), ["合作"], tmp_path / "outdir")


def test_bom_and_invisible_lines_are_empty_lines(marians, tmp_path):
    """A BOM on line 1 and lines of zero-width characters went to the model as a bare </s>, which invents text."""
    (tmp_path / "a.txt").write_bytes("\ufeff\n公安 部\n\u200b\n\u3000\n".encode())
    assert read_inputs(tmp_path / "a.txt") == ["", "公安 部", "\u200b", "\u3000"]
    (tmp_path / "a.jsonl").write_bytes('\ufeff{"text": "公安 部"}\n'.encode())
    assert read_inputs(tmp_path / "a.jsonl") == ["公安 部"]  # was: "not JSON: Unexpected UTF-8 BOM"
    tr = Translator(marians[0])
    sent = []
    real = tr._encode
    tr._encode = lambda text, line: sent.append(text) or real(text, line)
    blank = ["\u200b", "\ufeff", " \u2060\u200c \u200d", "\u3000", ""]
    got = tr.translate(blank + ["公安 部"], max_length=4)
    assert sent == ["公安 部"]
    assert got == ["", "", "", "", "", tr.translate(["公安 部"], max_length=4)[0]] and got[-1]


def test_jsonl_is_known_by_its_suffix_in_any_case_and_field_needs_it(tmp_path, capsys):
    for name in ["d.JSONL", "d.ndjson", "d.NDJSON"]:
        (tmp_path / name).write_text('{"text": "公安部"}\n', encoding="utf-8")
        assert read_inputs(tmp_path / name) == ["公安部"]
    (tmp_path / "d.json").write_text('{"text": "公安部"}\n', encoding="utf-8")
    assert read_inputs(tmp_path / "d.json") == ['{"text": "公安部"}']  # a text file: its lines are the inputs
    message = (f"{tmp_path / 'd.json'}: --field applies to JSONL input, and this file is read as text (JSONL: *.jsonl, "
               "*.ndjson, any case)")
    with pytest.raises(ConfigError) as raised:
        read_inputs(tmp_path / "d.json", field="text")
    assert str(raised.value) == message
    assert main(["translate", str(tmp_path / "d.json"), "--field", "no_such_field", "--model",
                 str(tmp_path / "nowhere"), "--out", str(tmp_path / "o.txt")]) == 2
    assert capsys.readouterr().err == f"mtkit translate: error: {message}\n"


def test_a_tilde_in_input_and_out_is_the_home_folder(marians, tmp_path, monkeypatch):
    """'--out=~/o.txt' (no shell expansion after '=') made a folder named '~' in the working folder."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    (tmp_path / "home" / "in.txt").write_text("合作\n\n", encoding="utf-8")
    assert read_inputs("~/in.txt") == ["合作", ""]
    assert main(["-q", "translate", "~/in.txt", "--model", str(marians[0]), "--out=~/out/o.txt", "--max-length",
                 "4"]) == 0
    expected = Translator(marians[0]).translate(["合作"], max_length=4)[0]
    assert (tmp_path / "home" / "out" / "o.txt").read_text(encoding="utf-8") == f"{expected}\n\n"
    assert list((tmp_path / "cwd").iterdir()) == []


def test_chunks_of_other_settings_are_reported_and_a_resume_is_shown(marians, tmp_path, caplog):
    """A rerun with another option started over in silence; the resume line showed only with -v."""
    tr = Translator(marians[0])
    out = tmp_path / "out.txt"
    killed_after_one_chunk(tr, INPUTS, out, chunk_size=2, max_length=6)
    (first,) = (tmp_path / "out.txt.partial").iterdir()
    with caplog.at_level("WARNING", logger="mtkit.translate"):
        killed_after_one_chunk(tr, INPUTS, out, chunk_size=2, max_length=6, max_batch_size=1)
    assert [r.getMessage() for r in caplog.records] == [
        f"{first} holds 1 finished chunk(s) of other settings (differ: max_batch_size; batching is a setting here, "
        "as the batch a sentence is in can change its bf16/fp16 result): ignored, and removed when this run "
        "completes"]
    (second,) = set((tmp_path / "out.txt.partial").iterdir()) - {first}
    caplog.clear()
    with caplog.at_level("WARNING", logger="mtkit.translate"):
        translate_file(tr, INPUTS, out, chunk_size=2, max_length=6)
    assert [r.getMessage() for r in caplog.records] == [
        f"{second} holds 1 finished chunk(s) of other settings (differ: max_batch_size; batching is a setting here, "
        "as the batch a sentence is in can change its bf16/fp16 result): ignored, and removed when this run "
        "completes",
        f"{out}: resuming, 2 of 5 inputs already translated"]
    assert not (tmp_path / "out.txt.partial").exists()


def test_a_translation_is_one_line_whatever_breaks_it_holds(marians, tmp_path):
    """"\r", U+2028 and U+0085 in a translation (byte-fallback vocabularies decode them) made extra lines."""
    tr = Translator(marians[0])
    fake = {"一": "line one\rstill line one", "二": "two\u2028two", "三": "three\x85three\ttab", "四": "four"}
    tr.translate = lambda texts, **kw: [fake[x] for x in texts]
    translate_file(tr, ["一", "二", "三", "四"], tmp_path / "o.txt", chunk_size=3)
    assert (tmp_path / "o.txt").read_bytes() == b"line one still line one\ntwo two\nthree three tab\nfour\n"


def test_a_chunk_with_the_wrong_line_count_is_an_error_naming_it(marians, tmp_path):
    tr = Translator(marians[0])
    killed_after_one_chunk(tr, INPUTS, tmp_path / "out.txt", chunk_size=2, max_length=6)
    (chunk,) = (tmp_path / "out.txt.partial").rglob("chunk-00000.txt")
    chunk.write_bytes(b"one\rtwo\n")  # a chunk of an older mtkit: "\r" read as a line break made it 2 lines
    with pytest.raises(DataError) as raised:
        translate_file(tr, INPUTS, tmp_path / "out.txt", chunk_size=2, max_length=6)
    assert str(raised.value) == f"{chunk}: 1 lines, not one per input (2); delete it to translate them again"
    assert not (tmp_path / "out.txt").exists()


def test_streaming_checks_its_arguments_at_the_call(marians):
    tr = Translator(marians[0])
    with pytest.raises(TypeError, match=r"^sentences is one str \(3 characters\), not a list of sentences; give "
                                        r"translate_iter\(\[text, \.\.\.\]\)$"):
        tr.translate_iter("公安部")  # was one translation per character
    with pytest.raises(ConfigError, match="^window must be at least 1, not 0$"):
        tr.translate_iter(["公安部"], window=0)  # was taken as 1
    with pytest.raises(ConfigError, match="^beam size must be at least 1, not 0$"):
        tr.translate_iter(["公安部"], beam_size=0)
    # an item of the wrong type is a TypeError, as for align's and evaluate's lists (mtkit.utils.checked_texts);
    # it was a DataError
    for sentences, message in [(["合作", None], "sentences[1] is None, not a string"),
                               ([b"abc"], "sentences[0] is bytes b'abc', not a string")]:
        with pytest.raises(TypeError, match=rf"^{re.escape(message)}$"):
            tr.translate(sentences, max_length=2)
    with pytest.raises(TypeError, match=r"^sentences\[3\] is None, not a string$"):
        list(tr.translate_iter(["合作", "", "公安 部", None], window=2, max_length=2))


def test_nothing_to_translate_loads_no_model(marians, tmp_path, monkeypatch, capsys):
    def no_load(self):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(TranslatorSpec, "load", no_load)
    (tmp_path / "empty.txt").write_bytes(b"")
    assert main(["translate", str(tmp_path / "empty.txt"), "--model", str(marians[0]), "--out",
                 str(tmp_path / "o.txt")]) == 0
    assert (tmp_path / "o.txt").read_bytes() == b""
    assert capsys.readouterr().out.startswith(f"0 lines -> {tmp_path / 'o.txt'}\t")
    # every chunk finished (a run killed while assembling): the file is made from them alone
    expected = translate_file(Translator(marians[0]), INPUTS, tmp_path / "ref.txt", chunk_size=2, max_length=6)
    monkeypatch.setattr("mtkit.translate.shutil.rmtree", lambda *a, **k: None)
    translate_file(Translator(marians[0]), INPUTS, tmp_path / "b.txt", chunk_size=2, max_length=6)
    (tmp_path / "b.txt").unlink()
    translate_file(TranslatorSpec(str(marians[0])), INPUTS, tmp_path / "b.txt", chunk_size=2, max_length=6)
    assert (tmp_path / "b.txt").read_text(encoding="utf-8") == expected.read_text(encoding="utf-8")


def test_translate_help_states_defaults_and_meanings():
    from mtkit.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command").choices["translate"]
    helps = {(a.option_strings or [a.dest])[0]: a.help for a in sub._actions}
    assert helps["input"].startswith("a text file, one sentence per line (UTF-8); a JSONL file (*.jsonl, *.ndjson")
    assert helps["--beam"].startswith("beam size (default 1: greedy search, not the num_beams of the model's "
                                      "generation_config")
    assert helps["--max-length"] == "most new tokens per sentence (default 256; at most the model's decoder positions)"
    assert helps["--max-batch-tokens"].startswith("padded source tokens a batch, 0 unbounded (default")
    assert helps["--max-batch-size"].startswith("sentences a batch, 0 unbounded (default")
    assert "with --backend ct2, CTranslate2's compute type" in helps["--dtype"]
    assert helps["--out"] == "output file; an existing one is replaced (never INPUT itself)"
@pytest.mark.parametrize("name", ["m2m100", "nllb", "mbart", "t5", "marian-mul"])
def test_a_model_of_many_target_languages_needs_one(multilingual, name):
    # M2M100/NLLB/MBart got no forced first token and T5 no <2xx> prefix: the model drifted into any language
    with pytest.raises(ConfigError) as raised:
        Translator(multilingual[name], src_lang="zh")
    family = {"nllb": "m2m100", "marian-mul": "marian"}.get(name, name)
    assert str(raised.value) == (f"this {family} model translates into many languages: give the target language "
                                 "(tgt_lang= / --tgt-lang)")


@pytest.mark.parametrize("name, default, splitter", [("m2m100", "en", "sentencex-en"), ("nllb", "zho_Hans", "zh"),
                                                     ("mbart", "zh_CN", "zh")])
def test_no_source_language_takes_the_tokenizers_with_a_warning(multilingual, caplog, name, default, splitter):
    """The tokenizer's saved (or class) default source code was used without a word; it still is (a fine-tuned
    model's saved source is right), with a warning, and long inputs are split as that language."""
    with caplog.at_level("WARNING", logger="mtkit.translate"):
        translator = Translator(multilingual[name], tgt_lang="en")
    assert caplog.messages == [f"no source language given (src_lang= / --src-lang): the tokenizer's default, "
                               f"{default}, is used"]
    assert translator._splitter.name == splitter


@pytest.mark.parametrize("src, tgt", [("zh", "xx"), ("id", "en"), ("zh", "fr"), ("zh", "mul")])
def test_a_marian_pair_other_than_the_models_is_warned_of(marians, caplog, src, tgt):
    """A zh-en model ran as id->fr without a word, its output signed tgt:fr. A warning, not an error: a Marian
    fine-tuned for another pair by an earlier mtkit still declares its old pair, and evaluate has no way around
    an error (it passes the dataset's languages)."""
    with caplog.at_level("WARNING", logger="mtkit.translate"):
        Translator(marians[0], src_lang=src, tgt_lang=tgt)
    assert caplog.messages == [f"language {src if src != 'zh' else tgt!r} is not in the pair this model's tokenizer "
                               "declares, zh->en: translating anyway (right for a model retargeted by fine-tuning; "
                               "else check model= / --model, src_lang= / --src-lang and tgt_lang= / "
                               "--tgt-lang)"]


def test_an_opus_mt_chinese_target_in_any_of_its_spellings(tmp_path, caplog):
    """opus-mt-en-zh declares eng->zho and names its targets cmn_Hans, cmn_Hant, yue_Hant: those codes, yue and
    zh-Hant were refused as "not this model's", and zho_Hant came out Simplified."""
    model = build_tiny_marian(tmp_path / "en-zh", src_lang="eng", tgt_lang="zho",
                              target_codes=("cmn_Hans", "cmn_Hant", "yue_Hant"))
    with caplog.at_level("WARNING", logger="mtkit.translate"):
        prefixes = {tgt: Translator(model, src_lang=src, tgt_lang=tgt).prefix.strip()
                    for src, tgt in (("en", "zh"), ("EN", "zh-CN"), ("en-US", "zho_Hant"), ("eng", "zh-TW"),
                                     ("en", "cmn_Hant"), ("en", "yue"), ("en", "yue_Hant"), ("en", "cmn"))}
    assert prefixes == {"zh": ">>cmn_Hans<<", "zh-CN": ">>cmn_Hans<<", "zho_Hant": ">>cmn_Hant<<",
                        "zh-TW": ">>cmn_Hant<<", "cmn_Hant": ">>cmn_Hant<<", "yue": ">>yue_Hant<<",
                        "yue_Hant": ">>yue_Hant<<", "cmn": ">>cmn_Hans<<"}
    assert caplog.messages == []  # all of them Chinese, the pair the model declares
    simplified_only = build_tiny_marian(tmp_path / "en-zh-hans", src_lang="eng", tgt_lang="zho",
                                        target_codes=("cmn_Hans", "eng"))
    with pytest.raises(ConfigError) as raised:  # no Traditional target: not silently Simplified
        Translator(simplified_only, src_lang="en", tgt_lang="zh-Hant")
    assert str(raised.value) == "language 'zh-Hant' is not a target of this model; known: cmn_Hans, eng"


def test_a_marian_pair_in_other_codes_is_the_models(marians):
    """ISO 639-3 codes (opus-mt's own) and model codes name the same languages; zh_CN was refused by the sentence
    splitter, not by the model."""
    for src, tgt in (("zho", "eng"), ("zh_CN", "en_XX"), ("zho_Hans", "eng_Latn")):
        translator = Translator(marians[0], src_lang=src, tgt_lang=tgt)
        assert (translator._splitter.name, translator._join_lang, translator.prefix) == ("zh", "en", "")


def test_a_multi_target_marian_gets_the_target_token_on_every_backend(multilingual, tmp_path, monkeypatch):
    """opus-mt's multi-target models need >>xxx<< before the source: it was left out, so the model translated into
    whichever language. The token goes in front of the source ids, the same for every backend."""
    mul = multilingual["marian-mul"]
    for tgt, token in (("id", ">>ind<<"), ("ind", ">>ind<<"), ("en", ">>eng<<"), ("zh", ">>cmn_Hans<<"),
                       ("cmn_Hans", ">>cmn_Hans<<")):
        assert Translator(mul, src_lang="zh", tgt_lang=tgt).prefix == token + " "
    with pytest.raises(ConfigError) as raised:
        Translator(mul, src_lang="zh", tgt_lang="fr")
    assert str(raised.value) == "language 'fr' is not a target of this model; known: ind, eng, cmn_Hans"

    pytest.importorskip("ctranslate2")
    monkeypatch.setenv("HOME", str(tmp_path))  # the converted model is cached under ~/.cache/mtkit/ct2
    sources = ["公安部", "缅甸 警方 合作"]
    outputs, seen = {}, {}
    for backend in ("hf", "mtkit", "ct2"):
        translator = Translator(mul, backend=backend, src_lang="zh", tgt_lang="id")
        real = translator.backend.translate_batch
        translator.backend.translate_batch = lambda ids, _real=real, _b=backend, **kw: seen.setdefault(_b, ids) and _real(ids, **kw)
        outputs[backend] = translator.translate(sources, max_length=6)
        assert [translator.tokenizer.convert_ids_to_tokens(ids[:2]) for ids in seen[backend]] == [[">>ind<<", "▁"]] * 2
    assert outputs["mtkit"] == outputs["hf"] == outputs["ct2"]


def test_model_codes_map_back_to_iso_codes():
    from mtkit.translate.languages import iso_language

    assert [iso_language(c) for c in ("zho_Hans", "zho_Hant", "zh_CN", "__zh__", "zho", "ind_Latn", "id_ID",
                                      "zsm_Latn", "hin_Deva", "en", "xx", "mul", None)] == [
        "zh", "zh", "zh", "zh", "zh", "id", "id", "ms", "hi", "en", "xx", "mul", None]


@pytest.mark.parametrize("name, src, tgt", [("nllb", "ind_Latn", "zho_Hans"), ("mbart", "id_ID", "zh_CN"),
                                            ("m2m100", "__id__", "__zh__")])
def test_a_long_input_in_model_codes_is_split_and_joined_as_its_language(multilingual, name, src, tgt):
    """zho_Hans as the target joined a long input's Chinese pieces with spaces, and as the source turned splitting
    off: the splitter and the joiner knew ISO codes only."""
    translator = Translator(multilingual[name], src_lang=src, tgt_lang=tgt)
    assert (translator._splitter.name, translator._join_lang) == ("sentencex-id", "zh")
    pieces = ["Polisi menangkap tersangka. ", "Mereka bekerja sama."]
    translator.max_input_tokens = max(len(translator.tokenizer(p).input_ids) for p in pieces)
    separately = translator.translate(pieces, max_length=4)
    assert all(separately)
    assert translator.translate(["".join(pieces)], max_length=4) == ["".join(separately)]


def test_a_long_input_without_a_source_language(marians, tmp_path, caplog):
    """A Marian's tokenizer declares its source (zh): a long line is split as Chinese; where nothing is known the
    warning says that splitting was off for want of a source language (it called the whole line "a sentence")."""
    line = "缅甸 警方。合作 合作。"
    translator = Translator(marians[0])
    assert translator._splitter.name == "zh"
    translator.max_input_tokens = 8
    with caplog.at_level("INFO", logger="mtkit.translate"):
        translator.translate([line], max_length=2)
    assert caplog.messages == ["line 1: 10 tokens, split into 2 sentences"]
    caplog.clear()
    translator = Translator(build_tiny_marian(tmp_path / "nopair", src_lang=None, tgt_lang=None))
    assert translator._splitter is None
    translator.max_input_tokens = 8
    with caplog.at_level("INFO", logger="mtkit.translate"):
        translator.translate([line], max_length=2)
    assert caplog.messages == ["line 1: 10 tokens, longer than the model's limit of 8; truncated, as no source "
                               "language was given (src_lang= / --src-lang) to split it at sentences"]


def test_no_transformers_warning_about_the_length_mtkit_measures(marians):
    """transformers warned "Token indices sequence length is longer than the specified maximum sequence length for
    this model (1201 > 512)" at its own limit, where mtkit splits or truncates the input at the model's (256)."""
    import logging

    translator = Translator(marians[0], src_lang="zh", tgt_lang="en")
    # a handler on transformers' own logger: it does not propagate, and its stream handler may write to whatever
    # stderr was when it was made (pytest's capture, before capfd's)
    records, handler = [], logging.Handler(logging.WARNING)
    handler.emit = records.append
    logging.getLogger("transformers").addHandler(handler)
    try:
        translator.translate(["合作 " * 600], max_length=2)
    finally:
        logging.getLogger("transformers").removeHandler(handler)
    assert [r.getMessage() for r in records] == []


def test_a_traditional_chinese_code_picks_the_models_traditional_code_or_is_refused():
    """zh-TW was refused for NLLB (its table knew zh-Hant only); MBart-50 has no Traditional Chinese, and zh-TW
    must not become its zh_CN."""
    from mtkit.translate.languages import MBART50, NLLB, _table_code

    assert [_table_code(NLLB, c) for c in ("zh", "ZH", "zh-CN", "zh-TW", "zh_TW", "zh-Hant", "zho_Hans", "en-US")] == [
        "zho_Hans", "zho_Hans", "zho_Hans", "zho_Hant", "zho_Hant", "zho_Hant", "zho_Hans", "eng_Latn"]
    assert [_table_code(MBART50, c) for c in ("zh-CN", "zh-TW", "zho_Hant", "id")] == [
        "zh_CN", "zh-TW", "zho_Hant", "id_ID"]
    # a region implies a Han script for Chinese only: English in Hong Kong, Malay in Singapore
    assert [_table_code(NLLB, c) for c in ("en-HK", "ms-SG", "en-SG")] == ["eng_Latn", "zsm_Latn", "eng_Latn"]

