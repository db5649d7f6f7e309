"""Evaluation through sacrebleu: BLEU, chrF(++) and TER with target-language settings, paired significance.

The numbers are sacrebleu's own (mtkit only chooses settings and arranges reports), and every score carries its
sacrebleu signature. Settings by target language: BLEU tokenizer ``zh`` for Chinese, ``13a`` otherwise; chrF++
(word n-grams of order 2) for Latin-script targets and plain chrF for Chinese (its word n-grams would split on
spaces that Chinese does not write); TER ``normalized`` with ``asian_support`` for Chinese.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Sequence

from ..errors import ConfigError, DataError
from ..registry import Registry

__all__ = ["MetricScore", "METRICS", "metrics_for", "score_corpus", "compare_systems", "check_inputs",
           "SystemComparison"]

logger = logging.getLogger("mtkit.evaluate")

METRICS: Registry = Registry("metric")
CJK_TARGETS = ("zh", "ja", "ko", "yue")
_HAN = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")


@dataclass(slots=True)
class MetricScore:
    name: str
    score: float
    signature: str
    extra: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.name} = {self.score:.2f}  ({self.signature})"


@METRICS.register("bleu")
def _bleu(tgt_lang: str, *, bleu_tokenize: str | None = None, references=None):
    from sacrebleu.metrics import BLEU

    return BLEU(tokenize=bleu_tokenize or ("zh" if tgt_lang == "zh" else "13a"), references=references)


@METRICS.register("chrf")
def _chrf(tgt_lang: str, *, references=None, **_):
    from sacrebleu.metrics import CHRF

    return CHRF(word_order=0 if tgt_lang in CJK_TARGETS else 2, references=references)


@METRICS.register("ter")
def _ter(tgt_lang: str, *, references=None, **_):
    from sacrebleu.metrics import TER

    cjk = tgt_lang in CJK_TARGETS
    return TER(normalized=cjk, asian_support=cjk, references=references)


def metrics_for(tgt_lang: str, names: Sequence[str] = ("bleu", "chrf", "ter"), *, bleu_tokenize: str | None = None,
                references=None) -> dict:
    """sacrebleu metric objects with mtkit's settings for ``tgt_lang``, by name (``references`` cached in them
    when given, as the paired tests need)."""
    return {name: METRICS.get(name)(tgt_lang, bleu_tokenize=bleu_tokenize, references=references) for name in names}


def check_inputs(hypotheses: Sequence[str], references: Sequence[Sequence[str]], *, tgt_lang: str | None = None,
                 names: tuple[str, ...] = ()) -> None:
    """Clear errors for mismatched or empty inputs; a warning when the hypotheses' script does not fit the
    target language."""
    hyp_name = names[0] if names else "hypotheses"
    if not hypotheses:
        raise DataError(f"{hyp_name}: no lines to evaluate")
    for k, refs in enumerate(references):
        ref_name = names[k + 1] if len(names) > k + 1 else f"reference {k + 1}"
        if len(refs) != len(hypotheses):
            raise DataError(f"{hyp_name} has {len(hypotheses)} lines but {ref_name} has {len(refs)}")
    if tgt_lang:
        text = " ".join(hypotheses[:200])
        han, latin = len(_HAN.findall(text)), len(_LATIN.findall(text))
        if tgt_lang in ("zh",) and latin > 3 * han:
            logger.warning("%s: --tgt-lang is %s but the text is mostly Latin script", hyp_name, tgt_lang)
        if tgt_lang not in CJK_TARGETS and han > latin:
            logger.warning("%s: --tgt-lang is %s but the text is mostly Chinese characters", hyp_name, tgt_lang)


def _as_reference_sets(references) -> list[list[str]]:
    if references and isinstance(references[0], str):
        return [list(references)]
    return [list(r) for r in references]


def score_corpus(hypotheses: Sequence[str], references, *, tgt_lang: str, metrics=("bleu", "chrf", "ter"),
                 bleu_tokenize: str | None = None) -> dict[str, MetricScore]:
    """Corpus scores, keyed by metric name; ``references`` is one list of lines or several."""
    refs = _as_reference_sets(references)
    check_inputs(list(hypotheses), refs, tgt_lang=tgt_lang)
    out = {}
    for name, metric in metrics_for(tgt_lang, metrics, bleu_tokenize=bleu_tokenize).items():
        result = metric.corpus_score(list(hypotheses), refs)
        out[name] = MetricScore(result.name, float(result.score), str(metric.get_signature()),
                                {"text": str(result)})
    return out


@dataclass
class SystemComparison:
    """Paired test of several systems against a baseline (sacrebleu's PairedTest)."""

    method: str
    baseline: str
    signatures: dict[str, str]
    rows: list[dict]  # system, metric -> {score, mean, ci, p_value}


def compare_systems(systems: dict[str, Sequence[str]], references, *, tgt_lang: str, baseline: str | None = None,
                    method: str = "bs", n_samples: int | None = None, metrics=("bleu", "chrf", "ter"),
                    bleu_tokenize: str | None = None) -> SystemComparison:
    """Paired bootstrap resampling (``bs``) or approximate randomisation (``ar``) against ``baseline`` (the
    first system by default), with 95% confidence intervals and p-values, exactly as sacrebleu computes them."""
    from sacrebleu.significance import PairedTest

    if method not in ("bs", "ar"):
        raise ConfigError(f"unknown significance method {method!r}; known: bs, ar")
    if len(systems) < 2:
        raise ConfigError("a paired test needs at least two systems")
    baseline = baseline or next(iter(systems))
    if baseline not in systems:
        raise ConfigError(f"baseline {baseline!r} is not one of the systems: {', '.join(systems)}")
    refs = _as_reference_sets(references)
    for name, hyps in systems.items():
        check_inputs(list(hyps), refs, tgt_lang=tgt_lang, names=(name,))
    ordered = [(baseline, list(systems[baseline]))] + [(n, list(h)) for n, h in systems.items() if n != baseline]
    # the metrics cache the references' statistics, so resampling re-scores sums without re-tokenising
    objects = metrics_for(tgt_lang, metrics, bleu_tokenize=bleu_tokenize, references=refs)
    test = PairedTest(ordered, {name: m for name, m in objects.items()}, references=None, test_type=method,
                      n_samples=n_samples or (1000 if method == "bs" else 10000))
    signatures, results = test()
    rows = []
    for k, system in enumerate(results["System"]):
        row = {"system": system}
        for metric_name, column in results.items():
            if metric_name == "System":
                continue
            r = column[k]
            row[metric_name] = {"score": float(r.score), "mean": _f(r.mean), "ci": _f(r.ci), "p_value": _f(r.p_value)}
        rows.append(row)
    return SystemComparison(method, baseline, {k: str(v) for k, v in signatures.items()}, rows)


def _f(x) -> float | None:
    return None if x is None else float(x)
