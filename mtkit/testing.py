"""Tiny random-weight translation models with real tokenizers, and synthetic corpora, for tests, benchmarks and
CPU smoke runs.

No weights are downloaded anywhere in mtkit's tests: these builders make a sentencepiece model trained on the
shipped corpus and a small Marian or M2M100 model from a config, and save both with ``save_pretrained`` so that
``from_pretrained(path)`` loads them exactly as it would load a hub model. ``shape="opus-mt-zh-en"`` or
``"nllb-600m"`` gives the real models' shapes for benchmarks (random weights).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Iterable

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpora" / "mps-fraud-2024"

SHAPES = {
    # a larger init_std than the default keeps a random model's output dependent on its input
    "tiny": dict(init_std=0.3, d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=2,
                 decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64),
    "opus-mt-zh-en": dict(d_model=512, encoder_layers=6, decoder_layers=6, encoder_attention_heads=8,
                          decoder_attention_heads=8, encoder_ffn_dim=2048, decoder_ffn_dim=2048),
    "nllb-600m": dict(d_model=1024, encoder_layers=12, decoder_layers=12, encoder_attention_heads=16,
                      decoder_attention_heads=16, encoder_ffn_dim=4096, decoder_ffn_dim=4096),
}


def corpus_texts(corpus_dir: str | Path = CORPUS, langs: Iterable[str] = ("zh", "en", "id")) -> list[str]:
    """Non-empty lines of the corpus's raw pages that are (partly) in one of ``langs``, by the manifest's
    ``languages`` (no dependence on ingest: the tokenizer sees page text)."""
    import yaml

    langs = set(langs)
    manifest = yaml.safe_load(Path(corpus_dir, "manifest.yaml").read_text(encoding="utf-8"))
    lines = []
    for doc in sorted(manifest["documents"], key=lambda d: d["file"]):
        if langs & set(doc.get("languages", ())):
            text = Path(corpus_dir, doc["file"]).read_text(encoding="utf-8")
            lines += [line.strip() for line in text.splitlines() if line.strip()]
    return lines


# sentencepiece ids of (unk, bos, eos, pad), -1 for none: mtkit's own layout, whose pieces 0-2 are ordinary
# pieces, and fairseq's (mBART, NLLB), which transformers' converters expect: they drop pieces 0-2 as <unk>, <s>,
# </s> and put fairseq's four control tokens first
SPM_LAYOUTS = {"plain": (3, -1, -1, -1), "fairseq": (0, 1, 2, -1)}


def train_sentencepiece(texts: Iterable[str], out_prefix: str | Path, *, vocab_size: int = 2000,
                        model_type: str = "unigram", user_defined_symbols: Iterable[str] = (),
                        layout: str = "plain") -> Path:
    """Train a sentencepiece model on ``texts``; deterministic (one thread, fixed seed sentence order)."""
    import sentencepiece as spm

    out_prefix = Path(out_prefix)
    out_prefix.parent.mkdir(parents=True, exist_ok=True)
    corpus = out_prefix.with_suffix(".train.txt")
    corpus.write_text("\n".join(texts) + "\n", encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(out_prefix), vocab_size=vocab_size, model_type=model_type,
        character_coverage=1.0, num_threads=1, shuffle_input_sentence=False, minloglevel=2,
        hard_vocab_limit=False, user_defined_symbols=list(user_defined_symbols),
        **dict(zip(("unk_id", "bos_id", "eos_id", "pad_id"), SPM_LAYOUTS[layout])))
    corpus.unlink()
    return out_prefix.with_suffix(".model")


@functools.lru_cache(maxsize=4)
def _corpus_spm(cache_dir: str, vocab_size: int, layout: str = "plain") -> Path:
    name = f"corpus-{vocab_size}" if layout == "plain" else f"corpus-{layout}-{vocab_size}"
    return train_sentencepiece(corpus_texts(), Path(cache_dir) / name, vocab_size=vocab_size, layout=layout)


@functools.lru_cache(maxsize=4)
def _corpus_bpe(cache_dir: str, vocab_size: int) -> Path:
    # NLLB's sentencepiece model is BPE, and its transformers-5 tokenizer converts only BPE models
    return train_sentencepiece(corpus_texts(), Path(cache_dir) / f"corpus-bpe-{vocab_size}", vocab_size=vocab_size,
                               model_type="bpe")


def _spm_pieces(model_path: Path) -> list[str]:
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(model_path))
    return [sp.id_to_piece(i) for i in range(sp.get_piece_size())]


def _dims(shape: str, d_model, layers, heads, ffn) -> dict:
    """A SHAPES entry with explicitly given sizes on top (BART-family config names)."""
    from .errors import ConfigError

    if shape not in SHAPES:
        raise ConfigError(f"unknown model shape {shape!r}; known: {', '.join(SHAPES)}")
    dims = dict(SHAPES[shape])
    for key, value in (("d_model", d_model), ("encoder_layers", layers), ("decoder_layers", layers),
                       ("encoder_attention_heads", heads), ("decoder_attention_heads", heads),
                       ("encoder_ffn_dim", ffn), ("decoder_ffn_dim", ffn)):
        if value is not None:
            dims[key] = value
    return dims


def _save(model_cls, config, tokenizer, out: Path, seed: int) -> Path:
    import torch

    torch.manual_seed(seed)
    model = model_cls(config).eval()
    model.generation_config.max_length = 64
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def build_tiny_marian(out_dir: str | Path, *, src_lang: str = "zh", tgt_lang: str = "en", shape: str = "tiny",
                      d_model: int | None = None, layers: int | None = None, heads: int | None = None,
                      ffn: int | None = None, vocab_size: int = 2000, seed: int = 0, target_codes: Iterable[str] = (),
                      **config_overrides) -> Path:
    """A random-weight MarianMTModel + MarianTokenizer (source.spm, target.spm, vocab.json), saved.

    ``src_lang``/``tgt_lang`` only name the pair (one pair per Marian model, as opus-mt-zh-en); ``target_codes``
    (ind, eng, ...) make a multi-target model, as opus-mt-en-mul, with a ``>>ind<<`` token each in its vocabulary."""
    import shutil

    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    spm_model = _corpus_spm(str(out.parent / ".spm"), vocab_size)
    vocab = {"</s>": 0, "<unk>": 1}
    for piece in _spm_pieces(spm_model):
        vocab.setdefault(piece, len(vocab))
    for code in target_codes:
        vocab[f">>{code}<<"] = len(vocab)
    vocab["<pad>"] = len(vocab)
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    shutil.copy(spm_model, out / "source.spm")
    shutil.copy(spm_model, out / "target.spm")
    tokenizer = MarianTokenizer(str(out / "source.spm"), str(out / "target.spm"), str(out / "vocab.json"),
                                source_lang=src_lang, target_lang=tgt_lang)
    config = MarianConfig(vocab_size=len(vocab), pad_token_id=vocab["<pad>"], eos_token_id=0,
                          decoder_start_token_id=vocab["<pad>"], max_position_embeddings=256,
                          **{**_dims(shape, d_model, layers, heads, ffn), **config_overrides})
    return _save(MarianMTModel, config, tokenizer, out, seed)


def build_tiny_m2m100(out_dir: str | Path, *, shape: str = "tiny", d_model: int | None = None,
                      layers: int | None = None, heads: int | None = None, ffn: int | None = None,
                      vocab_size: int = 2000, seed: int = 0, **config_overrides) -> Path:
    """A random-weight M2M100ForConditionalGeneration + M2M100Tokenizer (language tokens __zh__, __en__, ...)."""
    import shutil

    from transformers import M2M100Config, M2M100ForConditionalGeneration, M2M100Tokenizer

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    spm_model = _corpus_spm(str(out.parent / ".spm"), vocab_size)
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for piece in _spm_pieces(spm_model):
        vocab.setdefault(piece, len(vocab))
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    shutil.copy(spm_model, out / "sentencepiece.bpe.model")
    tokenizer = M2M100Tokenizer(str(out / "vocab.json"), str(out / "sentencepiece.bpe.model"))
    # the language tokens (__en__, ...) and made-up words come after the sentencepiece vocabulary
    full_vocab = max(tokenizer.lang_token_to_id.values()) + 1 + tokenizer.num_madeup_words
    config = M2M100Config(vocab_size=full_vocab, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                          decoder_start_token_id=2, max_position_embeddings=256,
                          **{**_dims(shape, d_model, layers, heads, ffn), **config_overrides})
    return _save(M2M100ForConditionalGeneration, config, tokenizer, out, seed)


def _fast_tokenizer(cls_name: str, out: Path, spm_model: Path, file_name: str, **kwargs):
    """A transformers-5 tokenizer (``tokenizers``-backed) converted from a sentencepiece file, as
    ``from_pretrained`` does for a hub checkpoint that ships only the .model file."""
    import shutil

    import transformers

    staging = out / ".spm-source"
    staging.mkdir(parents=True, exist_ok=True)
    shutil.copy(spm_model, staging / file_name)
    tokenizer = getattr(transformers, cls_name).from_pretrained(str(staging), **kwargs)
    shutil.rmtree(staging)
    return tokenizer


def build_tiny_nllb(out_dir: str | Path, *, src_lang: str = "zho_Hans", shape: str = "tiny",
                    d_model: int | None = None, layers: int | None = None, heads: int | None = None,
                    ffn: int | None = None, vocab_size: int = 2000, seed: int = 0, **config_overrides) -> Path:
    """A random-weight NLLB-style M2M100 model + NllbTokenizer (BPE, the 202 codes zho_Hans, eng_Latn, ...)."""
    from transformers import M2M100Config, M2M100ForConditionalGeneration
    from transformers.models.nllb.tokenization_nllb import FAIRSEQ_LANGUAGE_CODES

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    spm_model = _corpus_bpe(str(out.parent / ".spm"), vocab_size)
    tokenizer = _fast_tokenizer("NllbTokenizer", out, spm_model, "sentencepiece.bpe.model",
                                extra_special_tokens=list(FAIRSEQ_LANGUAGE_CODES))
    tokenizer.src_lang = src_lang
    config = M2M100Config(vocab_size=len(tokenizer), pad_token_id=1, bos_token_id=0, eos_token_id=2,
                          decoder_start_token_id=2, max_position_embeddings=256, scale_embedding=True,
                          **{**_dims(shape, d_model, layers, heads, ffn), **config_overrides})
    return _save(M2M100ForConditionalGeneration, config, tokenizer, out, seed)


def build_tiny_mbart(out_dir: str | Path, *, src_lang: str = "zh_CN", shape: str = "tiny",
                     d_model: int | None = None, layers: int | None = None, heads: int | None = None,
                     ffn: int | None = None, vocab_size: int = 2000, seed: int = 0, **config_overrides) -> Path:
    """A random-weight MBartForConditionalGeneration + MBart50Tokenizer (zh_CN, id_ID, en_XX, ...)."""
    from transformers import MBartConfig, MBartForConditionalGeneration

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    spm_model = _corpus_spm(str(out.parent / ".spm"), vocab_size, "fairseq")
    tokenizer = _fast_tokenizer("MBart50Tokenizer", out, spm_model, "sentencepiece.bpe.model", src_lang=src_lang)
    # tokenizer_class as mBART-50's config.json has it (converters tell mBART-50 from mBART-25 by it)
    config = MBartConfig(vocab_size=len(tokenizer), pad_token_id=1, bos_token_id=0, eos_token_id=2,
                         decoder_start_token_id=2, max_position_embeddings=256, scale_embedding=True,
                         tokenizer_class="MBart50Tokenizer",
                         **{**_dims(shape, d_model, layers, heads, ffn), **config_overrides})
    return _save(MBartForConditionalGeneration, config, tokenizer, out, seed)


def build_tiny_t5(out_dir: str | Path, *, langs: Iterable[str] = ("zh", "id", "en"), d_model: int = 32,
                  layers: int = 2, heads: int = 2, ffn: int = 64, vocab_size: int = 2000, seed: int = 0,
                  **config_overrides) -> Path:
    """A random-weight T5ForConditionalGeneration + T5Tokenizer with MADLAD-style ``<2xx>`` target prefixes."""
    from transformers import T5Config, T5ForConditionalGeneration

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    spm_model = _corpus_spm(str(out.parent / ".spm"), vocab_size)
    tokenizer = _fast_tokenizer("T5Tokenizer", out, spm_model, "spiece.model")
    tokenizer.add_tokens([f"<2{lang}>" for lang in langs], special_tokens=True)
    config = T5Config(vocab_size=len(tokenizer), d_model=d_model, d_kv=d_model // heads, num_layers=layers,
                      num_heads=heads, d_ff=ffn, pad_token_id=tokenizer.pad_token_id,
                      eos_token_id=tokenizer.eos_token_id, decoder_start_token_id=tokenizer.pad_token_id,
                      initializer_factor=3.0, **config_overrides)
    return _save(T5ForConditionalGeneration, config, tokenizer, out, seed)


def train_copy_model(base: str | Path, out: str | Path) -> Path:
    """A tiny Marian trained for a few seconds to copy word sequences: unlike a random model it ends its
    outputs with EOS at different lengths, which exercises the engine's compaction.

    It trains in one thread. The steps are tiny (a 32-wide model), and with two or more threads on a loaded
    machine the threads mostly wait for each other: 150 steps took 45 to 125 s on a busy 2-core box, 3 to 5 s in
    one thread. One thread also gives the same model whatever the machine's core count (a reduction split over
    threads sums in another order), which matters here: 150 steps at this learning rate is about where the model
    starts ending in-domain inputs early while others run to ``max_length``; fewer steps, or a higher learning
    rate, leave every output at ``max_length``."""
    import random

    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSeq2SeqLM.from_pretrained(base)
    torch.manual_seed(0)
    rng = random.Random(0)
    words = ["公安", "部", "严打", "电诈", "跨国", "犯罪", "缅甸", "警方", "合作", "泰国"]
    data = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 6))) for _ in range(256)]
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for _ in range(150):
            batch = rng.sample(data, 32)
            enc = tok(batch, text_target=batch, return_tensors="pt", padding=True)
            enc["labels"][enc["labels"] == tok.pad_token_id] = -100
            model(**enc).loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    finally:
        torch.set_num_threads(threads)
    model.eval().save_pretrained(out)
    tok.save_pretrained(out)
    return Path(out)


# ------------------------------------------------------------------ synthetic corpora


@functools.lru_cache(maxsize=1)
def seed_sentence_pairs() -> tuple[tuple[str, str], ...]:
    """(zh, en) and (zh, id) sentence pairs of the shipped corpus, as the builder aligns them."""
    import tempfile

    from .corpus.builder import BuildConfig, build_corpus

    with tempfile.TemporaryDirectory() as tmp:
        build_corpus(CORPUS, tmp, BuildConfig(encoder="lexical", formats=["jsonl"]))
        pairs = []
        for path in sorted(Path(tmp, "jsonl").rglob("*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                other = next(lang for lang in row["translation"] if lang != "zh")
                pairs.append((row["translation"]["zh"], row["translation"][other]))
        return tuple(pairs)


def write_synthetic_corpus(root: str | Path, n_pairs: int, pairs: Iterable[tuple[str, str]] | None = None, *,
                           seed: int = 0) -> Path:
    """A corpus folder of ``n_pairs`` two-version stories (a zh page and an en page each, with a manifest) made
    from ``pairs`` (default: the seeds' aligned pairs), shuffled and re-paired: 5 to 20 sentences a document,
    1 to 4 sentences a paragraph. The same seed gives the same files."""
    import random

    pairs = list(pairs if pairs is not None else seed_sentence_pairs())
    rng = random.Random(seed)
    root = Path(root)
    raw = root / "raw"
    raw.mkdir(parents=True)
    docs, stories = [], []
    for k in range(n_pairs):
        chosen = [rng.choice(pairs) for _ in range(rng.randint(5, 20))]
        paragraphs, i = [], 0
        while i < len(chosen):
            size = rng.randint(1, 4)
            paragraphs.append(chosen[i:i + size])
            i += size
        zh = "\n\n".join("".join(p[0] for p in para) for para in paragraphs)
        en = "\n\n".join(" ".join(p[1] for p in para) for para in paragraphs)
        for lang, text in (("zh", zh), ("en", en)):
            (raw / f"{k:06d}.{lang}.txt").write_text(text + "\n", encoding="utf-8")
            docs.append(f"  - {{id: d{k}-{lang}, file: raw/{k:06d}.{lang}.txt, languages: [{lang}], "
                        f"scripts: [{'Hans' if lang == 'zh' else 'Latn'}]}}")
        stories.append(f"  - {{id: s{k}, documents: [d{k}-zh, d{k}-en]}}")
    (root / "manifest.yaml").write_text("name: synthetic\ndocuments:\n" + "\n".join(docs) + "\nstories:\n"
                                        + "\n".join(stories) + "\n", encoding="utf-8")
    return root
