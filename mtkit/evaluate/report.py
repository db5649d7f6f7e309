"""Evaluation reports: ``eval.json``, ``eval.md`` and a bar chart of the systems' scores with intervals."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

from ..utils import atomic_write, md_cell, write_json
from . import ComparisonRow, MetricScore, SystemComparison, score_corpus
from .metrics import Chrf

WORST_SEGMENTS = 10


def significance_method(method: str) -> str:
    return "paired bootstrap resampling" if method == "bs" else "approximate randomisation"


def significance_cell(r: ComparisonRow) -> str:
    """One system's score for one metric in sacrebleu's layout: score (bootstrap mean ± 95% CI), and the p-value
    against the baseline, starred below 0.05."""
    ci = f" ({r.mean:.2f} ± {r.ci:.2f})" if r.ci is not None else ""
    p = f" (p = {r.p_value:.4f}{'*' if r.p_value < 0.05 else ''})" if r.p_value is not None else ""
    return f"{r.score:.2f}{ci}{p}"


def breakdown(hypotheses: Sequence[str], references: Sequence[str], groups: Sequence[str], *, tgt_lang: str,
              bleu_tokenize: str | None = None) -> dict:
    """Scores per group (a document id, a bead type), each group scored as a corpus of its own."""
    members: dict[str, list[int]] = defaultdict(list)
    for k, g in enumerate(groups):
        members[g].append(k)
    out = {}
    for group, idx in sorted(members.items()):
        scores = score_corpus([hypotheses[k] for k in idx], [references[k] for k in idx], tgt_lang=tgt_lang,
                              bleu_tokenize=bleu_tokenize, check_script=False)
        out[group] = {"segments": len(idx), **{n: round(s.score, 4) for n, s in scores.items()}}
    return out


def worst_segments(hypotheses, references, sources=None, *, tgt_lang: str, n: int = WORST_SEGMENTS) -> list[dict]:
    """The ``n`` segments with the lowest sentence-level chrF (sacrebleu), source/reference/hypothesis side by side."""
    chrf = Chrf(tgt_lang)
    scored = [(chrf.sentence_score(h, [r]), k) for k, (h, r) in enumerate(zip(hypotheses, references))]
    rows = []
    for score, k in sorted(scored)[:n]:
        rows.append({"line": k + 1, "chrf": round(score, 2), "source": sources[k] if sources else None,
                     "reference": references[k], "hypothesis": hypotheses[k]})
    return rows


@dataclass
class EvalResult:
    """What an evaluation run gives, the same whether or not it wrote a report (``report_path``: its eval.json).

    ``scores``: system -> mtkit metric name -> score, the systems in the order given (the baseline of
    ``comparison`` first when it is the first). ``comparison``: the paired test, for two systems or more.
    ``breakdown``: system -> kind (``document``, ``bead type``) -> group -> ``{"segments": n, metric: score}``,
    for a dataset split (empty for files). ``worst_segments``: system -> the segments of lowest sentence chrF.
    ``evaluated``: what the scores are of (dataset, config, split, direction; the models and their decoding; the
    hypothesis and reference files), as eval.json records it and ``mtkit card`` reads it."""

    tgt_lang: str
    scores: dict[str, dict[str, MetricScore]]
    comparison: SystemComparison | None = None
    breakdown: dict = field(default_factory=dict)
    worst_segments: dict[str, list[dict]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    evaluated: dict = field(default_factory=dict)
    report_path: Path | None = None

    def to_report(self) -> dict:
        """eval.json's content."""
        return {
            "tgt_lang": self.tgt_lang,
            "evaluated": self.evaluated,
            "systems": {sys: {m: asdict(s) for m, s in metrics.items()} for sys, metrics in self.scores.items()},
            # eval.json sorts its keys: the systems' order (baseline first when compared) is kept here
            "system_order": list(self.scores),
            "comparison": asdict(self.comparison) if self.comparison else None,
            "breakdown": self.breakdown,
            "worst_segments": self.worst_segments,
            "notes": list(self.notes),
        }


def write_eval_report(out_dir: str | Path, result: EvalResult) -> Path:
    """``eval.json``, ``eval.md`` and ``eval.png`` of ``result`` in ``out_dir``; returns eval.json's path."""
    out = Path(out_dir)
    report = result.to_report()
    write_json(out / "eval.json", report)
    with atomic_write(out / "eval.md") as fh:
        fh.write(render_markdown(report))
    write_chart(out / "eval.png", result.scores, result.comparison)
    return out / "eval.json"


def render_markdown(report: dict) -> str:
    evaluated = report.get("evaluated") or {}
    lines = ["# Evaluation", "", f"Target language: {report['tgt_lang']}", ""]
    if evaluated.get("dataset"):
        lines += [f"Scored on `{md_cell(evaluated['dataset'])}` ({evaluated['config']}), {evaluated['split']} split, "
                  f"{evaluated['direction']}.", ""]
    if evaluated.get("decoding"):
        lines += [f"Models decoded with beam size {evaluated['decoding']['beam_size']} and at most "
                  f"{evaluated['decoding']['max_length']} tokens.", ""]
    lines += ["| system | metric | score | signature |", "|---|---|---|---|"]
    for system in report.get("system_order") or report["systems"]:
        for m in report["systems"][system].values():
            lines.append(f"| {system} | {m['name']} | {m['score']:.2f} | `{md_cell(m['signature'])}` |")
    if report["comparison"]:
        comparison = SystemComparison.from_dict(report["comparison"])
        metrics = comparison.metrics  # mtkit name -> sacrebleu's, which the table and signatures show
        lines += ["", f"## Significance ({significance_method(comparison.method)}, baseline {comparison.baseline})",
                  "", "Each cell: score (bootstrap mean ± 95% CI) and, against the baseline, the p-value (* below "
                  "0.05).", "", "| system | " + " | ".join(metrics.values()) + " |", "|---" * (len(metrics) + 1) + "|"]
        for system in comparison.systems:
            cells = [significance_cell(comparison.row(system, metric)) for metric in metrics]
            lines.append(f"| {system} | " + " | ".join(cells) + " |")
        lines += ["", "Signatures: " + "; ".join(f"{metrics[k]}: `{v}`" for k, v in comparison.signatures.items())]
    for system, groups in report["breakdown"].items():
        metrics = [m for m in report["systems"][system] if m != "comet"]  # the breakdown scores these
        names = [report["systems"][system][m]["name"] for m in metrics]
        for kind, rows in groups.items():
            lines += ["", f"## {system}: by {kind}", ""]
            if kind == "bead type" and evaluated.get("direction"):
                src, tgt = evaluated["src_lang"], evaluated["tgt_lang"]
                lines += [f"Bead type: sentences in the source ({src}) - in the reference ({tgt}).", ""]
            lines += [f"| {kind} | segments | " + " | ".join(names) + " |", "|---" * (len(names) + 2) + "|"]
            for group, r in rows.items():
                cells = [md_cell(group), str(r["segments"])] + [f"{r[m]:.2f}" if m in r else "" for m in metrics]
                lines.append("| " + " | ".join(cells) + " |")
    for system, rows in report["worst_segments"].items():
        lines += ["", f"## {system}: worst segments (sentence chrF)", "",
                  "| line | chrF | source | reference | hypothesis |",
                  "|---|---|---|---|---|"]
        for r in rows:
            texts = [md_cell(r[k]) for k in ("source", "reference", "hypothesis")]
            lines.append(f"| {r['line']} | {r['chrf']} | " + " | ".join(texts) + " |")
    if report["notes"]:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in report["notes"]]
    return "\n".join(lines) + "\n"


def read_eval_report(path: str | Path) -> dict:
    """An ``eval.json`` read back for ``mtkit card``, with one clear DataError for a missing or malformed file."""
    import json

    from ..errors import DataError

    if Path(path).is_dir():  # the folder given to `evaluate --out`
        path = Path(path) / "eval.json"
    try:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not an eval.json ({exc})") from None
    systems = report.get("systems") if isinstance(report, dict) else None
    if not isinstance(systems, dict) or not systems:
        raise DataError(f"{path}: not an eval.json from `mtkit evaluate --out` (no systems' scores)")
    for system, scores in systems.items():
        if not isinstance(scores, dict) or not all(
                isinstance(v, dict) and {"name", "score", "signature"} <= v.keys() for v in scores.values()):
            raise DataError(f"{path}: system {system!r} has no scores of the form eval.json writes "
                            "(name, score, signature)")
    if not isinstance(report.get("evaluated") or {}, dict):
        raise DataError(f"{path}: its 'evaluated' entry is not an object")
    return report


def write_chart(path: Path, scores: dict[str, dict[str, MetricScore]], comparison: SystemComparison | None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    systems = list(scores)
    metrics = list(next(iter(scores.values())))
    ci = {(row.system, row.metric): row.ci or 0.0 for row in comparison.rows} if comparison else {}
    fig, ax = plt.subplots(figsize=(1.5 + 1.6 * len(metrics) * max(1, len(systems)) / 2, 3.5), dpi=100)
    width = 0.8 / len(systems)
    x = np.arange(len(metrics))
    for k, system in enumerate(systems):
        values = [scores[system][m].score for m in metrics]
        errors = [ci.get((system, m), 0.0) for m in metrics]
        ax.bar(x + k * width, values, width, yerr=errors, capsize=3, label=system)
    ax.set_xticks(x + width * (len(systems) - 1) / 2, [scores[systems[0]][m].name for m in metrics])
    ax.set_ylabel("score")
    ax.set_title("error bars: 95% CI (paired bootstrap); TER: lower is better" if ci else "TER: lower is better",
                 fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format="png", metadata={"Software": None})
    plt.close(fig)
