"""Translation with Hugging Face seq2seq models (Marian/opus-mt, M2M100/NLLB, MBart-50, T5/MT5).

``Translator(model, backend=...).translate(sentences)`` keeps input order, keeps empty lines empty, splits
inputs longer than the model's limit at sentence boundaries, and batches by a token budget over
length-sorted inputs. :func:`translate_file` writes finished chunks as it goes, so that a killed job resumes
where it stopped and produces the same file; its chunks can be translated by the workers of an executor
(:mod:`mtkit.scale`: a Ray cluster, one model per GPU), each loading the model from a :class:`TranslatorSpec`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from ..cpu import reuse_freed_memory
from ..errors import BackendError, ConfigError, DataError
from ..ingest.decode import read_lines
from ..scale import Executor, LocalExecutor, Step
from ..utils import (absolute_if_local, atomic_write, changed_keys, check_writable, checked_texts, folder_fingerprint,
                     length_sorted_batches, make_signature, one_line, option_text, stable_hash, write_json)
from .engine import BACKENDS, TranslationBackend, get_backend_class
from .languages import (iso_language, language_code_for, marian_pair_conflicts, model_family, needs_target_language,
                        position_limit, single_language, source_prefix)

__all__ = ["Translator", "TranslatorSpec", "TranslationBackend", "BACKENDS", "language_code_for", "translate_file",
           "read_inputs"]

logger = logging.getLogger("mtkit.translate")

DTYPES = ("auto", "fp32", "bf16", "fp16")
CT2_COMPUTE_TYPES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}


def check_model_path(model: str) -> str:
    """What to load ``model`` from: a local folder with ``~`` expanded (transformers would read ``~/m`` as a hub
    id), a hub name as given. A clear error, before transformers reads it, for a local path that is not there
    (``org/name`` is a hub id: at most one slash, no leading ``/``, ``.`` or ``~``, and no local folder ``org``)
    or holds no model or no tokenizer."""
    from ..utils import missing_model_folder, saved_model_problem

    path = Path(model).expanduser()
    if path.is_dir():
        problem = saved_model_problem(path) or _tokenizer_problem(path)
        if problem:
            raise BackendError(f"cannot load translation model {model!r}: {problem}")
        return str(path)
    if path.exists():
        raise BackendError(f"cannot load translation model {model!r}: a file, not a model folder or hub name")
    missing = missing_model_folder(model)
    if missing:
        raise BackendError(f"cannot load translation model {model!r}: {missing}")
    return model


# what every saved tokenizer has one of: save_pretrained's config or fast tokenizer, or a vocabulary (sentencepiece
# models: source.spm, spiece.model, sentencepiece.bpe.model; vocab.json/vocab.txt; BPE merges)
TOKENIZER_FILES = ("tokenizer_config.json", "tokenizer.json", "*.spm", "*.model", "vocab.*", "merges.txt")


def _tokenizer_problem(path: Path) -> str | None:
    """Why a model folder cannot give a tokenizer: it has none of its files (a checkpoint saved without its
    tokenizer). Checked before loading, not caught after: transformers then fails deep inside Marian's, M2M100's
    and NLLB's tokenizers with a TypeError (a None file path), and builds an empty MBart-50 or T5 tokenizer (its
    special tokens only) without any error at all."""
    if any(next(path.glob(pattern), None) is not None for pattern in TOKENIZER_FILES):
        return None
    return f"no tokenizer files ({', '.join(TOKENIZER_FILES)}); save the tokenizer with the model"


def load_pretrained(model: str, *, dtype=None) -> tuple[str, object, object]:
    """``(path, tokenizer, model)`` for a hub name or a local folder (``~`` expanded; a LoRA adapter folder merged
    into its base), with one clear BackendError for what cannot be loaded: what the Translator and ``mtkit
    finetune`` load."""
    from transformers import AutoTokenizer

    path = check_model_path(str(model))
    try:
        return path, AutoTokenizer.from_pretrained(path), load_seq2seq(path, dtype=dtype)
    except (OSError, ValueError) as exc:
        raise BackendError(f"cannot load translation model {str(model)!r}: {exc}") from None


def load_seq2seq(model: str, *, dtype=None):
    """A saved seq2seq model, or a LoRA adapter folder (what `mtkit finetune` keeps with ``merge_lora: false``)
    merged into the base model its ``adapter_config.json`` names, which may be an adapter folder itself (a LoRA
    run started from an adapter records that adapter as its base). ``dtype`` None: transformers' default."""
    from transformers import AutoModelForSeq2SeqLM

    from ..utils import is_lora_adapter

    if not is_lora_adapter(model):
        return AutoModelForSeq2SeqLM.from_pretrained(model, dtype=dtype)
    adapter = Path(model).expanduser() / "adapter_config.json"
    try:
        from peft import PeftModel
    except ImportError:
        from ..errors import missing_dependency

        raise missing_dependency("peft", "finetune") from None
    base = json.loads(adapter.read_text(encoding="utf-8")).get("base_model_name_or_path")
    if not base:
        raise BackendError(f"{adapter}: names no base model (base_model_name_or_path)")
    logger.info("%s is a LoRA adapter: merged into its base model %s", model, base)
    return PeftModel.from_pretrained(load_seq2seq(base, dtype=dtype), model).merge_and_unload()


def check_options(*, beam_size: int = 1, max_length: int = 1, min_length: int = 0, max_batch_tokens: int | None = None,
                  max_batch_size: int | None = None, window: int = 1, **_) -> None:
    """ConfigError for settings no search can run with (before any model load or chunk)."""
    for name, value, least in (("beam size", beam_size, 1), ("max_length", max_length, 1),
                               ("min_length", min_length, 0), ("max_batch_tokens", max_batch_tokens, 0),
                               ("max_batch_size", max_batch_size, 0), ("window", window, 1)):
        if value is not None and value < least:
            raise ConfigError(f"{name} must be at least {least}, not {value}")


@dataclass(frozen=True)
class TranslatorSpec:
    """What a :class:`Translator` is made from. Picklable, so that each worker of an executor loads its own
    (one per Ray actor); ``resolved`` fixes the device and dtype, and with them the signature, before any load."""

    model: str
    backend: str = "auto"
    device: str | None = None  # None: cuda when present
    dtype: str = "auto"  # auto: bf16 on a GPU, fp32 on the CPU
    src_lang: str | None = None
    tgt_lang: str | None = None

    def resolved(self, *, gpu: bool | None = None) -> "TranslatorSpec":
        """The same spec with ``auto`` settings decided: the device by ``gpu`` (None: whether this process
        sees a GPU), the dtype by the device, the backend's name."""
        if self.dtype not in DTYPES:
            raise ConfigError(f"unknown dtype {self.dtype!r}; known: {', '.join(DTYPES)}")
        # here, before any load: torch said so only after the model was loaded, with a traceback
        if self.device is not None and not re.fullmatch(r"cpu|cuda(:\d+)?", str(self.device)):
            raise ConfigError(f"unknown device {self.device!r}; use cpu, cuda or cuda:N (N: a GPU's index)")
        device = self.device
        if device is None:
            if gpu is None:
                import torch

                gpu = torch.cuda.is_available()
            device = "cuda" if gpu else "cpu"
        dtype = self.dtype if self.dtype != "auto" else ("bf16" if device.startswith("cuda") else "fp32")
        backend = "mtkit" if self.backend == "auto" else self.backend
        get_backend_class(backend)  # an unknown name fails here, before any worker starts
        # a local folder by its absolute path: workers of an executor load it in other working directories
        return replace(self, model=absolute_if_local(self.model), device=device, dtype=dtype, backend=backend)

    def signature(self, *, beam_size: int = 1) -> str:
        """The signature of a resolved spec (:meth:`Translator.signature`)."""
        return make_signature(f"translate:{get_backend_class(self.backend).name}", model=Path(self.model).name,
                              beam=beam_size, dtype=self.dtype, src=self.src_lang or "-", tgt=self.tgt_lang or "-")

    def load(self) -> "Translator":
        return Translator(self.model, backend=self.backend, device=self.device, dtype=self.dtype,
                          src_lang=self.src_lang, tgt_lang=self.tgt_lang)


class Translator:
    """A model, its tokenizer and a backend; ``translate`` is the one call."""

    # Batching defaults per device, or device/backend: (padded source tokens, sentences, decoder rows = sentences x
    # beams; 0: no bound) a batch. On a GPU the engine's throughput grows with the batch up to ~1,024 sentences
    # (bench/RESULTS.md, H100: 1,024 rows 327k tokens/s greedy, 2,048 rows 289k); the token cap bounds memory for
    # long inputs. On a CPU (2 cores, opus-mt shape) the mtkit engine decodes fastest at 32-64 sentences greedy and
    # 32 at beam 4: a 128-sentence batch was 10% slower greedy and 20% at beam 4 (its cache copies and attention
    # grow faster than it saves), where CTranslate2 gained from bigger batches (its own defaults stay).
    BATCHING = {"cuda": (131_072, 1024, 0), "cpu": (8192, 0, 0), "cpu/mtkit": (8192, 64, 128)}
    # Inputs per resumable chunk of a file job. The engine sees one chunk at a time, so on a GPU a chunk must hold
    # many full batches (a 512-input chunk would cap batches at 512 sentences and sort lengths within 512
    # only); 16,384 inputs are a few seconds of an H100's work, all a killed run can lose.
    CHUNK_SIZE = {"cuda": 16_384, "cpu": 512}
    MAX_BATCH_TOKENS = BATCHING["cpu"][0]
    MAX_LENGTH = 256

    def __init__(self, model: str | Path, *, backend: str = "auto", device: str | None = None, dtype: str = "auto",
                 src_lang: str | None = None, tgt_lang: str | None = None):
        import torch

        self.spec = TranslatorSpec(str(model), backend, device, dtype, src_lang, tgt_lang).resolved()
        self.device, self.dtype, backend = self.spec.device, self.spec.dtype, self.spec.backend
        self.model_name = str(model)
        _check_cuda(str(self.device))
        path, self.tokenizer, self.model = load_pretrained(
            str(model), dtype={"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[self.dtype])
        self.model.to(self.device).eval()
        # CPU tensors of tens of MB each step (logits, log-probabilities): glibc would map and unmap every one
        if str(self.device) == "cpu":
            reuse_freed_memory()
        self.family = model_family(self.model)
        self.src_lang, self.tgt_lang = src_lang, tgt_lang
        tgt_code = self._set_languages(src_lang, tgt_lang)
        self.prefix = source_prefix(self.family, tgt_code)
        forced_bos = None
        if self.family in ("m2m100", "mbart") and tgt_code:
            forced_bos = self.tokenizer.convert_tokens_to_ids(tgt_code)
            if hasattr(self.tokenizer, "get_lang_id") and tgt_lang:
                try:
                    forced_bos = self.tokenizer.get_lang_id(tgt_code)
                except KeyError:
                    pass
        cls = get_backend_class(backend)
        extra = {}
        if backend == "ct2":  # --dtype is CTranslate2's compute type there
            extra = {"model_path": path, "device": self.device, "compute_type": CT2_COMPUTE_TYPES[self.dtype]}
        self.backend: TranslationBackend = cls(self.model, self.tokenizer, forced_bos_token_id=forced_bos, **extra)
        self.max_input_tokens = min(getattr(self.tokenizer, "model_max_length", 512) or 512,
                                    getattr(self.model.config, "max_position_embeddings", 512) or 512)
        # the splitter and the joiner know ISO codes: a model's own code (zho_Hans, zh_CN) is mapped back
        self._join_lang = iso_language(tgt_lang or self._declared_language("target"))
        self._splitter = self._sentence_splitter(iso_language(src_lang or self._declared_language("source")))

    def _set_languages(self, src_lang: str | None, tgt_lang: str | None) -> str | None:
        """Check the languages against the model (a ConfigError names what it knows) and set the tokenizer's
        source code; the target's code (a forced first token or a source prefix), None when it needs none."""
        if self.family == "marian":  # one declared pair, or many targets by >>xxx<< tokens
            conflicts = marian_pair_conflicts(self.tokenizer, src_lang, tgt_lang)
            if conflicts:
                # a warning, not an error: a Marian fine-tuned for another pair by an earlier mtkit (or another
                # tool) still declares its old pair, and the codes do not reach a single-pair model
                logger.warning("language %r is not in the pair this model's tokenizer declares, %s->%s: translating "
                               "anyway (right for a model retargeted by fine-tuning; else check %s, %s and %s)",
                               next(iter(conflicts.values())), self.tokenizer.source_lang, self.tokenizer.target_lang,
                               option_text("model"), option_text("src_lang"), option_text("tgt_lang"))
        if not tgt_lang and needs_target_language(self.tokenizer, self.model, self.family):
            raise ConfigError(f"this {self.family} model translates into many languages: give the target language "
                              f"({option_text('tgt_lang')})")
        src_code = language_code_for(self.tokenizer, src_lang, self.family)
        if src_code and hasattr(self.tokenizer, "src_lang"):
            self.tokenizer.src_lang = src_code
        elif not src_lang and self.family in ("m2m100", "mbart") and getattr(self.tokenizer, "src_lang", None):
            # a warning, not an error: the saved default is often right (mtkit finetune saves the run's source),
            # and the model still translates; but nothing says it is the input's language
            logger.warning("no source language given (%s): the tokenizer's default, %s, is used",
                           option_text("src_lang"), self.tokenizer.src_lang)
        return language_code_for(self.tokenizer, tgt_lang, self.family, target=True)

    def _declared_language(self, side: str) -> str | None:
        """The ``side`` ("source" or "target") language the model declares, for splitting long inputs and joining
        their pieces when none is given: a Marian tokenizer's ``source_lang``/``target_lang`` when it is one
        language (not ``mul``), M2M100/NLLB/MBart's saved ``src_lang`` (what the model is then told the input is)."""
        if self.family == "marian":
            declared = getattr(self.tokenizer, f"{side}_lang", None)
            return declared if single_language(declared) is not None else None
        if side == "source" and self.family in ("m2m100", "mbart"):
            return getattr(self.tokenizer, "src_lang", None)
        return None

    def _sentence_splitter(self, lang: str | None):
        """The splitter for inputs over the model's limit, found now so that a bad code fails before any work
        (it was found at the first long line, possibly after hours). A code the model knows but the segmenter
        does not only costs the splitting: such inputs are truncated, with a warning now. ``_no_split`` says why
        there is no splitter, in the warning of each truncated input."""
        from ..segment import get_splitter

        self._no_split = f"no source language was given ({option_text('src_lang')}) to split it at sentences"
        if not lang:
            return None
        try:
            return get_splitter(lang)
        except ConfigError:
            if self.family in ("marian", "other"):  # no code list checked it: a code nothing knows is a mistake
                raise
            self._no_split = f"there is no sentence splitter for {lang!r}"
            logger.warning("no sentence splitter for %r: inputs over the model's limit of %d tokens will be "
                           "truncated, not split at sentences", lang, self.max_input_tokens)
            return None

    def signature(self, *, beam_size: int = 1) -> str:
        return self.spec.signature(beam_size=beam_size)

    # -------------------------------------------------------------- inputs

    def _token_ids(self, text: str) -> list[int]:
        # verbose=False: transformers' "Token indices sequence length is longer than the specified maximum
        # sequence length" warning (once, at its own limit, often not the model's) is wrong here, where a long
        # input is measured in order to be split or truncated, with mtkit's own warning
        return self.tokenizer(self.prefix + text, truncation=False, verbose=False).input_ids

    def _truncated(self, ids: list[int]) -> list[int]:
        """The model's limit of tokens, the end-of-sentence token kept last."""
        return ids[: self.max_input_tokens - 1] + ids[-1:]

    def _encode(self, text: str, line: int) -> list[list[int]]:
        """Token ids of one input; an input over the model's limit is split at sentence boundaries, and a
        sentence still over it is truncated with a warning naming the line."""
        ids = self._token_ids(text)
        if len(ids) <= self.max_input_tokens:
            return [ids]
        if self._splitter is None:
            logger.warning("line %d: %d tokens, longer than the model's limit of %d; truncated, as %s", line,
                           len(ids), self.max_input_tokens, self._no_split)
            return [self._truncated(ids)]
        pieces = [text[s:e] for s, e in self._splitter.split(text)] or [text]
        out = []
        for piece in pieces:
            piece_ids = self._token_ids(piece)
            if len(piece_ids) > self.max_input_tokens:
                logger.warning("line %d: a sentence of %d tokens is longer than the model's limit of %d; truncated",
                               line, len(piece_ids), self.max_input_tokens)
                piece_ids = self._truncated(piece_ids)
            out.append(piece_ids)
        if len(pieces) > 1:
            logger.info("line %d: %d tokens, split into %d sentences", line, len(ids), len(pieces))
        return out

    # -------------------------------------------------------------- translation

    def translate(self, sentences: Iterable[str], *, beam_size: int = 1, max_length: int = MAX_LENGTH,
                  min_length: int = 0, max_batch_tokens: int | None = None, max_batch_size: int | None = None,
                  length_penalty: float = 1.0, show_progress: bool = False, first_line: int = 1) -> list[str]:
        """Translations of ``sentences`` in input order; empty (or blank) inputs give empty outputs.

        ``sentences`` is any iterable of strings (a list, a tuple, a generator), read once and held in memory
        with its translations; :meth:`translate_iter` streams. One ``str`` is refused (it would be one input
        per character). ``show_progress`` shows a bar in sentences/s with an ETA; ``first_line`` numbers lines
        in warnings. ``max_batch_tokens`` / ``max_batch_size``: None takes the device's default
        (:attr:`BATCHING`), 0 no bound."""
        texts = checked_texts(sentences, "sentences", items="sentences", hint="give translate([text, ...])",
                              start=first_line - 1)  # each item is checked as list() below reads it
        check_options(beam_size=beam_size, max_length=max_length, min_length=min_length,
                      max_batch_tokens=max_batch_tokens, max_batch_size=max_batch_size)
        positions = position_limit(self.model, self.family)
        if positions and max_length > positions:  # every backend fails past them (mtkit's decoder says the same)
            raise ConfigError(f"max_length {max_length} is over the model's {positions} decoder positions; "
                              f"use {option_text('max_length', positions)} or less")
        # after the checks, so that a mistake does not use up a generator; read once: it is counted, walked
        # and indexed below (a generator was translated in full, then failed on len())
        sentences = list(texts)
        device = "cuda" if str(self.device).startswith("cuda") else "cpu"
        default_tokens, default_size, default_rows = self.BATCHING.get(f"{device}/{self.backend.name}",
                                                                       self.BATCHING[device])
        max_batch_tokens = default_tokens if max_batch_tokens is None else max_batch_tokens
        if max_batch_size is None:
            max_batch_size = min(default_size, max(1, default_rows // beam_size)) if default_rows else default_size
        units: list[tuple[int, list[int]]] = []  # (input index, token ids) per translated unit
        for k, text in enumerate(sentences):
            if not is_blank(text):
                units.extend((k, ids) for ids in self._encode(text, first_line + k))
        outputs: list[list[int] | None] = [None] * len(units)
        batches = list(length_sorted_batches(units, max_batch_tokens=max_batch_tokens, max_batch_size=max_batch_size,
                                             length=lambda u: len(u[1])))
        bar = _sentence_bar(len(units), 0) if show_progress else None
        for batch in batches:
            for index, ids in zip(batch, self._run(batch, units, beam_size, max_length, min_length, length_penalty)):
                outputs[index] = ids
            if bar is not None:
                bar.update(len(batch))
        if bar is not None:
            bar.close()
        pieces: dict[int, list[str]] = {}
        for (k, _), ids in zip(units, outputs):
            pieces.setdefault(k, []).append(self.tokenizer.decode(ids, skip_special_tokens=True).strip())
        from ..segment import join_sentences

        return [join_sentences(pieces.get(k, []), self._join_lang) for k in range(len(sentences))]

    def _run(self, batch, units, beam_size, max_length, min_length, length_penalty) -> list[list[int]]:
        """One batch through the backend; on CUDA out-of-memory, halves and retries instead of failing."""
        import torch

        try:
            return self.backend.translate_batch([units[i][1] for i in batch], beam_size=beam_size,
                                                max_length=max_length, min_length=min_length,
                                                length_penalty=length_penalty)
        except torch.OutOfMemoryError:
            if len(batch) == 1:
                raise BackendError(f"out of GPU memory on a single sentence; lower {option_text('max_length')} "
                                   "or use a bigger GPU") from None
            torch.cuda.empty_cache()
            half = len(batch) // 2
            logger.warning("out of GPU memory on a batch of %d; retrying as two batches", len(batch))
            return (self._run(batch[:half], units, beam_size, max_length, min_length, length_penalty)
                    + self._run(batch[half:], units, beam_size, max_length, min_length, length_penalty))

    def translate_iter(self, sentences: Iterable[str], *, window: int = 1024, **kwargs) -> Iterator[str]:
        """Streaming: translate ``window`` inputs at a time (sorted by length inside the window), in order.
        The arguments are checked at the call, not at the first ``next()``: a mistake fails where it is made."""
        # a str is iterable: it would be one input per character; the items are checked as the windows read them
        texts = checked_texts(sentences, "sentences", items="sentences", hint="give translate_iter([text, ...])")
        check_options(window=window, **kwargs)
        return self._translate_windows(texts, window, kwargs)

    def _translate_windows(self, sentences: Iterable[str], window: int, kwargs: dict) -> Iterator[str]:
        chunk: list[str] = []
        line = 1
        for text in sentences:
            chunk.append(text)
            if len(chunk) >= window:
                yield from self.translate(chunk, first_line=line, **kwargs)
                line += len(chunk)
                chunk = []
        if chunk:
            yield from self.translate(chunk, first_line=line, **kwargs)


# Characters that print as nothing: a line holding only these (and whitespace) is an empty line. str.strip() keeps
# them, and the model given an input the tokenizer reduces to nothing (a bare </s>) invents a sentence.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def is_blank(text: str) -> bool:
    """Whether ``text`` is an empty line: nothing but whitespace and zero-width characters (ZWSP, ZWNJ, ZWJ, word
    joiner, BOM)."""
    return not text.translate(_INVISIBLE).strip()


def _check_cuda(device: str) -> None:
    """A ConfigError for a CUDA device this process does not have, before the model is loaded onto it."""
    import torch

    if not device.startswith("cuda"):
        return
    if not torch.cuda.is_available():
        raise ConfigError(f"device {device!r}: torch sees no CUDA device here; use {option_text('device', 'cpu')}")
    count, index = torch.cuda.device_count(), int(device.partition(":")[2] or 0)
    if index >= count:
        raise ConfigError(f"device {device!r}: torch sees {count} CUDA device{'s' * (count > 1)} here "
                          f"(cuda:0 to cuda:{count - 1})")


# ------------------------------------------------------------------ files


# Suffixes read as JSONL (any case); other files are text, one input a line.
JSONL_SUFFIXES = (".jsonl", ".ndjson")


def read_inputs(path: str | Path, *, field: str | None = None, split: str | None = None, config: str | None = None,
                src_lang: str | None = None, tgt_lang: str | None = None) -> list[str]:
    """Lines of a text file, a field of a JSONL file (``field``, default ``text``), or the source side of a split
    of a built dataset (``config`` defaults to the pair of ``src_lang`` and ``tgt_lang``, as the build names it).
    A leading UTF-8 byte order mark is not part of the first line."""
    path = Path(path).expanduser()
    if path.is_dir():
        from ..corpus.dataset import parallel_split
        from ..records import config_name

        if not config and src_lang and tgt_lang:
            config = config_name(src_lang, tgt_lang)
        if not (split and config and src_lang):
            raise ConfigError("a dataset folder as input needs --split and --src-lang, and --tgt-lang or --config")
        return parallel_split(path, config, split, src_lang).sources  # the sources only: no target is needed
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    jsonl = path.suffix.lower() in JSONL_SUFFIXES
    if field is not None and not jsonl:  # ignoring it translated each raw JSON line as a sentence
        raise ConfigError(f"{path}: --field applies to JSONL input, and this file is read as text (JSONL: "
                          f"{', '.join('*' + s for s in JSONL_SUFFIXES)}, any case)")
    field = field or "text"
    # the line rule evaluate and align --presegmented use, so that outputs and references line up with the input
    lines = read_lines(path)
    if not jsonl:
        return lines
    texts = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            texts.append("")
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{number}: not JSON: {exc.msg}") from None
        if not isinstance(record, dict):
            raise DataError(f"{path}:{number}: a JSON {type(record).__name__}, not an object with a {field!r} field")
        value = _field(record, field)
        if value is _MISSING:
            raise DataError(f"{path}:{number}: no field {field!r} (fields: {', '.join(record)})")
        if not isinstance(value, str):
            raise DataError(f"{path}:{number}: field {field!r} is {json.dumps(value)[:40]}, not a string")
        texts.append(value)
    return texts


_MISSING = object()


def _field(record: dict, field: str):
    """``record[field]``, or with a dotted name the nested value (``translation.zh`` in the JSONL `mtkit build`
    writes); a key that itself holds the dots wins. ``_MISSING`` when there is none."""
    if field in record:
        return record[field]
    value = record
    for part in field.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


@dataclass
class TranslationChunk:
    """``chunk_size`` inputs of a file job; ``lines`` are their translations once done."""

    index: int
    first_line: int  # 1-based number of its first input, for warnings
    texts: list[str]
    lines: list[str] | None = None


@dataclass
class TranslateChunks(Step):
    """Translate chunks with one model per worker, loaded from ``spec`` (or ``translator``, a model already
    loaded in this process, which is never pickled: executors that ship steps do not get one)."""

    NAME = "translate"
    STATEFUL = True

    spec: TranslatorSpec
    options: dict  # Translator.translate's keyword arguments
    batch_size: int = 1
    translator: Translator | None = field(default=None, repr=False)

    def setup(self) -> None:
        if self.translator is None:
            self.translator = self.spec.load()

    def __call__(self, chunks: list[TranslationChunk]) -> list[TranslationChunk]:
        for chunk in chunks:
            chunk.lines = self.translator.translate(chunk.texts, first_line=chunk.first_line, **self.options)
        return chunks


def check_output(out_path: str | Path, *, input_path: str | Path | None = None) -> Path:
    """The output file, ``~`` expanded, checked before any model load or chunk: not ``input_path`` (the
    translations would replace the input), not a folder, and in a folder this process can create files in (made
    by the job if missing). It found these only at the end, or with the first chunk, as a traceback. An existing
    output file is replaced, as sacrebleu's and sort's are."""
    out = Path(out_path).expanduser()
    source = Path(input_path).expanduser() if input_path is not None else None
    if source is not None and out.exists() and source.exists() and os.path.samefile(out, source):
        raise ConfigError(f"cannot write {out_path}: it is the input file, which the translations would replace")
    # the job creates OUT's missing folders, then OUT.partial and OUT
    return check_writable(out_path)


# Settings that change batches: the batch a sentence is decoded in sets its padding, and in bf16/fp16 a sentence's
# result can differ with the batch's shape, so a resumed file would not be the file an uninterrupted run gives.
# They stay in the resume key, and the warning about another setting's chunks names them.
_BATCH_SETTINGS = ("chunk_size", "max_batch_tokens", "max_batch_size")


def translate_file(translator: Translator | TranslatorSpec, inputs: Sequence[str], out_path: str | Path, *,
                   chunk_size: int | None = None, show_progress: bool = False, executor: Executor | None = None,
                   **kwargs) -> Path:
    """Translate ``inputs`` into ``out_path``, one line per input, resumable.

    Finished chunks go to ``OUT.partial/<settings-hash>/chunk-NNNNN.txt`` (each written atomically, by this
    process, as it comes back from whichever worker translated it); a rerun with the same inputs and settings
    skips them, and the final file is assembled atomically at the end. ``executor`` (default: this process)
    translates the chunks; a Ray executor loads one model per worker from the spec (``translator.spec`` for a
    loaded Translator), on a GPU each when it has GPUs. The chunks, the settings hash and so the output are the
    same whichever runs them. ``chunk_size``: None takes the device's default (:attr:`Translator.CHUNK_SIZE`).
    Each translation is one line (:func:`~mtkit.utils.one_line`: line breaks and tabs become spaces). With
    nothing left to translate (no inputs, or every chunk finished) no model is loaded.
    """
    check_options(**kwargs)
    if chunk_size is not None and chunk_size < 1:
        raise ConfigError(f"chunk size must be at least 1, not {chunk_size}")
    out = check_output(out_path)
    executor = executor or LocalExecutor()
    executor.start()  # a cluster that cannot be had fails here, before any chunk is planned
    spec = translator.spec if isinstance(translator, Translator) else translator.resolved(gpu=executor.gpu)
    chunk_size = chunk_size or Translator.CHUNK_SIZE["cuda" if str(spec.device).startswith("cuda") else "cpu"]
    # the chunk size is in the key: chunk files are named by index, which means other lines at another size; the
    # model's files are in it too: the signature names only the folder (runs/a/final and runs/b/final are both
    # "final"), and a model saved again at the same path is another model. Kept in the key folder's settings.json,
    # so that a run with other settings can say which differ.
    settings = {"inputs": stable_hash(list(inputs)), "signature": spec.signature(beam_size=kwargs.get("beam_size", 1)),
                "model_files": stable_hash(folder_fingerprint(spec.model)), "chunk_size": chunk_size, **kwargs}
    partial = out.with_name(out.name + ".partial")
    parts = partial / stable_hash(settings)  # made with its first chunk: a failed start leaves nothing
    _warn_of_other_settings(partial, parts, settings)
    chunks = range(0, len(inputs), chunk_size)
    todo = [TranslationChunk(start // chunk_size, start + 1, list(inputs[start:start + chunk_size])) for start in chunks
            if not _chunk_file(parts, start // chunk_size).is_file()]
    done = len(inputs) - sum(len(chunk.texts) for chunk in todo)
    if done:  # at the default verbosity: that finished work is reused is news when the user expected a fresh run
        logger.warning("%s: resuming, %d of %d inputs already translated", out, done, len(inputs))
    step = TranslateChunks(spec, kwargs)
    if executor.IN_PROCESS and isinstance(translator, Translator):
        step.translator = translator  # the model loaded already serves; no second load
    bar = _sentence_bar(len(inputs), done) if show_progress else None
    # chunks come back as they finish; each is filed under its index, so the file keeps the input order. No work,
    # no executor: its workers would load the model first.
    for chunk in executor.map([step], todo, ordered=False) if todo else ():
        if not parts.is_dir():
            parts.mkdir(parents=True)
            write_json(parts / "settings.json", settings)
        with atomic_write(_chunk_file(parts, chunk.index)) as fh:  # no newline translation
            # a "\r" or U+2028 in a translation (byte-fallback vocabularies decode them) would be another line
            fh.writelines(one_line(line) + "\n" for line in chunk.lines)
        if bar is not None:
            bar.update(len(chunk.lines))
    if bar is not None:
        bar.close()
    with atomic_write(out) as fh:
        for start in chunks:
            path = _chunk_file(parts, start // chunk_size)
            with open(path, encoding="utf-8", newline="") as chunk_file:  # newline="": "\r" is not a line end here
                text = chunk_file.read()
            expected = min(chunk_size, len(inputs) - start)
            if text.count("\n") != expected or not text.endswith("\n"):
                raise DataError(f"{path}: {text.count(chr(10))} lines, not one per input ({expected}); delete it to "
                                "translate them again")
            fh.write(text)
    shutil.rmtree(partial, ignore_errors=True)
    return out


def _chunk_file(parts: Path, index: int) -> Path:
    return parts / f"chunk-{index:05d}.txt"


def _warn_of_other_settings(partial: Path, parts: Path, settings: dict) -> None:
    """A warning for the chunks in ``partial`` of other settings than ``settings`` (another model, beam, batch
    size, ...): they are not this run's, and go when it completes. Starting over was silent."""
    for other in sorted(p for p in partial.glob("*") if p.is_dir() and p != parts):
        finished = len(list(other.glob("chunk-*.txt")))
        if not finished:
            continue
        try:
            theirs = json.loads((other / "settings.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            theirs = None  # an older mtkit's folder
        differ = changed_keys(theirs, settings) if theirs is not None else []
        why = f"differ: {', '.join(differ)}" if differ else "an older mtkit's, which kept no settings.json"
        if any(k in _BATCH_SETTINGS for k in differ):
            why += "; batching is a setting here, as the batch a sentence is in can change its bf16/fp16 result"
        logger.warning("%s holds %d finished chunk(s) of other settings (%s): ignored, and removed when this run "
                       "completes", other, finished, why)


def _sentence_bar(total: int, initial: int):
    """A tqdm bar counting sentences (rate in sentences/s, ETA). tqdm directly, not ``utils.progress``: the bar
    advances by a batch or chunk at a time, not per item of an iterable."""
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="sent", desc="translating", smoothing=0.1)
