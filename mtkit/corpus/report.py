"""The build report: ``report.json`` (everything), ``report.md`` (for people) and ``score_hist.png``."""

from __future__ import annotations

from pathlib import Path

from ..utils import atomic_write, md_cell, write_json


def write_report(out_dir: Path, report: dict, scores: list[float]) -> None:
    write_json(out_dir / "report.json", report)
    with atomic_write(out_dir / "report.md") as fh:
        fh.write(render_markdown(report))
    write_histogram(out_dir / "score_hist.png", scores)


def render_markdown(report: dict) -> str:
    lines = [f"# Build report: {report['corpus']}", "", f"Signature: `{report['signature']}`", "",
             f"Encoder: `{report['encoder']}`", ""]
    if report["warnings"]:
        lines += ["## Warnings", ""] + [f"- {w}" for w in report["warnings"]] + [""]
    lines += ["## Documents", "", "| document | lang | script | paragraphs | sentences | removed (rule: count) |",
              "|---|---|---|---|---|---|"]
    for doc_id, d in report["documents"].items():
        removed = ", ".join(f"{k}: {v}" for k, v in d["removed"].items())
        # documents with no other version are not segmented: the builder only segments what it aligns
        sentences = "not aligned" if d.get("sentences") is None else d["sentences"]
        lines.append(f"| {doc_id} | {d['lang']} | {d['script']} | {d['paragraphs']} | {sentences} | {removed} |")
    if report["skipped_pages"]:
        lines += ["", "## Skipped pages", "", "| document | file | declared languages | story | reason |",
                  "|---|---|---|---|---|"]
        lines += ["| " + " | ".join(md_cell(x) for x in (p["document"], p["file"], ", ".join(p["languages"]),
                                                          p["story"], p["reason"])) + " |"
                  for p in report["skipped_pages"]]
    # documents paired by similarity (an unlabelled crawl): the pairing's score beside the story it made
    paired = any("document_pairing_score" in p for p in report["pairs"])
    lines += ["", "## Aligned document pairs", "",
              "| story | " + ("document pairing score | " if paired else "") + "config | source | target | sentences "
              "| beads by type | unaligned | mean score | kept | dropped by filter |",
              "|---" * (10 + paired) + "|"]
    for p in report["pairs"]:
        beads = ", ".join(f"{k}: {v}" for k, v in p["beads"].items())
        mean = "" if p["mean_score"] is None else f"{p['mean_score']:.3f}"
        counts = p.get("filters", {})
        pairing = p.get("document_pairing_score")
        pairing = (f"{pairing:.3f} | " if pairing is not None else "| ") if paired else ""
        lines.append(f"| {p['story']} | {pairing}{p['config']} | {p['src_doc']} | {p['tgt_doc']} | "
                     f"{p['src_sentences']}/{p['tgt_sentences']} | {beads} | {p['unaligned_sentences']} | {mean} | "
                     f"{counts.get('kept', 0)}/{counts.get('input', 0)} | {_dropped(counts)} |")
    lines += ["", "## Filters", "", "| config | input | kept | dropped by filter |", "|---|---|---|---|"]
    for config, counts in report["filters"].items():
        lines.append(f"| {config} | {counts.get('input', 0)} | {counts.get('kept', 0)} | {_dropped(counts)} |")
    lines += ["", "## Splits", "", "| config | train | dev | test |", "|---|---|---|---|"]
    for config, splits in report["splits"].items():
        lines.append(f"| {config} | {splits.get('train', 0)} | {splits.get('dev', 0)} | {splits.get('test', 0)} |")
    lines += ["", "Alignment scores of all aligned pairs: `score_hist.png`.", ""]
    return "\n".join(lines)


def _dropped(counts: dict) -> str:
    """``name: n, ...`` from datatrove-style ``dropped_<filter>`` counters."""
    return ", ".join(f"{k.removeprefix('dropped_')}: {v}" for k, v in counts.items() if k.startswith("dropped_"))


def write_histogram(path: Path, scores: list[float]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    ax.hist(scores, bins=30, color="#4c72b0")
    ax.set_xlabel("alignment score (margin cosine x length penalty)")
    ax.set_ylabel("pairs")
    ax.set_title(f"Alignment scores ({len(scores)} pairs)")
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp")
    # no creation date in the PNG metadata, so that re-runs write the same bytes
    fig.savefig(tmp, format="png", metadata={"Software": None})
    plt.close(fig)
    tmp.replace(path)
