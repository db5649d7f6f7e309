"""`mtkit translate` as a user runs it: bad settings and inputs get clear errors (no traceback, no empty file),
a resumed job never takes another model's chunks, and --dtype reaches CTranslate2."""

import pytest
import torch

from mtkit.cli import main
from mtkit.errors import BackendError, ConfigError, DataError
from mtkit.testing import build_tiny_m2m100, build_tiny_marian, build_tiny_mbart, build_tiny_nllb, build_tiny_t5
from mtkit.translate import Translator, read_inputs, translate_file

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


def test_progress_bars_on_request_when_stderr_is_a_file(marians, tmp_path, capsys):
    (tmp_path / "in.txt").write_text("\n".join(INPUTS) + "\n", encoding="utf-8")
    argv = ["translate", str(tmp_path / "in.txt"), "--model", str(marians[0]), "--out", str(tmp_path / "o.txt"),
            "--max-length", "4"]
    assert main(argv) == 0
    assert "translating" not in capsys.readouterr().err  # not a terminal: no bar by default
    assert main(["--progress", *argv[:5], str(tmp_path / "p.txt"), "--max-length", "4"]) == 0
    bar = capsys.readouterr().err
    assert "translating: 100%" in bar and "5/5" in bar and "sent/s" in bar


@pytest.mark.parametrize("name", ["m2m100", "nllb", "mbart", "t5", "marian-mul"])
def test_a_model_of_many_target_languages_needs_one(multilingual, name):
    # M2M100/NLLB/MBart got no forced first token and T5 no <2xx> prefix: the model drifted into any language
    with pytest.raises(ConfigError) as raised:
        Translator(multilingual[name], src_lang="zh")
    family = {"nllb": "m2m100", "marian-mul": "marian"}.get(name, name)
    assert str(raised.value) == f"this {family} model translates into many languages: give the target language (--tgt-lang)"


@pytest.mark.parametrize("name, default, splitter", [("m2m100", "en", "sentencex-en"), ("nllb", "zho_Hans", "zh"),
                                                     ("mbart", "zh_CN", "zh")])
def test_no_source_language_takes_the_tokenizers_with_a_warning(multilingual, caplog, name, default, splitter):
    """The tokenizer's saved (or class) default source code was used without a word; it still is (a fine-tuned
    model's saved source is right), with a warning, and long inputs are split as that language."""
    with caplog.at_level("WARNING", logger="mtkit.translate"):
        translator = Translator(multilingual[name], tgt_lang="en")
    assert caplog.messages == [f"no source language given (--src-lang): the tokenizer's default, {default}, is used"]
    assert translator._splitter.name == splitter


@pytest.mark.parametrize("src, tgt", [("zh", "xx"), ("id", "en"), ("zh", "fr"), ("zh", "mul")])
def test_a_marian_pair_other_than_the_models(marians, src, tgt):
    # a zh-en model ran as id->fr, its output signed tgt:fr
    with pytest.raises(ConfigError) as raised:
        Translator(marians[0], src_lang=src, tgt_lang=tgt)
    assert str(raised.value) == (f"language {src if src != 'zh' else tgt!r} is not this model's: it translates zh->en "
                                 "(its tokenizer's source_lang and target_lang)")


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
                               "language was given (--src-lang) to split it at sentences"]


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
