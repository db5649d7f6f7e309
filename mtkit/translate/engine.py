"""Translation backends: one ``translate_batch`` call per batch of token ids, batching policy as arguments.

- ``hf``: ``model.generate``, the reference.
- ``mtkit``: our decoding loop. The encoder runs once per batch; for Marian, M2M100/NLLB, MBart and T5/mT5
  (MADLAD-400) the decoder step is :class:`~mtkit.translate.decoder.StaticDecoder` (static self-attention cache,
  cross-attention K/V computed once, a CUDA graph replay per step on CUDA); other families step the model with
  its own cache. Rows
  that finish are dropped from the batch (their cache rows, encoder states and masks with them), so that no
  step decodes padding for finished sentences. Logits pass through the same processors ``generate`` would
  build from the model's generation config, so greedy output equals ``generate``'s token for token (checked in
  the tests). Beam search (:mod:`~mtkit.translate.beam`) follows ``generate``'s bookkeeping over the same decoder.
- ``ct2``: CTranslate2 through its Transformers converter (converted models cached), for users who want it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path
from typing import Sequence

from ..cpu import PackedLinears
from ..errors import BackendError, ConfigError, missing_dependency
from ..registry import Registry

logger = logging.getLogger("mtkit.translate")
BACKENDS: Registry = Registry("translation backend")

# Generation-config fields the mtkit loop implements; any other non-default field sends the batch to generate.
SUPPORTED_GENERATION_FIELDS = {
    "forced_bos_token_id", "forced_eos_token_id", "bad_words_ids", "min_length", "min_new_tokens",
    "repetition_penalty", "no_repeat_ngram_size", "max_length", "max_new_tokens", "num_beams", "eos_token_id",
    "pad_token_id", "decoder_start_token_id", "bos_token_id", "use_cache", "length_penalty", "early_stopping",
    "do_sample", "output_attentions", "output_hidden_states", "_from_model_config", "transformers_version",
    "renormalize_logits", "remove_invalid_values", "num_return_sequences",
    # read by sampling only, and mtkit decodes with do_sample=False (generate too, HFBackend)
    "temperature", "top_k", "top_p", "typical_p", "min_p", "epsilon_cutoff", "eta_cutoff", "top_h",
    # read by assisted decoding only, which needs an assistant model that no backend passes
    "assistant_confidence_threshold", "assistant_lookbehind", "target_lookbehind", "num_assistant_tokens",
    "num_assistant_tokens_schedule", "assistant_early_exit",
}
# Values that leave greedy and beam search as they are. transformers 5's GenerationConfig() leaves these fields
# None, but a config that a Trainer or an older transformers saved spells them out (a model fine-tuned by
# `mtkit finetune` had all of them), and counting them as settings sent every batch of it to generate.
NEUTRAL_GENERATION_VALUES = {
    "num_beam_groups": (1,), "diversity_penalty": (0.0,), "encoder_repetition_penalty": (1.0,),
    "encoder_no_repeat_ngram_size": (0,), "output_scores": (False,), "output_logits": (False,),
    "return_dict_in_generate": (False,), "low_memory": (False,),
}


class TranslationBackend:
    """``translate_batch(source_ids, ...)``: token ids in, generated token ids out (no special tokens)."""

    name = ""

    def __init__(self, model, tokenizer, *, forced_bos_token_id: int | None = None):
        self.model = model
        self.tokenizer = tokenizer
        self.forced_bos_token_id = forced_bos_token_id

    def translate_batch(self, source_ids: Sequence[Sequence[int]], *, beam_size: int = 1, max_length: int = 256,
                        min_length: int = 0, length_penalty: float = 1.0) -> list[list[int]]:
        raise NotImplementedError

    def _inputs(self, source_ids):
        """Padded ids and attention mask on the model's device. Built in numpy (a per-row ``torch.tensor``
        cost 40 ms for 2,048 rows, time the GPU sat idle) and sent from pinned memory on CUDA."""
        import numpy as np
        import torch

        lengths = np.fromiter((len(s) for s in source_ids), dtype=np.int64, count=len(source_ids))
        ids = np.full((len(source_ids), int(lengths.max())), self.tokenizer.pad_token_id, dtype=np.int64)
        for row, seq in enumerate(source_ids):
            ids[row, :len(seq)] = seq
        mask = (np.arange(ids.shape[1])[None, :] < lengths[:, None]).astype(np.int64)
        device = next(self.model.parameters()).device
        if device.type != "cuda":
            return torch.from_numpy(ids), torch.from_numpy(mask)
        return tuple(torch.from_numpy(a).pin_memory().to(device, non_blocking=True) for a in (ids, mask))


def _strip(sequence: list[int], special: set[int]) -> list[int]:
    return [t for t in sequence if t not in special]


@BACKENDS.register("hf")
class HFBackend(TranslationBackend):
    name = "hf"

    def translate_batch(self, source_ids, *, beam_size=1, max_length=256, min_length=0, length_penalty=1.0):
        import torch

        ids, mask = self._inputs(source_ids)
        # max_length=None: the model's generation config often sets one, and transformers then warns on every
        # batch that max_new_tokens wins over it (which it does either way)
        kwargs = dict(num_beams=beam_size, max_new_tokens=max_length, max_length=None, do_sample=False,
                      length_penalty=length_penalty)
        if min_length:
            kwargs["min_new_tokens"] = min_length
        if self.forced_bos_token_id is not None:
            kwargs["forced_bos_token_id"] = self.forced_bos_token_id
        with torch.inference_mode():
            out = self.model.generate(input_ids=ids, attention_mask=mask, **kwargs)
        special = {self.model.generation_config.decoder_start_token_id, self.tokenizer.pad_token_id,
                   self.forced_bos_token_id, *_eos_ids(self.model)}
        return [_strip(row.tolist(), special) for row in out]


def _eos_ids(model) -> list[int]:
    eos = model.generation_config.eos_token_id
    return list(eos) if isinstance(eos, (list, tuple)) else [eos]


@BACKENDS.register("mtkit")
class MtkitBackend(TranslationBackend):
    name = "mtkit"

    def __init__(self, model, tokenizer, *, forced_bos_token_id: int | None = None):
        super().__init__(model, tokenizer, forced_bos_token_id=forced_bos_token_id)
        # on the CPU, the model's linear layers through oneDNN with packed weights (see mtkit.cpu)
        self._linears = PackedLinears()

    @contextlib.contextmanager
    def _running(self, device):
        """Where every decoding path runs: inference mode, and on the CPU the model's linear layers through oneDNN
        with packed weights (:class:`mtkit.cpu.PackedLinears`)."""
        import torch

        with torch.inference_mode(), self._linears.applied_to(self.model, device):
            yield

    def _unsupported_generation_fields(self) -> list[str]:
        config = self.model.generation_config
        defaults = type(config)()
        return sorted(k for k, v in config.to_dict().items()
                      if k not in SUPPORTED_GENERATION_FIELDS and v != getattr(defaults, k, None)
                      and v not in NEUTRAL_GENERATION_VALUES.get(k, ()))

    def _rules(self, max_length: int, min_length: int, device):
        """The score rules of ``generate``'s logits processors for this model: in-graph ones for minimum length
        and forced first/last tokens; transformers' own processors, eagerly, when the generation config asks
        for more (repetition penalty, no-repeat n-grams, bad words)."""
        from transformers import (ForcedBOSTokenLogitsProcessor, ForcedEOSTokenLogitsProcessor, LogitsProcessorList,
                                  MinNewTokensLengthLogitsProcessor, NoBadWordsLogitsProcessor,
                                  NoRepeatNGramLogitsProcessor, RepetitionPenaltyLogitsProcessor)

        from .search import ScoreRules

        config = self.model.generation_config
        eos = _eos_ids(self.model)
        forced_bos = self.forced_bos_token_id if self.forced_bos_token_id is not None else config.forced_bos_token_id
        forced_eos = config.forced_eos_token_id
        if isinstance(forced_eos, (list, tuple)) and len(forced_eos) == 1:
            forced_eos = forced_eos[0]
        general = (config.repetition_penalty not in (None, 1.0) or config.no_repeat_ngram_size or config.bad_words_ids
                   or isinstance(forced_eos, (list, tuple)))
        processors = None
        if general:
            processors = LogitsProcessorList()
            # the order generate uses (GenerationMixin._get_logits_processor)
            if config.repetition_penalty not in (None, 1.0):
                processors.append(RepetitionPenaltyLogitsProcessor(penalty=config.repetition_penalty))
            if config.no_repeat_ngram_size:
                processors.append(NoRepeatNGramLogitsProcessor(config.no_repeat_ngram_size))
            if config.bad_words_ids:
                processors.append(NoBadWordsLogitsProcessor(config.bad_words_ids, eos))
            if min_length:
                processors.append(MinNewTokensLengthLogitsProcessor(1, min_length, eos, device=device))
            if forced_bos is not None:
                processors.append(ForcedBOSTokenLogitsProcessor(forced_bos))
            if forced_eos is not None:
                processors.append(ForcedEOSTokenLogitsProcessor(max_length + 1, forced_eos, device=device))
        return ScoreRules(eos_ids=eos, min_length=min_length, max_length=max_length, forced_bos=forced_bos,
                          forced_eos=forced_eos, processors=processors, device=device)

    def translate_batch(self, source_ids, *, beam_size=1, max_length=256, min_length=0, length_penalty=1.0):
        from .decoder import static_decoder
        from .languages import model_family

        unsupported = self._unsupported_generation_fields()
        if self._decoder is None:
            self._decoder = static_decoder(self.model, model_family(self.model)) or False
            if self._decoder:
                self._decoder.linear = self._linears
        if unsupported or (beam_size > 1 and not self._decoder):
            if unsupported and not self._said_unsupported:
                # once, as a warning: every batch of this model goes to generate, at generate's speed
                self._said_unsupported = True
                logger.warning("the model's generation config sets %s, which the mtkit engine does not have: "
                               "decoding with generate (remove them from generation_config.json to use the "
                               "engine)", ", ".join(unsupported))
            return HFBackend(self.model, self.tokenizer, forced_bos_token_id=self.forced_bos_token_id).translate_batch(
                source_ids, beam_size=beam_size, max_length=max_length, min_length=min_length,
                length_penalty=length_penalty)
        if not self._decoder:  # no static decoder for this family: greedy through the model's own forward
            return self._greedy_dynamic(source_ids, max_length, min_length)
        if beam_size > 1:
            return self._beam(source_ids, beam_size, max_length, min_length, length_penalty)
        return self._greedy_static(source_ids, max_length, min_length)

    def _beam(self, source_ids, beam_size, max_length, min_length, length_penalty):
        from .beam import beam_search

        config = self.model.generation_config
        ids, mask = self._inputs(source_ids)
        with self._running(ids.device):
            encoder_states = self._encode(ids, mask)
            results = beam_search(self._decoder, encoder_states, mask, num_beams=beam_size, max_new_tokens=max_length,
                                  start_id=config.decoder_start_token_id, pad_id=self.tokenizer.pad_token_id,
                                  rules=self._rules(max_length, min_length, ids.device),
                                  length_penalty=length_penalty, early_stopping=config.early_stopping,
                                  defer_compaction=self.defer_compaction, cache_start=self.cache_start)
        return [_strip(r, self._special_ids()) for r in results]

    _decoder = None
    _said_unsupported = False

    # None: on CUDA, compaction waits until half the rows are done (it costs a graph capture); on the CPU it
    # happens at once. Tests set True to check the deferred path on the CPU.
    defer_compaction: bool | None = None
    # positions of the self-attention cache at a batch's start (None: decoder.CACHE_START); it doubles as needed.
    # Tests set a small one to make it grow.
    cache_start: int | None = None

    def _encode(self, ids, mask):
        """The encoder, once per batch; on CUDA without cuDNN's attention (for Marian's padded batches it ran
        several times slower than the memory-efficient kernel on an H100)."""
        from ..utils import attention_without_cudnn

        with attention_without_cudnn(ids.device):
            return self.model.get_encoder()(input_ids=ids, attention_mask=mask).last_hidden_state

    def _special_ids(self) -> set:
        config = self.model.generation_config
        return {config.decoder_start_token_id, self.tokenizer.pad_token_id, self.forced_bos_token_id,
                *_eos_ids(self.model)}

    def _greedy_static(self, source_ids, max_length, min_length):
        """Greedy search over the static decoder (:func:`~mtkit.translate.search.greedy_search`): on CUDA each
        step is one CUDA graph replay; finished rows are compacted out of the batch."""
        from .search import greedy_search

        config = self.model.generation_config
        ids, mask = self._inputs(source_ids)
        with self._running(ids.device):
            encoder_states = self._encode(ids, mask)
            results = greedy_search(self._decoder, encoder_states, mask, max_new_tokens=max_length,
                                    start_id=config.decoder_start_token_id, pad_id=self.tokenizer.pad_token_id,
                                    rules=self._rules(max_length, min_length, ids.device),
                                    defer_compaction=self.defer_compaction, cache_start=self.cache_start)
        return [_strip(r, self._special_ids()) for r in results]

    def _greedy_dynamic(self, source_ids, max_length, min_length):
        """Greedy search through the model's own forward with its dynamic cache (families without a static
        decoder, e.g. T5)."""
        import torch

        model = self.model
        config = model.generation_config
        ids, mask = self._inputs(source_ids)
        rules = self._rules(max_length, min_length, ids.device)
        batch = ids.shape[0]
        with self._running(ids.device):
            encoder_states = self._encode(ids, mask)
            active = torch.arange(batch, device=ids.device)  # original row of each active row
            tokens = torch.full((batch, 1), config.decoder_start_token_id, dtype=torch.long, device=ids.device)
            results: list[list[int] | None] = [None] * batch
            cache = None
            for step in range(max_length):
                out = model(encoder_outputs=(encoder_states,), attention_mask=mask, decoder_input_ids=tokens[:, -1:],
                            past_key_values=cache, use_cache=True)
                cache = out.past_key_values
                next_tokens = rules.choose(out.logits[:, -1, :], torch.tensor(step, device=ids.device), tokens)
                tokens = torch.cat([tokens, next_tokens[:, None]], dim=1)
                finished = torch.isin(next_tokens, rules.eos)
                if step == max_length - 1:
                    finished[:] = True
                if finished.any():
                    for r in torch.nonzero(finished).flatten().tolist():
                        results[active[r].item()] = tokens[r, 1:].tolist()
                    keep = torch.nonzero(~finished).flatten()
                    if keep.numel() == 0:
                        break
                    # compaction: finished rows leave the batch with their cache and encoder states
                    active, tokens = active[keep], tokens[keep]
                    encoder_states, mask = encoder_states[keep], mask[keep]
                    cache.batch_select_indices(keep)
        return [_strip(r or [], self._special_ids()) for r in results]


@BACKENDS.register("ct2")
class CT2Backend(TranslationBackend):
    """CTranslate2: the model is converted once with its Transformers converter and cached by model path."""

    name = "ct2"

    def __init__(self, model, tokenizer, *, forced_bos_token_id=None, model_path: str = "", device: str = "cpu",
                 compute_type: str = "default"):
        super().__init__(model, tokenizer, forced_bos_token_id=forced_bos_token_id)
        try:
            import ctranslate2
        except ImportError:
            raise missing_dependency("ctranslate2", "ct2") from None
        from ..utils import is_lora_adapter, option_text

        if is_lora_adapter(model_path):
            # CTranslate2's converter loads the path with transformers, which takes no adapter ("Unrecognized model
            # ... Should have a `model_type` key in its config.json")
            raise BackendError(f"CTranslate2 cannot convert {model_path}: a LoRA adapter, not a model; pass the merged "
                               "model (RUN/final/merged, from merge_lora: true) or another backend "
                               f"({option_text('backend', 'mtkit')} or hf)")
        target = _ct2_cache_dir(model_path)
        if not (target / "model.bin").is_file():
            try:
                with _ct2_loader_fixes(ctranslate2.converters.transformers):
                    ctranslate2.converters.TransformersConverter(str(model_path)).convert(str(target), force=True)
            except Exception as exc:  # noqa: BLE001
                raise BackendError(f"CTranslate2 cannot convert {model_path}: {exc}") from exc
        try:
            self.translator = ctranslate2.Translator(str(target), device=device, compute_type=compute_type)
        except ValueError as exc:  # a compute type the device cannot run (float16 on a CPU, ...)
            supported = ", ".join(sorted(ctranslate2.get_supported_compute_types(device)))
            raise BackendError(f"CTranslate2 cannot run {compute_type} on {device} ({exc}); this device supports: "
                               f"{supported}") from None

    def translate_batch(self, source_ids, *, beam_size=1, max_length=256, min_length=0, length_penalty=1.0):
        tokens = [self.tokenizer.convert_ids_to_tokens(list(s)) for s in source_ids]
        prefix = None
        if self.forced_bos_token_id is not None:
            prefix = [[self.tokenizer.convert_ids_to_tokens(self.forced_bos_token_id)]] * len(tokens)
        results = self.translator.translate_batch(tokens, target_prefix=prefix, beam_size=beam_size,
                                                  max_decoding_length=max_length, min_decoding_length=min_length,
                                                  length_penalty=length_penalty)
        special = {self.tokenizer.pad_token_id, self.forced_bos_token_id, *_eos_ids(self.model)}
        hypotheses = [self.tokenizer.convert_tokens_to_ids(r.hypotheses[0]) for r in results]
        if self.model.generation_config.forced_eos_token_id is not None:
            # generate forces EOS as the last of max_length tokens (Marian's default); CTranslate2 does not
            hypotheses = [h[:max_length - 1] if len(h) >= max_length else h for h in hypotheses]
        return [_strip(h, special) for h in hypotheses]


@contextlib.contextmanager
def _ct2_loader_fixes(converters):
    """CTranslate2's Transformers loaders for M2M100 and mBART, fixed for transformers 5, registered for one
    conversion (the originals are put back after it).

    - M2M100: the loader takes the language tokens (``__en__``, ...) from ``special_tokens_map
      ["additional_special_tokens"]``, which transformers 5's ``M2M100Tokenizer`` no longer fills, and
      ``get_vocab()`` no longer lists them either: the vocabulary came out 100 tokens short and the conversion
      failed ("Source vocabulary 0 has size 2011 but the model expected 2111", CTranslate2 4.8.5). The language
      tokens are added in id order, each checked to land on its id.
    - mBART: the loader reads ``config.normalize_before``, a key that fairseq-converted configs carry and one made
      with ``MBartConfig(...)`` (a model trained from scratch, the tests' models) lacks; transformers' mBART layers
      are pre-norm whatever it says, so a missing key means True. And it writes the tokenizer's ``bos_token``,
      which transformers 5's ``MBart50Tokenizer`` no longer defaults (a tokenizer made from the sentencepiece
      file alone has none), into the model's config, where CTranslate2 then fails to read a null ("type must be
      string, but is null"): mBART's ``<s>`` is its ``cls_token``.
    - T5 and mT5: the loader scales the decoder output by ``d_model ** -0.5`` when ``config.tie_word_embeddings``,
      which transformers 5 forces to True; a T5 saved with ``tie_word_embeddings: false`` (MADLAD-400, T5 v1.1) and
      every mT5 are not scaled there (:func:`~mtkit.translate.decoder.t5_scales_outputs`). The scaled logits kept
      greedy's argmax but not the beam scores: ``--beam 4`` gave other translations than ``hf`` and ``mtkit``.
    """
    from .decoder import t5_scales_outputs

    registry = converters._MODEL_LOADERS
    saved = {name: registry.get(name) for name in ("M2M100Config", "MBartConfig", "T5Config", "MT5Config")}
    if any(loader is None for loader in saved.values()):  # a CTranslate2 that changed its loaders: leave them
        yield
        return

    class M2M100Loader(type(saved["M2M100Config"])):
        def get_vocabulary(self, model, tokenizer):
            tokens = super().get_vocabulary(model, tokenizer)
            language_ids = getattr(tokenizer, "lang_token_to_id", None) or {}
            have = set(tokens)
            missing = sorted((i, t) for t, i in language_ids.items() if t not in have)
            if not missing:
                return tokens
            # the loader appended its fairseq padding tokens (madeupword0, ...) after too short a list: they go last
            tokens = [t for t in tokens if not t.startswith("madeupword")]
            for token_id, token in missing:
                if token_id != len(tokens):
                    raise BackendError(f"language token {token} has id {token_id}, not the vocabulary's next id "
                                       f"{len(tokens)}")
                tokens.append(token)
            return tokens + [f"madeupword{i}" for i in range(model.config.vocab_size - len(tokens))]

    class MBartLoader(type(saved["MBartConfig"])):
        def get_model_spec(self, model):
            if not hasattr(model.config, "normalize_before"):
                model.config.normalize_before = True
            return super().get_model_spec(model)

        def set_config(self, config, model, tokenizer):
            super().set_config(config, model, tokenizer)
            if config.bos_token is None:
                config.bos_token = tokenizer.cls_token

    def t5_loader(base):
        class T5Loader(base):
            def get_model_spec(self, model):
                from ctranslate2.specs import model_spec

                spec = super().get_model_spec(model)
                scaled = t5_scales_outputs(model.config)
                spec.decoder.scale_outputs = model.config.d_model ** -0.5 if scaled else model_spec.OPTIONAL
                return spec

        return T5Loader()

    with _CT2_LOADERS_LOCK:  # the registry is CTranslate2's, global: one conversion at a time swaps it
        registry.update(M2M100Config=M2M100Loader(), MBartConfig=MBartLoader(),
                        T5Config=t5_loader(type(saved["T5Config"])), MT5Config=t5_loader(type(saved["MT5Config"])))
        try:
            yield
        finally:
            registry.update(saved)


_CT2_LOADERS_LOCK = threading.Lock()


def _ct2_cache_dir(model_path: str) -> Path:
    """``~/.cache/mtkit/ct2/<hash>``, the hash over the model's path and its files' names, sizes and mtimes, so
    that a model saved again at the same path is converted again, and :data:`CT2_CONVERSION`."""
    from ..utils import folder_fingerprint, stable_hash

    return Path.home() / ".cache" / "mtkit" / "ct2" / stable_hash(folder_fingerprint(model_path), CT2_CONVERSION)


# The version of what _ct2_loader_fixes converts, in the cache key: a model converted before a fix is converted
# again (2: T5/mT5 output scaling).
CT2_CONVERSION = 2


def get_backend_class(name: str):
    if name not in BACKENDS:
        raise ConfigError(f"unknown backend {name!r}; known: auto, {', '.join(BACKENDS.names())}")
    return BACKENDS.get(name)
