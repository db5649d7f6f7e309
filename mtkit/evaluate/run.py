"""Evaluation runs: systems' output files against reference files, or systems on a split of a built dataset."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..errors import ConfigError, DataError
from . import SEED, MetricScore, compare_systems, score_corpus
from .report import breakdown, worst_segments, write_eval_report

COMET_NOTE = ("COMET not computed: `unbabel-comet` is not importable here (it pins transformers < 5 and "
              "huggingface-hub < 1, so it needs an environment of its own); no score is reported rather than a "
              "guessed one.")
COMET_NO_MODEL = ("COMET not computed: `unbabel-comet` is importable but no local COMET model was given "
                  "(MTKIT_COMET_MODEL); no score is reported rather than a guessed one.")


def comet_note() -> str | None:
    """Why there is no COMET score, or None when COMET could run (a package and a local model)."""
    import importlib.util
    import os

    if importlib.util.find_spec("comet") is None:
        return COMET_NOTE
    if not os.environ.get("MTKIT_COMET_MODEL"):
        return COMET_NO_MODEL
    return None


def comet_score(sources: Sequence[str], hypotheses: Sequence[str], references: Sequence[str]) -> MetricScore:
    """COMET system score from the local checkpoint in MTKIT_COMET_MODEL (unbabel-comet's own API)."""
    import os

    from comet import load_from_checkpoint

    path = os.environ["MTKIT_COMET_MODEL"]
    model = load_from_checkpoint(path)
    data = [{"src": s, "mt": h, "ref": r} for s, h, r in zip(sources, hypotheses, references)]
    output = model.predict(data, batch_size=16, gpus=0, progress_bar=False)
    return MetricScore("COMET", float(output.system_score), f"comet|model:{Path(path).name}")


def read_lines(path: str | Path) -> list[str]:
    """Lines as sacrebleu reads them: split at ``\\n`` only (not at the form feeds, U+2028 and other breaks that
    ``str.splitlines`` also splits at), a final ``\\r`` dropped. One difference: a UTF-8 byte-order mark is read
    past (sacrebleu keeps it as the first line's first character, where it costs chrF a little), and a file in
    another encoding is decoded with a warning (sacrebleu fails on it)."""
    import logging

    from ..ingest.decode import read_text_file

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    text, encoding = read_text_file(path)
    if encoding not in ("utf-8", "ascii"):
        logging.getLogger("mtkit.evaluate").warning("%s: not UTF-8; read as %s", path, encoding)
    lines = [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    if not any(line.strip() for line in lines):
        raise DataError(f"{path}: empty file")
    return lines


def parse_direction(direction: str | None, config: str) -> tuple[str, str]:
    """``zh->en`` checked against the config's languages; no direction means the config's order (en-zh: en->zh)."""
    langs = config.split("-")
    if not direction:
        if len(langs) != 2:
            raise ConfigError(f"config {config!r} is not a language pair such as en-zh; give --direction")
        return langs[0], langs[1]
    try:
        src, tgt = (x.strip() for x in direction.split("->"))
    except ValueError:
        raise ConfigError(f"direction {direction!r} is not of the form SRC->TGT, e.g. zh->en") from None
    if {src, tgt} != set(langs):
        raise ConfigError(f"direction {direction!r} does not fit config {config!r} (languages: {', '.join(langs)})")
    return src, tgt


@dataclass
class DatasetSplit:
    sources: list[str]
    references: list[str]
    documents: list[str]
    bead_types: list[str]


def load_split(dataset: str | Path, config: str, split: str, *, src: str, tgt: str) -> DatasetSplit:
    """A split of a built dataset folder (or a Hub dataset) as parallel lists, with provenance columns."""
    from ..corpus.dataset import translation_split

    rows = translation_split(dataset, config, split, (src, tgt)).to_list()
    if not rows:
        raise DataError(f"{dataset} ({config}): split {split!r} is empty")
    return DatasetSplit([r["translation"][src] for r in rows], [r["translation"][tgt] for r in rows],
                        [_source_document(r, src) for r in rows], [r.get("bead_type") or "" for r in rows])


def _source_document(row: dict, src: str) -> str:
    """The document of the row's ``src`` side when the row says which side that is (src_doc/tgt_doc with
    src_lang); doc_id in other datasets. Decided per row: a config's rows need not share one orientation
    (``export_corpus`` writes each pair as aligned, zh->en and en->zh rows side by side)."""
    if "src_doc" in row:
        return (row["src_doc"] if row.get("src_lang", src) == src else row.get("tgt_doc")) or ""
    return row.get("doc_id") or ""


def evaluate_files(hyp_paths: Sequence[str], ref_paths: Sequence[str], *, tgt_lang: str, src_path: str | None = None,
                   out_dir: str | None = None, baseline: str | None = None, method: str | None = None,
                   n_samples: int | None = None, seed: int = SEED, bleu_tokenize: str | None = None,
                   system_names: Sequence[str] = ()) -> dict:
    """Score hypothesis files (one system each, named by ``system_names`` or the file names) against one or more
    reference files."""
    names = list(system_names) or [Path(p).name for p in hyp_paths]
    if len(names) != len(hyp_paths):
        raise ConfigError(f"{len(names)} system names for {len(hyp_paths)} hypothesis files")
    if len(set(names)) != len(names):
        raise ConfigError(f"system names repeat ({', '.join(names)}); give distinct names with --systems")
    refs = [read_lines(p) for p in ref_paths]
    systems = {name: read_lines(p) for name, p in zip(names, hyp_paths)}
    sources = read_lines(src_path) if src_path else None
    return _evaluate(systems, refs, tgt_lang=tgt_lang, sources=sources, out_dir=out_dir, baseline=baseline,
                     method=method, n_samples=n_samples, seed=seed, bleu_tokenize=bleu_tokenize,
                     names={n: (p, *ref_paths) for n, p in zip(systems, hyp_paths)})


def evaluate_dataset(dataset: str | Path, *, config: str, split: str = "test", direction: str | None = None,
                     models: Sequence[str] = (), hyp_paths: Sequence[str] = (), system_names: Sequence[str] = (),
                     out_dir: str | None = None, baseline: str | None = None, method: str | None = None,
                     n_samples: int | None = None, seed: int = SEED, backend: str = "auto", beam_size: int = 4,
                     max_length: int | None = None, bleu_tokenize: str | None = None, translator_factory=None) -> dict:
    """Translate the split's sources with each model (or read hypothesis files), then score, break down by
    document and bead type, and compare systems. ``translator_factory(model)`` must return an object with
    ``translate(list_of_str, beam_size=..., max_length=...) -> list[str]``; default: :class:`mtkit.translate.Translator`
    on ``backend``."""
    src, tgt = parse_direction(direction, config)
    data = load_split(dataset, config, split, src=src, tgt=tgt)
    systems: dict[str, list[str]] = {}
    names = list(system_names) or [Path(m).name for m in models] + [Path(h).name for h in hyp_paths]
    if len(names) != len(models) + len(hyp_paths):
        raise ConfigError(f"{len(names)} system names for {len(models) + len(hyp_paths)} systems")
    if len(set(names)) != len(names):
        raise ConfigError(f"system names repeat ({', '.join(names)}); give distinct names with --systems")
    if translator_factory is None:
        from ..translate import Translator

        def translator_factory(model):
            return Translator(model, backend=backend, src_lang=src, tgt_lang=tgt)
    for name, model in zip(names, models):
        settings = {"beam_size": beam_size} | ({"max_length": max_length} if max_length else {})
        systems[name] = translator_factory(model).translate(data.sources, **settings)
    for name, path in zip(names[len(models):], hyp_paths):
        systems[name] = read_lines(path)
    if not systems:
        raise ConfigError("give at least one --model or --hyp")
    return _evaluate(systems, [data.references], tgt_lang=tgt, sources=data.sources, out_dir=out_dir,
                     baseline=baseline, method=method, n_samples=n_samples, seed=seed, bleu_tokenize=bleu_tokenize,
                     groups={"document": data.documents, "bead type": data.bead_types})


def _evaluate(systems, refs, *, tgt_lang, sources=None, out_dir=None, baseline=None, method=None, n_samples=None,
              seed=SEED, bleu_tokenize=None, groups=None, names=None) -> dict:
    from . import check_inputs

    for name, hyps in systems.items():
        check_inputs(hyps, refs, tgt_lang=tgt_lang, names=(names or {}).get(name, (name,)))
    if sources is not None and len(sources) != len(refs[0]):
        raise DataError(f"the source file has {len(sources)} lines but the references have {len(refs[0])}")
    # the script check warned above, once per system
    scores = {name: score_corpus(hyps, refs, tgt_lang=tgt_lang, bleu_tokenize=bleu_tokenize, check_script=False)
              for name, hyps in systems.items()}
    comparison = None
    if len(systems) > 1:
        comparison = compare_systems(systems, refs, tgt_lang=tgt_lang, baseline=baseline, method=method or "bs",
                                     n_samples=n_samples, seed=seed,
                                     bleu_tokenize=bleu_tokenize, check_script=False)
    breakdowns = {}
    if groups:
        breakdowns = {name: {kind: breakdown(hyps, refs[0], g, tgt_lang=tgt_lang, bleu_tokenize=bleu_tokenize)
                             for kind, g in groups.items()}
                      for name, hyps in systems.items()}
    worst = {name: worst_segments(hyps, refs[0], sources, tgt_lang=tgt_lang) for name, hyps in systems.items()}
    notes = [note for note in (comet_note(),) if note]
    if not notes and sources:
        for name, hyps in systems.items():
            scores[name]["comet"] = comet_score(sources, hyps, refs[0])
    elif not notes:
        notes.append("COMET not computed: it needs the source sentences (--src).")
    if out_dir:
        return write_eval_report(out_dir, scores=scores, tgt_lang=tgt_lang, comparison=comparison,
                                 breakdowns=breakdowns, worst=worst, notes=notes) | {"_scores": scores}
    return {"_scores": scores, "comparison": comparison, "breakdown": breakdowns, "worst_segments": worst,
            "notes": notes}
