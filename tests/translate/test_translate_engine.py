"""The translation engine: token-for-token equality with generate, batching, files, resume, bad input."""

import pytest
import torch

from mtkit.cli import main
from mtkit.errors import ConfigError, DataError
from mtkit.testing import (build_tiny_m2m100, build_tiny_marian, build_tiny_mbart, build_tiny_nllb, build_tiny_t5,
                           train_copy_model)
from mtkit.translate import Translator, read_inputs, translate_file

SOURCES = ["公安部严打电诈跨国犯罪", "Polisi menangkap lebih dari 50.000 tersangka", "缅甸警方",
           "缅甸警方一次性移交了白所成等10名重大的电诈头目,已累计抓获缅北涉诈犯罪嫌疑人5万多名。", "合作"]


@pytest.fixture(autouse=True)
def pack_tiny_layers(monkeypatch):
    """On the CPU the engine packs layers of a million multiply-adds and more (mtkit.cpu.PackedLinears.MIN_MACS),
    which every layer of a real model is and few of these tiny models' are: here they all go the real models' way,
    so that the equality checks with generate cover oneDNN's arithmetic."""
    from mtkit.cpu import PackedLinears

    monkeypatch.setattr(PackedLinears, "MIN_MACS", 0)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    marian = build_tiny_marian(root / "marian")
    m2m = build_tiny_m2m100(root / "m2m100")
    trained = train_copy_model(marian, root / "trained")
    t5 = build_tiny_t5(root / "t5")
    return {"marian": marian, "m2m100": m2m, "trained": trained, "mbart": build_tiny_mbart(root / "mbart"),
            "nllb": build_tiny_nllb(root / "nllb"), "t5": t5, "umt5": _tiny_umt5(t5, root / "umt5"),
            "mt5real": _tiny_mt5(t5, root / "mt5real"),
            # mT5/MADLAD shape: gated GELU, output layer not tied to the embeddings (so no output scaling)
            "mt5": build_tiny_t5(root / "mt5", feed_forward_proj="gated-gelu", tie_word_embeddings=False)}


def _tiny_umt5(t5, out):
    """UMT5 (a relative position bias per block): no static decoder, so the model steps with its own cache."""
    from transformers import AutoTokenizer, UMT5Config, UMT5ForConditionalGeneration

    torch.manual_seed(0)
    config = UMT5Config.from_pretrained(t5)
    config = UMT5Config(**{k: v for k, v in config.to_dict().items() if k not in ("architectures", "model_type")})
    UMT5ForConditionalGeneration(config).save_pretrained(out)
    AutoTokenizer.from_pretrained(t5).save_pretrained(out)
    return out


def _tiny_mt5(t5, out):
    """An MT5ForConditionalGeneration (model_type mt5), gated GELU: transformers 5 never scales its decoder output."""
    from transformers import AutoConfig, AutoTokenizer, MT5Config, MT5ForConditionalGeneration

    torch.manual_seed(0)
    t5_config = AutoConfig.from_pretrained(t5)
    config = MT5Config(feed_forward_proj="gated-gelu", **{k: getattr(t5_config, k) for k in (
        "vocab_size", "d_model", "d_kv", "num_layers", "num_heads", "d_ff", "pad_token_id", "eos_token_id",
        "decoder_start_token_id", "initializer_factor")})
    MT5ForConditionalGeneration(config).save_pretrained(out)
    AutoTokenizer.from_pretrained(t5).save_pretrained(out)
    return out


@pytest.mark.parametrize("name, langs, static", [
    ("marian", (None, None), True),
    ("m2m100", ("zh", "en"), True),
    ("nllb", ("zh", "id"), True),
    ("mbart", ("zh", "en"), True),
    ("t5", ("zh", "en"), True),
    ("mt5", ("zh", "en"), True),
    ("umt5", ("zh", "en"), False),  # no static decoder: the model steps with its own cache
    ("trained", (None, None), True),
])
def test_greedy_ids_equal_generate(models, name, langs, static):
    hf = Translator(models[name], backend="hf", src_lang=langs[0], tgt_lang=langs[1])
    ours = Translator(models[name], backend="mtkit", src_lang=langs[0], tgt_lang=langs[1])
    ids = [hf.tokenizer(hf.prefix + s).input_ids for s in SOURCES]
    for max_length in (1, 16):
        expected = hf.backend.translate_batch(ids, max_length=max_length)
        got = ours.backend.translate_batch(ids, max_length=max_length)
        assert got == expected
    assert bool(ours.backend._decoder) == static
    if static:  # finished rows kept (emitting padding) until half the batch is done, as on CUDA
        ours.backend.defer_compaction = True
        assert ours.backend.translate_batch(ids, max_length=16) == expected
    if name == "trained":  # outputs of different lengths: rows left the batch at different steps
        assert len({len(x) for x in got}) > 1


@pytest.mark.parametrize("name, src, tgt, src_code, src_token, first_token, prefix", [
    ("m2m100", "zh", "en", "zh", "__zh__", "__en__", ""),
    ("nllb", "zh", "id", "zho_Hans", "zho_Hans", "ind_Latn", ""),
    ("nllb", "id", "en", "ind_Latn", "ind_Latn", "eng_Latn", ""),
    ("mbart", "zh", "en", "zh_CN", "zh_CN", "en_XX", ""),
    ("mbart", "en", "id", "en_XX", "en_XX", "id_ID", ""),
    ("t5", "zh", "en", None, "<2en>", None, "<2en> "),
    ("marian", "zh", "en", None, None, None, ""),
])
def test_language_codes(models, name, src, tgt, src_code, src_token, first_token, prefix):
    tr = Translator(models[name], backend="mtkit", src_lang=src, tgt_lang=tgt)
    assert getattr(tr.tokenizer, "src_lang", None) == src_code
    tokens = tr.tokenizer.convert_ids_to_tokens(tr.tokenizer(tr.prefix + "合作").input_ids)
    assert (tokens[0] if src_token else None) == src_token
    forced = tr.backend.forced_bos_token_id
    assert (tr.tokenizer.convert_ids_to_tokens(forced) if forced is not None else None) == first_token
    assert tr.prefix == prefix


@pytest.mark.parametrize("name, tgt, message", [
    ("nllb", "xx", r"language 'xx' \(xx\) is not known to this model; known: .*eng_Latn.*zho_Hans"),
    ("mbart", "xx", r"language 'xx' \(xx\) is not known to this model; known: .*en_XX.*zh_CN"),
    ("t5", "fr", r"language 'fr': this model has no <2fr> token; known: <2en>, <2id>, <2zh>"),
])
def test_unknown_target_language(models, name, tgt, message):
    with pytest.raises(ConfigError, match=message):
        Translator(models[name], src_lang="zh", tgt_lang=tgt)


def test_forced_target_language_token(models):
    ours = Translator(models["m2m100"], backend="mtkit", src_lang="zh", tgt_lang="en")
    assert ours.backend.forced_bos_token_id == ours.tokenizer.get_lang_id("en")
    assert ours.tokenizer.src_lang == "zh"


@pytest.mark.parametrize("name, langs, early_stopping, length_penalty, beams, min_length", [
    ("trained", (None, None), False, 1.0, 4, 0),
    ("trained", (None, None), True, 1.0, 4, 0),
    ("trained", (None, None), "never", 2.0, 4, 0),
    ("trained", (None, None), False, -0.5, 3, 5),
    ("marian", (None, None), False, 1.0, 4, 0),
    ("m2m100", ("zh", "en"), False, 0.6, 4, 0),
    ("nllb", ("zh", "id"), False, 1.0, 4, 0),
    ("t5", ("zh", "en"), False, 1.0, 4, 0),
    ("mt5", ("zh", "en"), False, 0.6, 4, 3),
    ("mt5real", ("zh", "en"), False, 1.0, 4, 0),  # the output unscaled, as MT5ForConditionalGeneration has it
    pytest.param("mbart", ("zh", "en"), False, 1.0, 4, 0, marks=pytest.mark.slow),
])
def test_beam_search_equals_generate(models, name, langs, early_stopping, length_penalty, beams, min_length):
    hf = Translator(models[name], backend="hf", src_lang=langs[0], tgt_lang=langs[1])
    ours = Translator(models[name], backend="mtkit", src_lang=langs[0], tgt_lang=langs[1])
    for tr in (hf, ours):
        tr.model.generation_config.early_stopping = early_stopping
    ids = [hf.tokenizer(hf.prefix + s).input_ids for s in SOURCES + ["缅甸 警方", "公安 部 严打 电诈 跨国 犯罪"]]
    kwargs = dict(beam_size=beams, max_length=20, length_penalty=length_penalty, min_length=min_length)
    got = ours.backend.translate_batch(ids, **kwargs)
    expected = hf.backend.translate_batch(ids, **kwargs)
    assert got == expected
    if (name, early_stopping, length_penalty) == ("trained", False, 1.0):  # sentences left the batch at different steps
        assert len({len(x) for x in got}) > 1
        ours.backend.defer_compaction = True  # finished sentences kept until half the batch is done, as on CUDA
        assert ours.backend.translate_batch(ids, **kwargs) == expected


# what a model saved after Seq2SeqTrainer's evaluation spelled out (transformers 5.23): the older defaults
SAVED_BY_A_TRAINER = {"assistant_confidence_threshold": 0.4, "assistant_lookbehind": 10, "diversity_penalty": 0.0,
                      "do_sample": False, "encoder_no_repeat_ngram_size": 0, "encoder_repetition_penalty": 1.0,
                      "epsilon_cutoff": 0.0, "eta_cutoff": 0.0, "num_assistant_tokens": 20,
                      "num_assistant_tokens_schedule": "constant", "num_beam_groups": 1, "output_scores": False,
                      "return_dict_in_generate": False, "target_lookbehind": 10, "temperature": 1.0, "top_k": 50,
                      "top_p": 1.0, "typical_p": 1.0}


@pytest.mark.parametrize("settings, to_generate", [
    (SAVED_BY_A_TRAINER, []),
    ({"suppress_tokens": [5], "num_beam_groups": 1}, ["suppress_tokens"]),
    ({"encoder_repetition_penalty": 1.2}, ["encoder_repetition_penalty"]),
])
def test_neutral_generation_settings_keep_the_engine(models, tmp_path, caplog, settings, to_generate):
    """A fine-tuned model's generation config spelled out sampling and assisted-decoding values that greedy and
    beam search never read, and neutral values of the rest: every batch went to generate. Those stay on the
    engine (the same ids as generate); a setting the engine does not have still goes to generate, with a warning."""
    from transformers import GenerationConfig

    config = GenerationConfig.from_pretrained(models["marian"])
    for key, value in settings.items():
        setattr(config, key, value)
    ours = Translator(models["marian"], backend="mtkit")
    ours.model.generation_config = config
    assert ours.backend._unsupported_generation_fields() == to_generate
    ids = [ours.tokenizer(s).input_ids for s in SOURCES]
    with caplog.at_level("WARNING", logger="mtkit.translate"):
        got = ours.backend.translate_batch(ids, beam_size=2, max_length=12)
        ours.backend.translate_batch(ids[:2], beam_size=2, max_length=12)  # said once per model
    assert caplog.messages == ([f"the model's generation config sets {', '.join(to_generate)}, which the mtkit engine "
                                "does not have: decoding with generate (remove them from generation_config.json to "
                                "use the engine)"] if to_generate else [])
    if not to_generate:
        hf = Translator(models["marian"], backend="hf")
        hf.model.generation_config = config
        assert got == hf.backend.translate_batch(ids, beam_size=2, max_length=12)


def test_t5_output_scaling_follows_the_model():
    """transformers 5 forces tie_word_embeddings True in T5Config and MT5Config; the scaling is what the forward
    does: a T5 by what tie_word_embeddings was given as (scale_decoder_outputs), an mT5 never."""
    from transformers import MT5Config, T5Config

    from mtkit.translate.decoder import t5_scales_outputs

    assert [t5_scales_outputs(c) for c in (T5Config(), T5Config(tie_word_embeddings=False), MT5Config(),
                                           MT5Config(scale_decoder_outputs=True))] == [True, False, False, False]


def test_cache_capacity_doubles_up_to_max_length():
    from mtkit.translate.decoder import CACHE_START, cache_capacity

    assert cache_capacity(1, 256) == CACHE_START == 64
    assert [cache_capacity(n, 256, 64) for n in (64, 65, 129, 200, 256)] == [64, 128, 256, 256, 256]
    assert [cache_capacity(n, 20, start=3) for n in (1, 4, 7, 13, 20)] == [3, 6, 12, 20, 20]
    assert cache_capacity(1, 16) == 16  # never past max_length
    assert cache_capacity(1, 0) == 0  # no step to run: no position (it looped for ever)


@pytest.mark.parametrize("name, langs", [("trained", (None, None)), ("m2m100", ("zh", "en")), ("nllb", ("zh", "id")),
                                         ("mt5", ("zh", "en"))])
@pytest.mark.parametrize("beams", [1, 4])
@pytest.mark.parametrize("defer", [False, True])
def test_a_growing_cache_gives_generates_ids(models, name, langs, beams, defer):
    """The self-attention cache starts small and doubles as steps reach its end (3 -> 6 -> 12 -> 20 here), also
    while finished rows wait for compaction (as on CUDA): the ids stay generate's."""
    hf = Translator(models[name], backend="hf", src_lang=langs[0], tgt_lang=langs[1])
    ours = Translator(models[name], backend="mtkit", src_lang=langs[0], tgt_lang=langs[1])
    ours.backend.cache_start, ours.backend.defer_compaction = 3, defer
    ids = [hf.tokenizer(s).input_ids for s in SOURCES + ["缅甸 警方", "公安 部 严打 电诈 跨国 犯罪"]]
    kwargs = dict(beam_size=beams, max_length=20)
    got = ours.backend.translate_batch(ids, **kwargs)
    assert got == hf.backend.translate_batch(ids, **kwargs)
    assert max(len(x) for x in got) > 12  # a step wrote past two growths


@pytest.mark.parametrize("beams", [1, 4])
@pytest.mark.parametrize("min_length", [0, 7])
@pytest.mark.parametrize("setting", [{}, {"repetition_penalty": 1.3}, {"no_repeat_ngram_size": 2},
                                     {"forced_eos_token_id": 0}])
def test_score_rules_equal_generate(models, beams, min_length, setting):
    """Minimum length and forced EOS run in the step (graph-capturable); repetition penalty and no-repeat
    n-grams go through transformers' own processors, eagerly. Both give generate's ids."""
    hf = Translator(models["trained"], backend="hf")
    ours = Translator(models["trained"], backend="mtkit")
    for tr in (hf, ours):
        for key, value in setting.items():
            setattr(tr.model.generation_config, key, value)
    ids = [hf.tokenizer(s).input_ids for s in SOURCES + ["缅甸 警方", "公安 部 严打 电诈 跨国 犯罪"]]
    kwargs = dict(beam_size=beams, max_length=12, min_length=min_length)
    expected = hf.backend.translate_batch(ids, **kwargs)
    assert ours.backend.translate_batch(ids, **kwargs) == expected
    assert ours.backend._rules(12, min_length, "cpu").graphable == (set(setting) <= {"forced_eos_token_id"})
    if min_length:
        assert min(len(x) for x in expected) >= min_length - 1  # EOS, stripped, was held back


def test_translate_keeps_order_and_empty_lines(models):
    tr = Translator(models["trained"], backend="mtkit")
    inputs = ["缅甸 警方", "", "公安 部 严打 电诈 跨国 犯罪", "   ", "合作"]
    out = tr.translate(inputs, max_length=12, max_batch_tokens=16)
    assert out[1] == "" and out[3] == ""
    single = [tr.translate([s], max_length=12)[0] for s in inputs]
    assert out == single


def test_unknown_language_lists_the_known_codes(models):
    with pytest.raises(ConfigError, match=r"language 'xx' \(xx\) is not known to this model; known: .*zh"):
        Translator(models["m2m100"], src_lang="zh", tgt_lang="xx")


def killed_after_one_chunk(translator, inputs, out, **settings) -> None:
    """Run a file job that is interrupted in its second chunk (a killed run): the first chunk's file stays."""
    real, calls = translator.translate, []

    def dies_on_the_second_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    translator.translate = dies_on_the_second_chunk
    try:
        with pytest.raises(KeyboardInterrupt):
            translate_file(translator, inputs, out, **settings)
    finally:
        del translator.translate  # the method again


def test_file_job_resumes_and_gives_the_same_file(models, tmp_path):
    tr = Translator(models["trained"], backend="mtkit")
    inputs = ["缅甸 警方", "合作", "", "公安 部", "泰国 警方 合作"]
    whole = translate_file(tr, inputs, tmp_path / "whole.txt", chunk_size=2, max_length=10)
    killed_after_one_chunk(tr, inputs, tmp_path / "resumed.txt", chunk_size=2, max_length=10)
    assert not (tmp_path / "resumed.txt").exists()
    resumed = translate_file(tr, inputs, tmp_path / "resumed.txt", chunk_size=2, max_length=10)
    assert resumed.read_text(encoding="utf-8") == whole.read_text(encoding="utf-8")
    assert len(whole.read_text(encoding="utf-8").splitlines()) == 5
    assert not (tmp_path / "resumed.txt.partial").exists()
    # a rerun at another chunk size does not take the chunks of the first (same index, other lines)
    killed_after_one_chunk(tr, inputs, tmp_path / "sizes.txt", chunk_size=2, max_length=10)
    other = translate_file(tr, inputs, tmp_path / "sizes.txt", chunk_size=3, max_length=10)
    assert other.read_text(encoding="utf-8") == whole.read_text(encoding="utf-8")


def test_read_inputs(tmp_path, caplog):
    (tmp_path / "a.txt").write_bytes("第一行\n\nline three\n".encode())
    assert read_inputs(tmp_path / "a.txt") == ["第一行", "", "line three"]
    # not UTF-8: read line by line as a guessed encoding says, with a warning naming the first bad line (a UTF-16
    # guess for text without NUL bytes made one line of mojibake out of two)
    (tmp_path / "b.txt").write_bytes(b"ok\n\xff\xfe bad\n")
    assert read_inputs(tmp_path / "b.txt")[0] == "ok"
    assert "b.txt: not UTF-8 text (line 2: invalid start byte); read as cp" in caplog.text
    # PowerShell's `>` writes UTF-16 with a BOM
    (tmp_path / "ps.txt").write_bytes("公安部\r\nline two\r\n".encode("utf-16"))
    assert read_inputs(tmp_path / "ps.txt") == ["公安部", "line two"]
    (tmp_path / "c.jsonl").write_text('{"text": "公安部"}\n{"src": "x"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"c.jsonl:2: no field 'text' \(fields: src\)"):
        read_inputs(tmp_path / "c.jsonl")



def test_cli_translate(models, tmp_path, capsys):
    (tmp_path / "in.txt").write_text("缅甸 警方\n\n合作\n", encoding="utf-8")
    assert main(["translate", str(tmp_path / "in.txt"), "--model", str(models["trained"]), "--out",
                 str(tmp_path / "out.txt"), "--max-length", "10"]) == 0
    assert len((tmp_path / "out.txt").read_text(encoding="utf-8").splitlines()) == 3
    assert "3 lines ->" in capsys.readouterr().out
    assert main(["translate", str(tmp_path / "in.txt"), "--model", str(models["trained"]), "--out",
                 str(tmp_path / "o.txt"), "--backend", "fast"]) == 2
    assert "unknown backend 'fast'; known: auto, ct2, hf, mtkit" in capsys.readouterr().err


def test_ct2_backend_equals_generate(models, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # the converted model is cached under ~/.cache/mtkit/ct2
    hf = Translator(models["trained"], backend="hf")
    ct2 = Translator(models["trained"], backend="ct2")
    ids = [hf.tokenizer(s).input_ids for s in ["缅甸 警方", "公安 部 严打 电诈", "合作"]]
    assert ct2.backend.translate_batch(ids, max_length=12) == hf.backend.translate_batch(ids, max_length=12)
    assert len(list((tmp_path / ".cache" / "mtkit" / "ct2").glob("*/model.bin"))) == 1
    assert ct2.translate(["缅甸 警方", "", "合作"], max_length=12) == hf.translate(["缅甸 警方", "", "合作"], max_length=12)


@pytest.mark.parametrize("name, src, tgt", [("m2m100", "zh", "en"), ("nllb", "zh", "id"), ("mbart", "zh", "en"),
                                           ("t5", "zh", "en"), ("mt5", "zh", "en"), ("mt5real", "zh", "en")])
def test_ct2_converts_multilingual_models(models, tmp_path, monkeypatch, name, src, tgt):
    """CTranslate2 4.8's loaders, as shipped, fail on M2M100 and mBART under transformers 5 (M2M100: vocabulary 100
    language tokens short; mBART: no normalize_before, no bos_token); mtkit's conversion fixes them. T5 and mT5
    convert, but the loader scaled the output of an untied T5 and of any mT5 (transformers 5 forces
    tie_word_embeddings True): greedy's argmax the same, beam search's not. The forced target
    language goes to CTranslate2 as the target prefix; the ids must equal generate's (T5's in beam search too)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    hf = Translator(models[name], backend="hf", src_lang=src, tgt_lang=tgt)
    ct2 = Translator(models[name], backend="ct2", src_lang=src, tgt_lang=tgt)
    ids = [hf.tokenizer(hf.prefix + s).input_ids for s in SOURCES]
    expected = hf.backend.translate_batch(ids, max_length=12)
    assert ct2.backend.translate_batch(ids, max_length=12) == expected
    assert any(expected)
    if name in ("t5", "mt5", "mt5real"):  # (mBART's beams differ from generate's here: not looked into)
        expected = hf.backend.translate_batch(ids, beam_size=4, max_length=12)
        assert ct2.backend.translate_batch(ids, beam_size=4, max_length=12) == expected
    assert ct2.translate(SOURCES[:2], max_length=12) == hf.translate(SOURCES[:2], max_length=12)


def test_long_input_is_split_at_sentences_or_truncated(models, caplog):
    tr = Translator(models["trained"], backend="mtkit", src_lang="zh")
    tr.max_input_tokens = 8
    two = "缅甸 警方。合作 合作。"
    calls = []
    real = tr.backend.translate_batch
    tr.backend.translate_batch = lambda ids, **kw: calls.append([len(x) for x in ids]) or real(ids, **kw)
    tr.translate([two], max_length=6)
    assert sorted(calls[0]) == sorted(len(tr.tokenizer(s).input_ids) for s in ["缅甸 警方。", "合作 合作。"])
    calls.clear()
    with caplog.at_level("WARNING", logger="mtkit.translate"):
        tr.translate(["合作", "公安 部 严打 电诈 跨国 犯罪 缅甸 警方 合作 泰国"], max_length=6)
    assert "line 2: a sentence of 22 tokens is longer than the model's limit of 8; truncated" in caplog.text
    assert sorted(calls[0]) == [3, 8]


def test_out_of_memory_halves_the_batch(models, caplog):
    tr = Translator(models["trained"], backend="mtkit")
    real = tr.backend.translate_batch
    sizes = []

    def small_gpu(ids, **kw):
        sizes.append(len(ids))
        if len(ids) > 2:
            raise torch.OutOfMemoryError("CUDA out of memory")
        return real(ids, **kw)

    inputs = ["缅甸 警方", "合作", "公安 部", "泰国 警方 合作", "电诈"]
    expected = tr.translate(inputs, max_length=8)
    tr.backend.translate_batch = small_gpu
    with caplog.at_level("WARNING", logger="mtkit.translate"):
        assert tr.translate(inputs, max_length=8) == expected
    assert sizes == [5, 2, 3, 1, 2]
    assert "out of GPU memory on a batch of 5; retrying as two batches" in caplog.text


def _built_dataset(root):
    """A folder as `mtkit build` writes it: README.md declaring configs/data_files + data/<config>/<split>-*.parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = {"test": [{"en": "Police", "zh": "缅甸 警方"}, {"en": "", "zh": ""}, {"en": "Cooperation", "zh": "合作"}],
            "validation": [{"en": "Ministry", "zh": "公安 部"}]}
    for split, pairs in rows.items():
        (root / "data" / "en-zh").mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table({"translation": pairs}), root / "data" / "en-zh" / f"{split}-00000-of-00001.parquet")
    (root / "README.md").write_text(
        "---\nconfigs:\n- config_name: en-zh\n  data_files:\n  - split: validation\n    path: data/en-zh/validation-*\n"
        "  - split: test\n    path: data/en-zh/test-*\n---\n# tiny\n", encoding="utf-8")
    return root


@pytest.mark.parametrize("split, expected", [("test", ["缅甸 警方", "", "合作"]), ("dev", ["公安 部"])])
def test_read_inputs_from_a_built_dataset(tmp_path, split, expected):
    folder = _built_dataset(tmp_path / "ds")
    assert read_inputs(folder, split=split, config="en-zh", src_lang="zh") == expected
    with pytest.raises(ConfigError, match="^a dataset folder as input needs --split and --src-lang, and --tgt-lang or "
                                          "--config$"):
        read_inputs(folder, config="en-zh", src_lang="zh")


def test_cli_translates_a_dataset_split(models, tmp_path, capsys):
    folder = _built_dataset(tmp_path / "ds")
    assert main(["translate", str(folder), "--model", str(models["trained"]), "--src-lang", "zh", "--config", "en-zh",
                 "--split", "test", "--out", str(tmp_path / "out.txt"), "--max-length", "8", "--beam", "2"]) == 0
    lines = (tmp_path / "out.txt").read_text(encoding="utf-8").split("\n")
    assert len(lines) == 4 and lines[1] == "" and lines[3] == ""
    assert "3 lines ->" in capsys.readouterr().out


def test_max_length_over_the_model_positions(models):
    tr = Translator(models["marian"], backend="mtkit")
    with pytest.raises(ConfigError, match="max_length 300 is over the model's 256 decoder positions; use "
                                          "max_length=256 / --max-length 256 or less$"):
        tr.translate(["合作"], max_length=300)


def test_ct2_on_a_lora_adapter_folder_says_what_to_pass(models, tmp_path, monkeypatch):
    """An adapter folder (`mtkit finetune` with merge_lora: false) loads for mtkit and hf, merged into its base;
    CTranslate2 converts from the path, which transformers cannot read: a clear error, not its "Unrecognized model"."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    from mtkit.errors import BackendError

    monkeypatch.setenv("HOME", str(tmp_path))
    base = AutoModelForSeq2SeqLM.from_pretrained(models["t5"])
    get_peft_model(base, LoraConfig(r=2, target_modules=["q", "v"])).save_pretrained(tmp_path / "adapter")
    AutoTokenizer.from_pretrained(models["t5"]).save_pretrained(tmp_path / "adapter")  # as mtkit finetune keeps it
    assert Translator(tmp_path / "adapter", backend="hf", src_lang="zh", tgt_lang="en").translate(["合作"], max_length=4)
    with pytest.raises(BackendError, match=r"^CTranslate2 cannot convert .*adapter: a LoRA adapter, not a model; pass "
                                           r"the merged model \(RUN/final/merged, from merge_lora: true\) or another "
                                           r"backend \(backend='mtkit' / --backend mtkit or hf\)$"):
        Translator(tmp_path / "adapter", backend="ct2", src_lang="zh", tgt_lang="en")


def test_packed_linears_applied_to_a_model_only_inside_the_block(models):
    from mtkit.cpu import PackedLinears

    translator = Translator(models["marian"], backend="hf")
    model = translator.model
    ids = translator.tokenizer(SOURCES[:3], return_tensors="pt", padding=True)
    linears = PackedLinears()
    with torch.no_grad():
        expected = model.get_encoder()(**ids).last_hidden_state
        with linears.applied_to(model):
            got = model.get_encoder()(**ids).last_hidden_state
        assert len(linears._packed) == 4 * 2 + 2 * 2  # q, k, v, out and fc1, fc2 of the tiny model's two layers
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    assert not any("forward" in vars(m) for m in model.modules())


@pytest.mark.parametrize("name, family", [("marian", "marian"), ("t5", "t5")])
def test_cpu_engine_runs_its_linear_layers_packed(models, name, family, monkeypatch):
    """On the CPU the engine's encoder, decoder layers and output layer go through oneDNN with packed weights
    (the equality tests above then check generate's ids on that path); the output layer is the model's own
    weight, not a padded copy (padding is for cuBLAS)."""
    from mtkit.translate.decoder import static_decoder
    from mtkit.cpu import PackedLinears

    calls = []
    real = PackedLinears.__call__

    def counted(self, x, weight, bias=None):
        calls.append(weight.shape)
        return real(self, x, weight, bias)

    monkeypatch.setattr(PackedLinears, "__call__", counted)
    translator = Translator(models[name], backend="mtkit", src_lang="zh", tgt_lang="en")
    hf = Translator(models[name], backend="hf", src_lang="zh", tgt_lang="en")
    assert translator.translate(SOURCES[:2], max_length=6) == hf.translate(SOURCES[:2], max_length=6)
    vocab = translator.model.lm_head.weight.shape
    assert vocab in calls and len(calls) > 6 * 4
    packed = translator.backend._linears._packed.values()
    assert len(packed) > 6 and all(entry[2] is not None for entry in packed)  # oneDNN's, not F.linear
    assert static_decoder(translator.model, family).output_layer()[0].data_ptr() == \
        translator.model.lm_head.weight.data_ptr()


def test_cpu_batches_hold_64_sentences_and_128_decoder_rows(models, monkeypatch):
    """On a CPU the mtkit engine is fastest at 32-64 sentences greedy and 128 rows (32 sentences) at beam 4; a size
    the caller gives wins."""
    translator = Translator(models["marian"], backend="mtkit")
    sizes = []

    def run(batch, units, beam_size, *args):
        sizes.append(len(batch))
        return [[] for _ in batch]

    monkeypatch.setattr(translator, "_run", run)
    sentences = ["缅甸 警方"] * 200
    for beam, kwargs, expected in ((1, {}, 64), (4, {}, 32), (5, {}, 25), (4, {"max_batch_size": 100}, 100),
                                   (4, {"max_batch_size": 0}, 200)):
        sizes.clear()
        translator.translate(sentences, beam_size=beam, **kwargs)
        assert max(sizes) == expected and sum(sizes) == 200
    hf = Translator(models["marian"], backend="hf")  # the bound is the mtkit engine's; other backends keep theirs
    monkeypatch.setattr(hf, "_run", run)
    sizes.clear()
    hf.translate(sentences, beam_size=4)
    assert sizes == [200]
