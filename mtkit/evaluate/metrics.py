"""One class per metric over a shared :class:`Metric` base, as sacrebleu's ``metrics/`` is laid out.

mtkit does not re-implement any metric: each class only picks sacrebleu's settings for a target language and
wraps sacrebleu's own metric object (``.sacrebleu``), so that scores, signatures and paired tests are exactly
sacrebleu's. Defaults are class constants; a setting given explicitly overrides the language default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from ..registry import Registry

METRICS: Registry = Registry("metric")

# targets written without spaces between words: word n-grams and 13a tokenization do not fit them
CJK_TARGETS = ("zh", "ja", "ko", "yue")


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
        self.tgt_lang = tgt_lang
        self.cjk = tgt_lang in CJK_TARGETS
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
    TOKENIZE_CJK = "zh"
    TOKENIZE = "13a"

    def __init__(self, tgt_lang: str, *, tokenize: str | None = None, references=None):
        self.tokenize = tokenize
        super().__init__(tgt_lang, references=references)

    def _build(self, references):
        from sacrebleu.metrics import BLEU

        from ..errors import ConfigError

        tokenize = self.tokenize or (self.TOKENIZE_CJK if self.tgt_lang == "zh" else self.TOKENIZE)
        if tokenize not in BLEU.TOKENIZERS:
            raise ConfigError(f"unknown BLEU tokenizer {tokenize!r}; known: {', '.join(BLEU.TOKENIZERS)}")
        return BLEU(tokenize=tokenize, references=references)


@METRICS.register("chrf")
class Chrf(Metric):
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
    """mtkit's metric units for ``tgt_lang`` by name (``.sacrebleu`` holds sacrebleu's object)."""
    out = {}
    for name in names:
        cls = METRICS.get(name)
        kwargs = {"tokenize": bleu_tokenize} if cls is Bleu else {}
        out[name] = cls(tgt_lang, references=references, **kwargs)
    return out
