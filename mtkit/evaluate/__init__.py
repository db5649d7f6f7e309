"""Evaluation through sacrebleu: BLEU, chrF(++) and TER with target-language settings, paired significance.

The numbers are sacrebleu's own (mtkit only chooses settings and arranges reports), and every score carries its
sacrebleu signature. Settings by target language (any spelling: zh-TW, zho_Hans and yue are Chinese): BLEU
tokenizer ``zh`` for Chinese, ``ja-mecab``/``ko-mecab`` for Japanese/Korean (``char`` with a warning when MeCab is
not installed), ``13a`` otherwise; chrF++ (word n-grams of order 2) for other targets and plain chrF for Chinese,
Japanese and Korean (their word n-grams would split on spaces they do not write); TER ``normalized`` with
``asian_support`` for them (sacrebleu applies Asian support only with normalisation).
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from typing import Mapping, Sequence

from .. import _lazy
from ..errors import ConfigError, DataError
from ..ingest.langid import han_and_latin
from ..utils import check_text_iterable, checked_texts
from .metrics import CJK_TARGETS, METRICS, Metric, MetricScore, metric_language, metrics_for

__all__ = ["MetricScore", "Metric", "METRICS", "metrics_for", "score_corpus", "compare_systems", "check_inputs",
           "ComparisonRow", "SystemComparison", "EvalResult", "evaluate_dataset", "evaluate_files",
           "write_model_card"]

# the run and card modules import heavier packages (datasets, huggingface_hub): loaded on first use
__getattr__, __dir__ = _lazy.lazy_attributes(__name__, globals(), {
    "evaluate_dataset": "run", "evaluate_files": "run", "EvalResult": "run", "write_model_card": "card"})

logger = logging.getLogger("mtkit.evaluate")



def check_inputs(hypotheses: Sequence[str], references: Sequence[Sequence[str]], *, tgt_lang: str | None = None,
                 names: tuple[str, ...] = (), target_from: str = "--tgt-lang") -> None:
    """Clear errors for mismatched or empty inputs; a warning when the hypotheses' script does not fit the
    target language (no ``tgt_lang``: no script check). ``target_from`` names where the target language came
    from, for the warning (the option, or a dataset's direction)."""
    hyp_name = names[0] if names else "hypotheses"
    if not hypotheses:
        raise DataError(f"{hyp_name}: no lines to evaluate")
    ref_names = [names[k + 1] if len(names) > k + 1 else f"reference {k + 1}" for k in range(len(references))]
    if len({len(refs) for refs in references}) > 1:
        counts = ", ".join(f"{name} has {len(refs)}" for name, refs in zip(ref_names, references))
        raise DataError(f"the reference sets differ in length ({counts} lines); each must match the hypotheses")
    for ref_name, refs in zip(ref_names, references):
        if len(refs) != len(hypotheses):
            raise DataError(f"{hyp_name} has {len(hypotheses)} lines but {ref_name} has {len(refs)}")
    if tgt_lang:
        text = " ".join(hypotheses[:200])
        han, latin = han_and_latin(text)
        language = metric_language(tgt_lang)  # zh-TW and yue are Chinese targets; ja writes kanji
        if language == "zh" and latin > 3 * han:
            logger.warning("%s: %s is %s but the text is mostly Latin script", hyp_name, target_from, tgt_lang)
        if language not in CJK_TARGETS and han > latin:
            logger.warning("%s: %s is %s but the text is mostly Chinese characters", hyp_name, target_from,
                           tgt_lang)


def _as_lines(lines, name: str, example: str) -> list[str]:
    """``lines`` as a list of strings; a bare string (its characters would be taken for lines) or a line that is
    not a string is a TypeError (:func:`~mtkit.utils.checked_texts`) naming the fix, or the line."""
    return list(checked_texts(lines, name, items="lines", hint=f"give {example}"))


def _as_reference_sets(references) -> list[list[str]]:
    """One list of reference lines, or several (any iterables), as a list of reference sets."""
    example = "references=[line, ...] or [[line, ...], [line, ...]] for several references"
    check_text_iterable(references, "references", items="lines", hint=f"give {example}")
    references = list(references)
    if not references:
        raise DataError(f"no references given: {example}")
    if isinstance(references[0], str):
        return [_as_lines(references, "references", example)]
    return [_as_lines(refs, f"references[{k}]", example) for k, refs in enumerate(references)]


def score_corpus(hypotheses: Sequence[str], references, *, tgt_lang: str, metrics=("bleu", "chrf", "ter"),
                 bleu_tokenize: str | None = None, check_script: bool = True) -> dict[str, MetricScore]:
    """Corpus scores, keyed by metric name; ``references`` is one list of lines or several.
    ``check_script=False`` skips the script warning (for callers that checked the whole output once already)."""
    refs = _as_reference_sets(references)
    hypotheses = _as_lines(hypotheses, "hypotheses", "score_corpus([line, ...], references, ...)")
    check_inputs(hypotheses, refs, tgt_lang=tgt_lang if check_script else None)
    return {name: metric.corpus_score(hypotheses, refs)
            for name, metric in metrics_for(tgt_lang, metrics, bleu_tokenize=bleu_tokenize).items()}


SEED = 12345  # sacrebleu's default SACREBLEU_SEED
N_SAMPLES = {"bs": 1000, "ar": 10000}  # sacrebleu's defaults
N_CONFIDENCE = 1000  # bootstrap samples for approximate randomisation's CIs (sacrebleu's --confidence-n)


@contextlib.contextmanager
def _env(name: str, value: str):
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            del os.environ[name]
        else:
            os.environ[name] = old


@dataclass(slots=True)
class ComparisonRow:
    """One system's result for one metric in a paired test, as sacrebleu's PairedTest gives it: the score, the
    bootstrap mean and 95% confidence interval (None where none was computed), and the p-value against the
    baseline (None for the baseline itself)."""

    system: str
    metric: str  # mtkit's metric name, as score_corpus keys its scores: bleu, chrf, ter
    name: str  # sacrebleu's name for it, which its signature goes with: BLEU, chrF2++, TER
    score: float
    mean: float | None
    ci: float | None
    p_value: float | None


@dataclass
class SystemComparison:
    """Paired test of several systems against a baseline (sacrebleu's PairedTest): one row per system and metric,
    systems in the order compared (the baseline first), metrics in the order asked for."""

    method: str  # bs (paired bootstrap resampling) or ar (approximate randomisation)
    baseline: str
    signatures: dict[str, str]  # mtkit metric name -> sacrebleu signature of the test
    rows: list[ComparisonRow]

    @property
    def systems(self) -> list[str]:
        return list(dict.fromkeys(row.system for row in self.rows))

    @property
    def metrics(self) -> dict[str, str]:
        """mtkit metric name -> sacrebleu's name (``{"bleu": "BLEU", "chrf": "chrF2++", "ter": "TER"}``)."""
        return {row.metric: row.name for row in self.rows}

    @classmethod
    def from_dict(cls, data: dict) -> "SystemComparison":
        """A comparison read back from its ``dataclasses.asdict`` form (eval.json's ``comparison``)."""
        return cls(data["method"], data["baseline"], dict(data["signatures"]),
                   [ComparisonRow(**row) for row in data["rows"]])

    def row(self, system: str, metric: str) -> ComparisonRow:
        """The row of ``system`` and ``metric`` (an mtkit metric name or alias)."""
        metric = METRICS.canonical(metric)
        for row in self.rows:
            if row.system == system and row.metric == metric:
                return row
        raise KeyError((system, metric))


def compare_systems(systems: dict[str, Sequence[str]], references, *, tgt_lang: str, baseline: str | None = None,
                    method: str = "bs", n_samples: int | None = None, seed: int | None = SEED,
                    metrics=("bleu", "chrf", "ter"), bleu_tokenize: str | None = None,
                    check_script: bool = True) -> SystemComparison:
    """Paired bootstrap resampling (``bs``) or approximate randomisation (``ar``) against ``baseline`` (the
    first system by default), with 95% confidence intervals and p-values, exactly as sacrebleu computes them.
    ``systems`` is a dict of system name -> lines; ``metrics`` are mtkit's metric names, as for
    :func:`score_corpus`, and key the result's rows and signatures. ``seed=None`` resamples unseeded, as sacrebleu
    does with SACREBLEU_SEED=None."""
    from sacrebleu.significance import PairedTest

    if not isinstance(systems, Mapping):
        raise TypeError(f"systems is a {type(systems).__name__}; give a dict of system name -> lines: "
                        "compare_systems({name: [line, ...], ...}, references, ...)")
    if method not in ("bs", "ar"):
        raise ConfigError(f"unknown significance method {method!r}; known: bs, ar")
    if len(systems) < 2:
        raise ConfigError("a paired test needs at least two systems")
    if n_samples is not None and n_samples < 1:
        raise ConfigError(f"the number of resamples must be at least 1, not {n_samples}")
    if seed is not None and seed < 1:
        # sacrebleu's PairedTest hands each comparison `seed if seed else None`: seed 0 draws from OS entropy
        # (p-values change from run to run while the signature says seed:0), and numpy rejects a negative seed
        raise ConfigError(f"the resampling seed must be a positive integer (sacrebleu does not fix 0), not {seed}")
    baseline = baseline or next(iter(systems))
    if baseline not in systems:
        raise ConfigError(f"baseline {baseline!r} is not one of the systems: {', '.join(systems)}")
    refs = _as_reference_sets(references)
    systems = {name: _as_lines(hyps, f"systems[{name!r}]",
                               "compare_systems({name: [line, ...], ...}, references, ...)")
               for name, hyps in systems.items()}
    for name, hyps in systems.items():
        check_inputs(hyps, refs, tgt_lang=tgt_lang if check_script else None, names=(name,))
    ordered = [(baseline, list(systems[baseline]))] + [(n, list(h)) for n, h in systems.items() if n != baseline]
    # the metrics cache the references' statistics, so resampling re-scores sums without re-tokenising
    objects = metrics_for(tgt_lang, metrics, bleu_tokenize=bleu_tokenize, references=refs)
    confidence_n = N_CONFIDENCE if method == "ar" else -1  # bs gives its CIs itself; ar needs bootstrap for them
    # sacrebleu reads its resampling seed from SACREBLEU_SEED (construction and call both resample)
    # seed None: sacrebleu's SACREBLEU_SEED=None, entropy from the OS (seed:none in the signature)
    with _env("SACREBLEU_SEED", str(seed)):
        test = PairedTest(ordered, {name: m.sacrebleu for name, m in objects.items()}, references=None,
                          test_type=method, n_samples=n_samples or N_SAMPLES[method], n_ar_confidence=confidence_n)
        signatures, results = test()
    # sacrebleu keys its columns and signatures by its own names (BLEU, chrF2++), in the order of the metrics given
    names = dict(zip(objects, (column for column in results if column != "System")))
    rows = [ComparisonRow(system, metric, name, float(results[name][k].score), _f(results[name][k].mean),
                          _f(results[name][k].ci), _f(results[name][k].p_value))
            for k, system in enumerate(results["System"]) for metric, name in names.items()]
    return SystemComparison(method, baseline, {metric: str(signatures[name]) for metric, name in names.items()},
                            rows)


def _f(x) -> float | None:
    return None if x is None else float(x)
