"""Hugging Face model cards with ``model-index`` results, built with huggingface_hub's ModelCardData/EvalResult.

transformers' ``create_model_card`` keeps only the metrics it knows and drops chrF; here every metric goes in,
with its sacrebleu signature in the result's ``metric_config`` so that a number is never shown without the
settings that produced it.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Sequence

from ..utils import atomic_write, md_cell, names_a_local_path
from . import MetricScore

logger = logging.getLogger("mtkit.evaluate")

HUB_METRIC = {"bleu": "bleu", "chrf": "chrf", "ter": "ter", "comet": "comet"}


def write_model_card(out_path: str | Path, *, model_name: str, base_model: str | None, languages: Sequence[str],
                     dataset: str, results: dict[str, MetricScore], dataset_config: str | None = None,
                     split: str | None = "test", training: dict | None = None, intended_use: str = "",
                     limitations: str = "", license: str | None = None, training_dataset: str | None = None,
                     origin: str | None = None, decoding: dict | None = None) -> Path:
    """Write the card (YAML metadata with ``model-index`` results, then the text) atomically to ``out_path``.

    ``dataset`` is where the scores come from (model-index only); ``training_dataset``, what the model was
    fine-tuned on (the Hub's ``datasets:``); ``base_model``, the model it was fine-tuned from. A model that was
    not trained here gives neither and may give its ``origin`` (where its folder was loaded from), which the
    text names without claiming any training. ``decoding``: the ``beam_size`` and ``max_length`` the scored
    translations were made with (the scores change with them), stated with the command that reproduces them.

    The Hub reads ``base_model``, ``datasets`` and model-index's ``dataset.type`` as Hub ids: a local folder goes
    into the text only (model-index names the dataset by its folder's name), with a warning naming the
    ``mtkit card`` options that give the ids. ``license``: a Hub license id; by default the base model's, when
    its local folder has a card that states one, else ``unknown``."""
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    pair = "-".join(languages)
    local = {what: value for what, value in (("base model", base_model), ("training dataset", training_dataset),
                                             ("evaluation dataset", dataset)) if value and not hub_id(value)}
    if local:
        logger.warning("%s: the card's Hub metadata leaves out local folders (%s); give their Hub ids (mtkit card "
                       "--base-model, --trained-on, --dataset) before publishing it", out_path,
                       "; ".join(f"{what} {value}" for what, value in local.items()))
    dataset_id = hub_id(dataset) or Path(str(dataset)).name
    # model-index wants a pretty name beside the id: a local build's card has one
    dataset_name = _local_card_field(dataset, "pretty_name") or dataset_id
    license = (license or _local_card_field(base_model, "license") or "unknown").lower()
    eval_results = [
        EvalResult(task_type="translation", task_name=f"Translation {pair}", dataset_type=dataset_id,
                   dataset_name=dataset_name, dataset_config=dataset_config, dataset_split=split,
                   metric_type=HUB_METRIC.get(key, key), metric_name=score.name, metric_value=round(score.score, 4),
                   metric_config=score.signature, metric_args={"signature": score.signature, **(decoding or {})})
        for key, score in results.items()
    ]
    data = ModelCardData(language=list(languages), license=license, library_name="transformers",
                         tags=["translation", "mtkit"], base_model=hub_id(base_model),
                         datasets=[hub_id(training_dataset)] if hub_id(training_dataset) else None,
                         model_name=model_name, eval_results=eval_results, pipeline_tag="translation")
    about = f"Translation {pair}"
    if base_model:
        about += f", fine-tuned from `{base_model}`"
    elif origin:
        about += f", `{origin}`"
    if training_dataset:
        about += f" on `{training_dataset}`"
    evaluated = f"`{dataset}`" + (f" ({dataset_config})" if dataset_config else "") + (
        f", {split} split" if split else "")
    lines = [f"# {model_name}", "", about + ".", "", f"## Results ({evaluated})", "",
             "| metric | score | sacrebleu signature |", "|---|---|---|"]
    for score in results.values():
        lines.append(f"| {score.name} | {score.score:.2f} | `{md_cell(score.signature)}` |")
    if decoding:
        lines += ["", f"Translations decoded with beam size {decoding['beam_size']} and at most "
                      f"{decoding['max_length']} tokens (`mtkit evaluate --beam {decoding['beam_size']} "
                      f"--max-length {decoding['max_length']}`)."]
    if training:
        lines += ["", "## Training", "", "| setting | value |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in training.items()]
    # the default text claims training only where the card does (a base model or a training dataset); any other
    # model was only evaluated here
    trained = bool(base_model or training_dataset or training)
    lines += ["", "## Intended use", "", intended_use or (
              f"Translating news text {pair} in the domain of the training data (police cooperation, telecom fraud)."
              if trained else f"Translating {pair}; the results above show how it does on the evaluation data."),
              "", "## Limits", "", limitations or (
              "Trained and evaluated on a small news corpus: expect errors on other domains, names and numbers; "
              "check outputs before publication." if trained else
              "Evaluated on a small news corpus only: expect errors on other domains, names and numbers; "
              "check outputs before publication.")]
    card = ModelCard.from_template(data, template_str="---\n{{ card_data }}\n---\n\n" + "\n".join(lines) + "\n")
    path = Path(out_path)
    with atomic_write(path) as fh:
        fh.write(str(card))
    return path


# A Hub repo id: a name, or an owner and a name, of letters, digits, "-", "_" and "."
_HUB_ID = re.compile(r"[\w.-]+(/[\w.-]+)?")


def hub_id(name: str | None) -> str | None:
    """``name`` when it can be a Hub repo id; None for a local path (one that exists, or one written as a path:
    ``/abs``, ``./x``, ``a/b/c``), which a card's Hub metadata must not carry (it would also show a home folder's
    name)."""
    if not name:
        return None
    name = str(name)
    if names_a_local_path(name) or Path(name).expanduser().exists() or not _HUB_ID.fullmatch(name):
        return None
    return name


def _local_card_field(folder: str | None, key: str) -> str | None:
    """What the card of a local folder (its README.md: a Hub download's, or the dataset card `mtkit build`
    writes) states for ``key``, if it is a string."""
    readme = Path(str(folder)).expanduser() / "README.md" if folder else None
    if readme is None or not readme.is_file():
        return None
    from huggingface_hub import metadata_load

    try:
        found = (metadata_load(readme) or {}).get(key)
    except Exception:  # noqa: BLE001 - a card whose YAML does not parse states nothing
        return None
    return found if isinstance(found, str) and found else None


def card_settings(report: dict, *, eval_path, system: str | None = None, languages: str | None = None,
                  dataset: str | None = None, dataset_config: str | None = None, split: str | None = None) -> dict:
    """What a card states about its scores, from the eval.json ``report`` (what ``mtkit evaluate`` recorded) and
    the options: an option fills what eval.json does not record, and contradicting what it does is an error (the
    card would state another split or pair than the scores are of). Returns the ``write_model_card`` arguments
    system, results, languages, dataset, dataset_config, split and decoding."""
    from ..errors import ConfigError, DataError
    from ..languages import macrolanguage

    evaluated = report.get("evaluated") or {}
    systems = report["systems"]
    # the first system as given to evaluate (eval.json sorts its keys; system_order keeps that order)
    system = system or next(iter(report.get("system_order") or systems))
    if system not in systems:
        raise DataError(f"{eval_path}: no system {system!r}; systems: {', '.join(systems)}")

    def agreed(option: str, given, recorded, same=lambda a, b: a == b):
        if given is not None and recorded is not None and not same(given, recorded):
            show = [",".join(x) if isinstance(x, list) else x for x in (given, recorded)]
            raise ConfigError(f"{option} {show[0]} contradicts {eval_path}, whose scores are of {show[1]}")
        return given if given is not None else recorded

    pair = [evaluated["src_lang"], evaluated["tgt_lang"]] if evaluated.get("src_lang") else None
    langs = languages.split(",") if languages else None
    if langs is not None and (len(langs) != 2 or not all(langs)):
        raise ConfigError(f"--languages {languages}: give two codes, source and target, e.g. zh,en")
    if langs is None and pair is None:
        raise ConfigError(f"give --languages SRC,TGT ({eval_path} does not record the source language)")
    same_languages = lambda a, b: [macrolanguage(x) or x for x in a] == [macrolanguage(x) or x for x in b]  # noqa: E731
    langs = agreed("--languages", langs, pair, same_languages)
    tgt = report.get("tgt_lang")
    if tgt and not same_languages([langs[1]], [tgt]):
        raise ConfigError(f"--languages {','.join(langs)} contradicts {eval_path}, whose target language is {tgt}")
    # --dataset may rename what eval.json recorded (the Hub id of the local folder scored): not checked; a
    # local folder is said by write_model_card
    dataset = dataset or evaluated.get("dataset")
    if dataset is None:
        raise ConfigError(f"give --dataset ({eval_path} does not record which dataset its scores are of)")
    decoding = evaluated.get("decoding") if system in (evaluated.get("models") or {}) else None
    results = {k: MetricScore(v["name"], v["score"], v["signature"]) for k, v in systems[system].items()}
    return {"system": system, "results": results,
            "languages": langs, "dataset": dataset,
            "dataset_config": agreed("--dataset-config", dataset_config, evaluated.get("config")),
            "split": agreed("--split", split, evaluated.get("split")), "decoding": decoding}
