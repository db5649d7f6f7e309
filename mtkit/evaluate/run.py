"""Evaluation runs: systems' output files against reference files, or systems on a split of a built dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..errors import ConfigError, DataError
from . import SEED, MetricScore, compare_systems, score_corpus
from ..utils import atomic_write
from .report import EvalResult, breakdown, worst_segments, write_eval_report

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


def read_lines(path: str | Path, *, blank_ok: bool = False) -> list[str]:
    """Lines as sacrebleu reads them (``ingest.decode.read_lines``: split at ``\\n`` only, a final ``\\r``
    dropped), except that a UTF-8 byte-order mark is read past (sacrebleu keeps it as the first line's first
    character, where it costs chrF a little) and a file in another encoding is decoded with a warning (sacrebleu
    fails on it). A file of no lines is an error; one of empty lines too unless ``blank_ok`` (a system's output:
    scored, with a warning)."""
    import logging

    from ..ingest.decode import read_lines as read_file_lines

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    lines = read_file_lines(path)
    if not lines:
        raise DataError(f"{path}: empty file")
    if not any(line.strip() for line in lines):
        # a system that output nothing for every line is a (very bad) system, scored as sacrebleu scores it; a
        # reference of empty lines gives nothing to score against
        if not blank_ok:
            raise DataError(f"{path}: all {len(lines)} lines are empty")
        logging.getLogger("mtkit.evaluate").warning("%s: all %d lines are empty; scored as they are", path,
                                                    len(lines))
    return lines


def _check_model_outputs(out_dir: str, names: list[str], hyp_paths: Sequence[str], n_models: int) -> None:
    """The files a run's models' translations go to (``OUT/NAME.hyp``) must not be a --hyp input (re-evaluating
    into last run's folder overwrote the earlier output being compared with) nor one file for two systems."""
    files = [Path(out_dir) / f"{_file_name(name)}.hyp" for name in names[:n_models]]
    if len(set(files)) != len(files):
        raise ConfigError(f"two systems would write one translations file in {out_dir} "
                          f"({', '.join(f.name for f in files)}); give distinct names with --systems")
    inputs = {Path(h).expanduser().resolve() for h in hyp_paths}
    for file in files:
        if file.resolve() in inputs:
            raise ConfigError(f"{file} is a --hyp input, and this run would write a model's translations there; "
                              "use another --out or another --systems name")


def _file_name(system: str) -> str:
    """A system name as a file name: a path separator in it (--systems a/b) would make a folder."""
    return system.replace("/", "_").replace("\\", "_") or "_"


def _system_names(given: Sequence[str], defaults: Sequence[str], what: str) -> list[str]:
    """The systems' names: ``given`` (--systems), else ``defaults`` (the file and folder names), one per system
    and distinct (a repeated name would silently replace a system)."""
    names = list(given) or list(defaults)
    if len(names) != len(defaults):
        raise ConfigError(f"{len(names)} system names for {len(defaults)} {what}")
    if len(set(names)) != len(names):
        raise ConfigError(f"system names repeat ({', '.join(names)}); give distinct names with --systems")
    return names


def check_settings(tgt_lang: str, *, out_dir: str | None = None, bleu_tokenize: str | None = None) -> str | None:
    """What would otherwise fail only after every model has translated and every score is computed: the report
    folder (not a file, creatable) and the metrics' settings (a BLEU tokenizer that cannot run here). Returns the
    report folder with ``~`` expanded: what is checked is what gets written."""
    from . import metrics_for
    from ..utils import check_writable

    if out_dir:
        out_dir = str(check_writable(out_dir, folder=True))
    metrics_for(tgt_lang, bleu_tokenize=bleu_tokenize)
    return out_dir


def evaluate_files(hyp_paths: Sequence[str], ref_paths: Sequence[str], *, tgt_lang: str, src_path: str | None = None,
                   out_dir: str | None = None, baseline: str | None = None, method: str | None = None,
                   n_samples: int | None = None, seed: int = SEED, bleu_tokenize: str | None = None,
                   system_names: Sequence[str] = ()) -> EvalResult:
    """Score hypothesis files (one system each, named by ``system_names`` or the file names) against one or more
    reference files; with ``out_dir``, also write eval.json, eval.md and eval.png there."""
    out_dir = check_settings(tgt_lang, out_dir=out_dir, bleu_tokenize=bleu_tokenize)
    names = _system_names(system_names, [Path(p).name for p in hyp_paths], "hypothesis files")
    refs = [read_lines(p) for p in ref_paths]
    systems = {name: read_lines(p, blank_ok=True) for name, p in zip(names, hyp_paths)}
    sources = read_lines(src_path) if src_path else None
    evaluated = {"tgt_lang": tgt_lang, "references": [str(p) for p in ref_paths],
                 "hypotheses": {name: str(p) for name, p in zip(names, hyp_paths)}}
    return _evaluate(systems, refs, tgt_lang=tgt_lang, sources=sources, out_dir=out_dir, baseline=baseline,
                     method=method, n_samples=n_samples, seed=seed, bleu_tokenize=bleu_tokenize,
                     input_names={n: (p, *ref_paths) for n, p in zip(names, hyp_paths)}, evaluated=evaluated)


def evaluate_dataset(dataset: str | Path, *, config_name: str, direction: str, split: str = "test",
                     models: Sequence[str] = (), hyp_paths: Sequence[str] = (), system_names: Sequence[str] = (),
                     out_dir: str | None = None, baseline: str | None = None, method: str | None = None,
                     n_samples: int | None = None, seed: int = SEED, backend: str = "auto", beam_size: int = 4,
                     max_length: int | None = None, bleu_tokenize: str | None = None,
                     translator_factory=None) -> EvalResult:
    """Translate the sources of split ``split`` of ``dataset``'s config ``config_name`` (a language pair, en-zh)
    in ``direction`` (``zh->en``; required: a config holds both directions) with each model, or read hypothesis
    files, then score, break down by document and bead type, and compare systems; with ``out_dir``, also write
    eval.json, eval.md, eval.png and each model's translations (``NAME.hyp``) there.

    Models decode with ``beam_size`` 4 by default, not the greedy search that :meth:`Translator.translate
    <mtkit.translate.Translator.translate>` and ``mtkit translate`` default to: scores of a model here and of
    its ``mtkit translate`` output differ unless the beams agree. The beam and ``max_length`` are recorded in
    ``evaluated["decoding"]`` (eval.json, and the model card from it).

    ``translator_factory(model)`` must return an object with ``translate(list_of_str, beam_size=...,
    max_length=...) -> list[str]``; default: :class:`mtkit.translate.Translator` on ``backend``."""
    from ..corpus.dataset import parallel_split, parse_direction

    src, tgt = parse_direction(direction, config_name)
    out_dir = check_settings(tgt, out_dir=out_dir, bleu_tokenize=bleu_tokenize)
    if not models and not hyp_paths:
        raise ConfigError("give at least one --model or --hyp")
    names = _system_names(system_names, [Path(m).name for m in models] + [Path(h).name for h in hyp_paths],
                          "systems")
    model_names, hyp_names = names[:len(models)], names[len(models):]
    if out_dir and models:
        _check_model_outputs(out_dir, names, hyp_paths, len(models))
    if models and max_length is None:
        from ..translate import Translator

        max_length = Translator.MAX_LENGTH  # what translate() uses when given none: recorded as used
    data = parallel_split(dataset, config_name, split, src, tgt)
    if not len(data):
        raise DataError(f"{dataset} ({config_name}): split {split!r} is empty")
    if translator_factory is None:
        from ..translate import Translator, check_model_path

        for model in models:  # a missing second model is found before the first one translates the split
            check_model_path(str(model))

        def translator_factory(model):
            return Translator(model, backend=backend, src_lang=src, tgt_lang=tgt)
    systems: dict[str, list[str]] = {}
    for name, model in zip(model_names, models):
        systems[name] = translator_factory(model).translate(data.sources, beam_size=beam_size, max_length=max_length)
    for name, path in zip(hyp_names, hyp_paths):
        systems[name] = read_lines(path, blank_ok=True)
    # what the scores are of, for the report and the model card (which states the split and decoding from it)
    evaluated = {"dataset": str(dataset), "config": config_name, "split": split, "direction": f"{src}->{tgt}",
                 "src_lang": src, "tgt_lang": tgt,
                 "models": {name: str(model) for name, model in zip(model_names, models)},
                 "hypotheses": {name: str(path) for name, path in zip(hyp_names, hyp_paths)}}
    if models:
        evaluated["decoding"] = {"beam_size": beam_size, "max_length": max_length}
    return _evaluate(systems, [data.targets], tgt_lang=tgt, sources=data.sources, out_dir=out_dir,
                     baseline=baseline, method=method, n_samples=n_samples, seed=seed, bleu_tokenize=bleu_tokenize,
                     groups={"document": data.documents, "bead type": data.bead_types}, evaluated=evaluated,
                     target_from=f"the target of {src}->{tgt}")


def _evaluate(systems: dict[str, list[str]], refs: list[list[str]], *, tgt_lang: str, evaluated: dict,
              sources: list[str] | None = None, out_dir: str | None = None, baseline: str | None = None,
              method: str | None = None, n_samples: int | None = None, seed: int = SEED,
              bleu_tokenize: str | None = None, groups: dict[str, list[str]] | None = None,
              input_names: dict[str, tuple[str, ...]] | None = None, target_from: str = "--tgt-lang") -> EvalResult:
    """Score, compare and break down ``systems`` (name -> lines); ``input_names``: system -> the names of its
    hypothesis file and the reference files, for messages; ``groups``: kind -> each line's group."""
    from . import check_inputs

    for name, hyps in systems.items():
        check_inputs(hyps, refs, tgt_lang=tgt_lang, names=(input_names or {}).get(name, (name,)),
                     target_from=target_from)
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
    result = EvalResult(tgt_lang=tgt_lang, scores=scores, comparison=comparison, breakdown=breakdowns,
                        worst_segments=worst, notes=notes, evaluated=evaluated)
    if out_dir:
        # a model's translations are saved beside the report, so that its scores can be checked without it; the
        # record names those files (a copy: the caller's dict is left as given)
        saved = {}
        for name in evaluated.get("models") or {}:
            hyp_file = Path(out_dir) / f"{_file_name(name)}.hyp"
            with atomic_write(hyp_file) as fh:
                fh.writelines(line + "\n" for line in systems[name])
            saved[name] = hyp_file.name
        result.evaluated = {**evaluated, "hypotheses": {**evaluated.get("hypotheses", {}), **saved}}
        result.report_path = write_eval_report(out_dir, result)
    return result
