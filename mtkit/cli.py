"""The ``mtkit`` command: a thin layer over the Python API.

Each subcommand parses its arguments, builds settings (defaults come from the API's class constants) and calls
one public function. Errors are caught once, in :func:`main`, and exit non-zero with the message.
Sections below are one per stage, in the order data flows.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Callable

from . import __version__
from .errors import MtkitError

_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []


def command(add_parser: Callable[[argparse._SubParsersAction], None]):
    """Register a function that adds one subcommand (its parser and ``func`` default)."""
    _COMMANDS.append(add_parser)
    return add_parser


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


# ============================================================== ingest / segment


def _each_path(args, run_one: Callable[[str], None]) -> int:
    """``run_one(path)`` for each PATH. A path that fails (an empty, binary or undecodable page, a page without
    the language asked for) is reported on stderr and the others still run: one bad page of many should not
    cost the rest. The exit status is 2 when any failed, as for an error in :func:`main`."""
    failed = []
    for path in args.paths:
        try:
            run_one(path)
        except MtkitError as exc:
            sys.stdout.flush()  # what the paths before it printed comes first
            sys.stderr.write(f"mtkit {args.command}: error: {exc}\n")
            failed.append(path)
    if failed and len(args.paths) > 1:
        sys.stderr.write(f"mtkit {args.command}: {len(failed)} of {len(args.paths)} paths failed: "
                         f"{', '.join(failed)}\n")
    return 2 if failed else 0



@command
def _add_ingest(sub):
    p = sub.add_parser("ingest", help="clean raw pages: language/script per paragraph, removals logged",
                       description="Clean raw pages into paragraphs with language, script and raw offsets. "
                       "PATH is a page or a corpus directory with manifest.yaml.")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--explain", action="store_true",
                   help="after each page's paragraphs, print every removed span as FILE:START-END<TAB>RULE<TAB>TEXT; "
                   "with --jsonl, as a JSON record {\"removed\": true, \"source\", \"start\", \"end\", \"rule\", "
                   "\"reason\", \"text\"} (paragraph records have no \"removed\" key)")
    p.add_argument("--jsonl", action="store_true", help="one JSON record per kept paragraph")
    p.add_argument("--to-simplified", action="store_true", help="convert Traditional Chinese to Simplified (OpenCC)")
    p.set_defaults(func=_run_ingest)


def _run_ingest(args) -> int:
    import json

    from .ingest import ingest_path
    from .utils import one_line

    def run_one(path: str) -> None:
        for result in ingest_path(path, to_simplified=args.to_simplified):
            for doc in result.documents:
                if not args.jsonl:
                    _out(f"# {doc.id}\t{doc.lang}\t{doc.script}\t{len(doc.paragraphs)} paragraphs")
                for p in doc.paragraphs:
                    if args.jsonl:
                        record = {"doc_id": doc.id, "lang": p.lang, "script": p.script, "start": p.start,
                                  "end": p.end, "text": p.text, "original": p.original,
                                  "role": p.meta.get("role", "body")}
                        _out(json.dumps(record, ensure_ascii=False))
                    else:
                        _out(p.text)
            if args.explain:
                for r in result.removed:
                    if args.jsonl:  # a TSV line would break the JSONL stream; the whole text, as JSON escapes it
                        _out(json.dumps({"removed": True, "source": result.source, "start": r.start, "end": r.end,
                                         "rule": r.rule, "reason": r.reason, "text": r.text}, ensure_ascii=False))
                        continue
                    excerpt = r.text if len(r.text) <= 80 else r.text[:77] + "..."
                    excerpt = one_line(excerpt)  # one removal, one line, 3 fields
                    _out(f"{result.source}:{r.start}-{r.end}\t{r.rule}\t{excerpt}")

    return _each_path(args, run_one)


@command
def _add_segment(sub):
    p = sub.add_parser("segment", help="print a cleaned page's sentences, one per line",
                       description="Print the sentences of cleaned pages in document order, one per line, each the "
                       "raw file's text between its offsets, less any inline pinyin annotation the cleaning cut out "
                       "of it, with HTML character references (&amp;, &nbsp;) decoded and with spaces lost in scraping "
                       "between Latin-script words put back (Pertama,Meningkatkan); --jsonl gives that raw "
                       "text as \"original\" where the two differ. PATH is a page or a corpus directory.")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--lang", help="keep one language (zh, id, en, ...)")
    p.add_argument("--jsonl", action="store_true", help="records with text, lang, script, doc id and raw offsets")
    p.add_argument("--to-simplified", action="store_true",
                   help="print Traditional Chinese converted to Simplified (then lines are no longer verbatim)")
    p.set_defaults(func=_run_segment)


def _run_segment(args) -> int:
    import json

    from .languages import language_code
    from .segment import segment_path, sentence_record

    lang = language_code(args.lang, "--lang")  # ZH, zh-CN -> zh, as align's --src-lang

    def run_one(path: str) -> None:
        for s in segment_path(path, lang=lang, to_simplified=args.to_simplified):
            if args.jsonl:
                _out(json.dumps(sentence_record(s), ensure_ascii=False))
            else:
                # text is the raw slice as cleaned (annotations out, references decoded), converted only with
                # --to-simplified; s.raw would print the annotations the description says are cut out
                _out(s.text)

    return _each_path(args, run_one)


# ============================================================== align


@command
def _add_align(sub):
    p = sub.add_parser("align", help="align two versions of a text sentence by sentence (bertalign's two passes)",
                       description="Align SRC and TGT sentence by sentence. They are raw pages (cleaned and "
                       "segmented first) or, with --presegmented, files with one sentence per line. The same "
                       "bilingual page may be given twice with --src-lang and --tgt-lang.")
    p.add_argument("src", metavar="SRC")
    p.add_argument("tgt", metavar="TGT")
    p.add_argument("--presegmented", action="store_true",
                   help="each input line is one sentence (line k is sentence k, 0-based; a blank line stays unaligned)")
    p.add_argument("--encoder", default="auto", help="auto (LaBSE when it can be loaded, else lexical with a warning), "
                   "labse, lexical, or a sentence-transformers name/path")
    p.add_argument("--src-lang", help="source language, an ISO 639-1 code such as zh, id, en (picks that part of a "
                   "bilingual page; default: detected)")
    p.add_argument("--tgt-lang", help="target language, as --src-lang")
    p.add_argument("--format", choices=("tsv", "vecalign", "jsonl"), default="tsv",
                   help="tsv: score, source, target; vecalign: [0,1]:[2] per bead (0-based, [3]:[] unaligned); "
                   "jsonl: one bead per line")
    p.add_argument("--max-align", type=int, default=5, help="most sentences in one bead, both sides together")
    p.add_argument("--top-k", type=int, default=3, help="first pass: most similar target sentences kept per source one")
    p.add_argument("--win", type=int, default=5, help="second-pass window around the first-pass path")
    p.add_argument("--skip", type=float, default=-0.1, help="score of an unaligned sentence")
    p.set_defaults(func=_run_align)


def _run_align(args) -> int:
    import json

    from .align import align
    from .languages import language_code
    from .segment import join_sentences, page_sentences
    from .utils import one_line

    src, src_lang = page_sentences(args.src, language_code(args.src_lang, "--src-lang"),
                                   presegmented=args.presegmented, option="--src-lang")
    tgt, tgt_lang = page_sentences(args.tgt, language_code(args.tgt_lang, "--tgt-lang"),
                                   presegmented=args.presegmented, option="--tgt-lang")
    result = align(src, tgt, encoder=args.encoder, src_lang=src_lang, tgt_lang=tgt_lang, max_align=args.max_align,
                   top_k=args.top_k, win=args.win, skip=args.skip, show_progress=args.progress)
    for bead in result.beads:
        # a bead's sentences joined as the corpus builder joins them (no space in Chinese)
        src_text = join_sentences((src[i] for i in bead.src), result.meta.get("src_lang"))
        tgt_text = join_sentences((tgt[j] for j in bead.tgt), result.meta.get("tgt_lang"))
        if args.format == "vecalign":
            _out(bead.vecalign())
        elif args.format == "jsonl":
            _out(json.dumps({"src": list(bead.src), "tgt": list(bead.tgt), "type": bead.type, "score": bead.score,
                             "src_text": src_text, "tgt_text": tgt_text}, ensure_ascii=False))
        else:
            _out(f"{bead.score:.4f}\t{one_line(src_text)}\t{one_line(tgt_text)}")
    sys.stderr.write(result.signature + "\n")
    return 0


@command
def _add_score_align(sub):
    p = sub.add_parser("score-align", help="strict and lax precision/recall/F1 of alignments against gold",
                       description="Score alignments (vecalign format, one bead per line) against gold ones, "
                       "micro-averaged over all pairs given: TEST GOLD [TEST GOLD ...].")
    p.add_argument("files", nargs="+", metavar="TEST GOLD")
    p.set_defaults(func=_run_score_align)


def _run_score_align(args) -> int:
    from .align.scoring import read_beads, score_alignments
    from .errors import ConfigError

    if len(args.files) % 2:
        raise ConfigError(f"give TEST GOLD pairs; got {len(args.files)} file{'s' * (len(args.files) != 1)}")
    tests = [read_beads(f) for f in args.files[0::2]]
    golds = [read_beads(f) for f in args.files[1::2]]
    names = [f"{t} vs {g}" for t, g in zip(args.files[0::2], args.files[1::2])]
    _out(score_alignments(tests, golds, names=names).table())
    return 0


# ============================================================== corpus build / publish


@command
def _add_build(sub):
    p = sub.add_parser("build", help="raw pages -> aligned, filtered, split dataset with card and report",
                       description="Build a parallel corpus from a corpus directory (raw pages + manifest.yaml): "
                       "ingest, segment, align the versions of each story, filter, split by story, export "
                       "(Parquet/Hub layout, JSONL, TSV, Moses text, datasets on disk), write the dataset card "
                       "and the report. Re-runs resume from the alignment cache in OUT_DIR/.cache.")
    p.add_argument("corpus_dir", metavar="CORPUS_DIR", help="corpus folder holding manifest.yaml and raw/")
    p.add_argument("--out", required=True, metavar="OUT_DIR",
                   help="output folder: the Hub-ready dataset (README.md card + data/), other formats, report.md, "
                   "rejects/, build_config.yaml and the resume cache .cache/")
    p.add_argument("--config", metavar="YAML", help="build settings (filters, splits, aligner, ...); "
                   "command-line options override it")
    p.add_argument("--encoder", help="auto (default), labse, lexical, or a sentence-transformers name/path")
    p.add_argument("--seed", type=int, help="seed of the story-level split (default 13)")
    p.add_argument("--to-simplified", dest="to_simplified", action="store_true", default=None,
                   help="convert Traditional Chinese to Simplified (default)")
    p.add_argument("--no-to-simplified", dest="to_simplified", action="store_false",
                   help="keep Traditional Chinese as written")
    _add_executor_options(p, "ingest, segmentation and alignment")
    p.set_defaults(func=_run_build)


def _add_executor_options(p, work: str) -> None:
    """--executor and the cluster options, shared by build and translate."""
    p.add_argument("--executor", choices=("local", "ray"), default="local",
                   help=f"where {work} run: this process, or a Ray cluster (pip install \"mtkit[ray]\"); the "
                   "outputs are the same")
    p.add_argument("--address", help="Ray cluster to join: auto (the cluster this node was started in with `ray "
                   "start`) or HOST:PORT (default: start Ray on this machine)")
    p.add_argument("--num-workers", type=int, help="Ray workers (actors), one CPU each (default 1; with "
                   "--num-gpus, one per GPU)")
    p.add_argument("--num-gpus", type=int, default=0, help="GPUs to use, one Ray worker on each")


def _executor(args):
    from .scale import get_executor

    return get_executor(args.executor, address=args.address, num_workers=args.num_workers, num_gpus=args.num_gpus)


def _run_build(args) -> int:
    from .corpus.builder import BuildConfig, build_corpus

    overrides = {"encoder": args.encoder, "seed": args.seed, "to_simplified": args.to_simplified}
    if args.config:
        config = BuildConfig.from_yaml(args.config, **overrides)
    else:
        config = BuildConfig.from_dict({k: v for k, v in overrides.items() if v is not None})
    result = build_corpus(args.corpus_dir, args.out, config, show_progress=args.progress, executor=_executor(args))
    for config_name, splits in result.counts.items():
        _out(f"{config_name}: " + ", ".join(f"{split} {n}" for split, n in splits.items()))
    # the build's warnings went to the log (stderr) as they came, and are in the report: stdout only sums up
    _out(f"dataset, card and report in {result.out_dir} (report.md)")
    return 0


@command
def _add_publish(sub):
    p = sub.add_parser("publish", help="upload a built dataset folder to the Hugging Face Hub",
                       description="Upload OUT_DIR's dataset card and Parquet shards to a Hub dataset repo; the "
                       "repo's Parquet shards (data/<config>/<split>-NNNNN-of-NNNNN.parquet) that this build does not "
                       "have are deleted, and so are the files of an --include folder that this upload does not send. "
                       "The token comes from HF_TOKEN or `hf auth login`; it is never printed.")
    p.add_argument("out_dir", metavar="OUT_DIR", help="a folder written by `mtkit build` (README.md + data/)")
    p.add_argument("--repo-id", required=True, metavar="ORG/NAME", help="the Hub dataset repo (created if missing)")
    p.add_argument("--private", action="store_true", help="make the repo private: create it private, or switch an "
                   "existing public repo to private before uploading. Without it a new repo is public and an existing "
                   "one keeps its visibility (a private repo is never made public)")
    p.add_argument("--dry-run", action="store_true", help="list what would be uploaded, with sizes, and what the "
                   "repo holds that would be deleted (its shards not in this build, files of an --include folder "
                   "not sent); send nothing")
    p.add_argument("--endpoint", help="Hub endpoint (default: HF_ENDPOINT or huggingface.co)")
    p.add_argument("--include", action="append", default=[], choices=("jsonl", "tsv", "text", "hf"),
                   help="also upload this local copy (repeatable); by default only README.md and data/**")
    p.set_defaults(func=_run_publish)


def _run_publish(args) -> int:
    from .publish import publish_dataset

    result = publish_dataset(args.out_dir, args.repo_id, private=args.private, dry_run=args.dry_run,
                             endpoint=args.endpoint, show_progress=args.progress, include=args.include)
    verb = "would upload" if result.dry_run else "uploaded"
    for path, size in result.files:
        _out(f"{verb} {path} ({size:,} bytes)")
    if result.made_private:
        _out(f"{'would make' if result.dry_run else 'made'} {args.repo_id} private (it was public)")
    for path in result.deleted:
        _out(f"{'would delete' if result.dry_run else 'deleted'} {path} (not in this build)")
    deleted = f", {len(result.deleted)} deleted" if result.deleted else ""
    _out(f"{'dry run: nothing sent to' if result.dry_run else 'published'} {args.repo_id} "
         f"({len(result.files)} files{deleted}){' ' + result.url if result.url else ''}")
    return 0


# ============================================================== translate


@command
def _add_translate(sub):
    from .translate import JSONL_SUFFIXES, Translator  # no torch: tens of ms, for defaults stated once

    p = sub.add_parser("translate", help="translate a text/JSONL file or a dataset split with a seq2seq model",
                       description="Translate INPUT into OUTPUT, one line per input, in order; empty lines stay "
                       "empty. Finished chunks are kept, so a killed run resumes where it stopped.")
    p.add_argument("input", metavar="INPUT", help="a text file, one sentence per line (UTF-8); a JSONL file "
                   f"({', '.join('*' + s for s in JSONL_SUFFIXES)}, any case) with --field; or a dataset folder "
                   "from `mtkit build` with --split and --src-lang (the config is the pair of --src-lang and "
                   "--tgt-lang, or --config)")
    p.add_argument("--model", required=True, help="hub name or local path")
    p.add_argument("--src-lang", help="source language (zh, id, en, ...)")
    p.add_argument("--tgt-lang", help="target language")
    p.add_argument("--out", required=True, metavar="OUTPUT",
                   help="output file; an existing one is replaced (never INPUT itself)")
    p.add_argument("--backend", default="auto", help="auto (= mtkit), mtkit, hf, ct2")
    p.add_argument("--beam", type=int, default=1,
                   help="beam size (default 1: greedy search, not the num_beams of the model's generation_config, "
                   "4 for opus-mt: one setting means the same on every backend, and the printed signature says what "
                   "ran, so a score can be reproduced)")
    p.add_argument("--dtype", default="auto", help="auto, fp32, bf16, fp16 (default: bf16 on a GPU, fp32 on a "
                   "CPU); with --backend ct2, CTranslate2's compute type (float32, bfloat16, float16)")
    p.add_argument("--max-batch-tokens", type=int, default=None,
                   help="padded source tokens a batch, 0 unbounded (default: 131072 on a GPU, 8192 on a CPU)")
    p.add_argument("--max-batch-size", type=int, default=None,
                   help="sentences a batch, 0 unbounded (default: 1024 on a GPU; on a CPU 64 and 128 // beam for "
                        "the mtkit backend, unbounded for the others)")
    p.add_argument("--max-length", type=int, default=Translator.MAX_LENGTH,
                   help=f"most new tokens per sentence (default {Translator.MAX_LENGTH}; at most the model's "
                   "decoder positions)")
    p.add_argument("--device", help="cpu, cuda or cuda:N (default: cuda when present)")
    p.add_argument("--field", default=None, help="JSONL field holding the text (default text); a dotted name reads "
                   "a nested one (translation.zh in the JSONL files of mtkit build)")
    p.add_argument("--config", help="dataset config (language pair, e.g. en-zh) for a dataset folder (default: "
                   "--src-lang and --tgt-lang, sorted)")
    p.add_argument("--split", help="dataset split for a dataset folder")
    p.add_argument("--chunk-size", type=int, default=None,
                   help="inputs per resumable chunk (default: 16384 on a GPU, 512 on a CPU)")
    _add_executor_options(p, "the chunks")
    p.set_defaults(func=_run_translate)


def _run_translate(args) -> int:
    from .translate import TranslatorSpec, check_output, read_inputs, translate_file

    check_output(args.out, input_path=args.input)  # before the input is read and any model loaded
    executor = _executor(args)
    inputs = read_inputs(args.input, field=args.field, split=args.split, config=args.config, src_lang=args.src_lang,
                         tgt_lang=args.tgt_lang)
    spec = TranslatorSpec(args.model, backend=args.backend, device=args.device, dtype=args.dtype,
                          src_lang=args.src_lang, tgt_lang=args.tgt_lang).resolved(gpu=executor.gpu)
    translate_file(spec, inputs, args.out, chunk_size=args.chunk_size, show_progress=args.progress, executor=executor,
                   beam_size=args.beam, max_length=args.max_length, max_batch_tokens=args.max_batch_tokens,
                   max_batch_size=args.max_batch_size)
    _out(f"{len(inputs)} lines -> {args.out}\t{spec.signature(beam_size=args.beam)}")
    return 0


# ============================================================== evaluate / card


@command
def _add_evaluate(sub):
    p = sub.add_parser("evaluate", help="BLEU, chrF, TER (sacrebleu) with signatures; paired significance",
                       description="Score hypothesis files against references (--hyp/--ref), or models on a split of "
                       "a built dataset (--model/--dataset). Several systems: paired significance against the "
                       "baseline. Writes eval.json, eval.md and eval.png with --out.")
    p.add_argument("--hyp", action="append", default=[], help="hypothesis file (repeat for several systems)")
    p.add_argument("--ref", action="append", default=[], help="reference file (repeat for several references)")
    p.add_argument("--src", help="source file, shown beside the worst segments")
    p.add_argument("--tgt-lang", help="target language (picks BLEU/chrF/TER settings)")
    p.add_argument("--model", action="append", default=[], help="model to translate the split with (repeatable)")
    p.add_argument("--dataset", help="dataset folder from `mtkit build` (or a Hub dataset)")
    p.add_argument("--config", help="language-pair config, e.g. en-zh")
    p.add_argument("--split", default="test", help="split of --dataset to score (default test; dev and validation "
                   "name the same split)")
    p.add_argument("--direction", help="SRC->TGT, e.g. zh->en; required with --dataset (a config holds both "
                   "directions of its pair)")
    p.add_argument("--beam", type=int, default=4, help="beam size for --model (default 4, where `mtkit translate` "
                   "defaults to 1, greedy: give --beam 1 to score what it writes); eval.json and the card record it")
    p.add_argument("--max-length", type=int, help="most new tokens per sentence for --model")
    p.add_argument("--systems", help="comma-separated system names, in the order of --model then --hyp "
                   "(default: model folder and file names)")
    p.add_argument("--backend", default="auto", help="translation backend for --model")
    p.add_argument("--baseline", help="baseline system name (default: the first)")
    p.add_argument("--paired-bs", dest="method", action="store_const", const="bs", help="paired bootstrap (default)")
    p.add_argument("--paired-ar", dest="method", action="store_const", const="ar", help="approximate randomisation")
    p.add_argument("--paired-n", type=int, help="bootstrap samples / randomisation trials (default 1000 / 10000, "
                   "as sacrebleu)")
    p.add_argument("--seed", type=int, default=12345, help="resampling seed (sacrebleu's default)")
    p.add_argument("--bleu-tokenize", help="override the BLEU tokenizer (zh, 13a, intl, ...)")
    p.add_argument("--out", help="folder for eval.json, eval.md, eval.png")
    p.set_defaults(func=_run_evaluate)


def _run_evaluate(args) -> int:
    from .errors import ConfigError
    from .evaluate.metrics import check_target_language
    from .evaluate.run import evaluate_dataset, evaluate_files

    check_target_language(args.tgt_lang, "--tgt-lang")  # as segment's --lang: Chinese would be scored as 13a

    if len(args.hyp) + len(args.model) == 1:  # the paired test needs two systems: these would do nothing
        ignored = [opt for opt, given in (("--paired-ar", args.method == "ar"), ("--paired-bs", args.method == "bs"),
                                          ("--paired-n", args.paired_n is not None), ("--baseline", args.baseline))
                   if given]
        if ignored:
            logging.getLogger("mtkit.evaluate").warning("%s ignored: significance needs two or more systems",
                                                        ", ".join(ignored))
    if args.dataset:
        if not args.config:
            raise ConfigError("--dataset needs --config (a language pair such as en-zh)")
        if not args.direction:
            from .corpus.dataset import direction_choices

            raise ConfigError(f"--dataset needs --direction SRC->TGT ({direction_choices(args.config)}): config "
                              f"{args.config} holds both directions")
        # the split gives the references, the sources and the target language: these options would be ignored
        given = [opt for opt, value in (("--ref", args.ref), ("--src", args.src)) if value]
        if given:
            raise ConfigError(f"{' and '.join(given)} cannot be used with --dataset: the split's rows are the "
                              "references and sources")
        if args.tgt_lang:
            from .corpus.dataset import parse_direction
            from .evaluate.metrics import metric_language

            target = parse_direction(args.direction, args.config)[1]
            if metric_language(args.tgt_lang) != metric_language(target):
                raise ConfigError(f"--tgt-lang {args.tgt_lang} contradicts the direction's target {target} "
                                  "(with --dataset the target comes from --direction)")
        names = args.systems.split(",") if args.systems else ()
        result = evaluate_dataset(args.dataset, config_name=args.config, direction=args.direction, split=args.split,
                                  models=args.model, hyp_paths=args.hyp, system_names=names, out_dir=args.out,
                                  baseline=args.baseline, method=args.method, n_samples=args.paired_n,
                                  seed=args.seed, backend=args.backend,
                                  beam_size=args.beam, max_length=args.max_length, bleu_tokenize=args.bleu_tokenize)
    else:
        if not args.hyp or not args.ref or not args.tgt_lang:
            raise ConfigError("give --hyp, --ref and --tgt-lang (or --dataset with --model/--hyp)")
        result = evaluate_files(args.hyp, args.ref, tgt_lang=args.tgt_lang, src_path=args.src, out_dir=args.out,
                                baseline=args.baseline, method=args.method, n_samples=args.paired_n, seed=args.seed,
                                bleu_tokenize=args.bleu_tokenize,
                                system_names=args.systems.split(",") if args.systems else ())
    for system, scores in result.scores.items():
        if len(result.scores) > 1:
            _out(f"# {system}")
        for score in scores.values():
            _out(str(score))
    comparison = result.comparison
    if comparison:
        from .evaluate.report import significance_cell, significance_method

        metrics = comparison.metrics  # mtkit name -> sacrebleu's, printed as sacrebleu prints it
        _out(f"# significance ({significance_method(comparison.method)}, baseline {comparison.baseline}): "
             "score (mean ± 95% CI) (p-value)")
        for system in comparison.systems:
            cells = [f"{name} = {significance_cell(comparison.row(system, metric))}"
                     for metric, name in metrics.items()]
            _out(f"{system}\t" + "\t".join(cells))
        for metric, signature in comparison.signatures.items():
            _out(f"{metrics[metric]}\t{signature}")
    if result.report_path:
        _out(f"report: {result.report_path.with_name('eval.md')}")
    return 0


@command
def _add_card(sub):
    p = sub.add_parser("card", help="write a Hugging Face model card with model-index results",
                       description="Write a model card from an eval.json (the first system's scores).")
    p.add_argument("--model-dir", help="saved model folder: names the model and gives its base model and, for a "
                   "fine-tuning run's final folder, the run's training facts")
    p.add_argument("--eval", required=True, help="eval.json from `mtkit evaluate --out`")
    p.add_argument("--out", required=True, help="model_cards/NAME.md")
    p.add_argument("--model-name", help="default: the model folder's (or its run's) name")
    p.add_argument("--base-model", help="the model it was fine-tuned from (default: what a LoRA adapter or a "
                   "fine-tuning run's folder records; another folder's recorded origin is named, not called a base)")
    p.add_argument("--trained-on", metavar="DATASET", help="the dataset it was fine-tuned on (the card's datasets:; "
                   "default: what a fine-tuning run's folder records)")
    p.add_argument("--languages", help="source and target, e.g. zh,en (default: the direction eval.json records)")
    p.add_argument("--dataset", help="evaluation dataset (Hub id or folder), for model-index (default: the one "
                   "eval.json records; give the Hub id of a local folder here)")
    p.add_argument("--dataset-config", help="its config (language pair), e.g. en-zh (default: eval.json's)")
    p.add_argument("--split", help="the split the scores come from (default: eval.json's)")
    p.add_argument("--system", help="system in eval.json (default: the first)")
    p.add_argument("--license", help="the model's Hub license id, e.g. cc-by-4.0 (default: what the base model's "
                   "local card states, else unknown)")
    p.set_defaults(func=_run_card)


def _run_card(args) -> int:
    from .errors import DataError
    from .evaluate.card import card_settings, write_model_card
    from .evaluate.report import read_eval_report
    from .finetune import model_dir_info

    from .utils import check_writable

    check_writable(args.out)  # a folder in the card's place: one error line, not atomic_write's traceback
    report = read_eval_report(args.eval)
    settings = card_settings(report, eval_path=args.eval, system=args.system, languages=args.languages,
                             dataset=args.dataset, dataset_config=args.dataset_config, split=args.split)
    settings.pop("system")
    info = model_dir_info(args.model_dir) if args.model_dir else {}
    model_name = args.model_name or info.get("model_name")
    if not model_name:
        raise DataError("give --model-name or --model-dir")
    path = write_model_card(args.out, model_name=model_name, base_model=args.base_model or info.get("base_model"),
                            training=info.get("training"),
                            training_dataset=args.trained_on or info.get("training_dataset"),
                            origin=info.get("origin"), license=args.license, **settings)
    _out(f"model card: {path}")
    return 0


# ============================================================== finetune


@command
def _add_finetune(sub):
    p = sub.add_parser("finetune", help="fine-tune a seq2seq model on a built corpus (full or LoRA)",
                       description="Fine-tune MODEL on a dataset folder from `mtkit build` (or a Hub dataset): "
                       "token-budget batches, dev BLEU/chrF, early stopping, best checkpoint, test evaluation and "
                       "a model card. A killed run resumes from its last checkpoint; a finished one is not redone. "
                       "Multi-GPU: the same command under `accelerate launch` or `torchrun`.")
    p.add_argument("--model", required=True, help="hub name or local path")
    p.add_argument("--dataset", required=True, help="folder from `mtkit build`, a save_to_disk folder or a Hub name")
    p.add_argument("--config", required=True, help="language pair config, e.g. en-zh")
    p.add_argument("--direction", required=True, help="SRC->TGT, e.g. zh->en")
    p.add_argument("--out", required=True, metavar="RUN_DIR", help="checkpoints, final/ model, settings, card")
    p.add_argument("--finetune-config", metavar="YAML", help="settings (see configs/finetune/*.yaml)")
    p.add_argument("--resume", dest="resume", action="store_true", default=True,
                   help="continue from the last checkpoint in RUN_DIR; skip a finished run (default)")
    p.add_argument("--no-resume", dest="resume", action="store_false", help="start from scratch")
    p.add_argument("--model-cards", default="model_cards", help="folder for the model card")
    p.set_defaults(func=_run_finetune)


def _run_finetune(args) -> int:
    from .finetune import FinetuneConfig, finetune

    settings = FinetuneConfig.from_yaml(args.finetune_config) if args.finetune_config else FinetuneConfig()
    try:
        result = finetune(args.model, args.dataset, config_name=args.config, direction=args.direction,
                          out_dir=args.out, settings=settings, resume=args.resume, model_cards_dir=args.model_cards)
    finally:
        _leave_process_group()
    if not result.main_process:  # `torchrun`/`accelerate launch`: the main process reports
        return 0
    if result.skipped:
        _out(f"{args.out}: finished already with these settings; final model in {result.final_dir}")
    else:
        _out(f"final model: {result.final_dir}")
    _out(" ".join(f"{k}={v}" for k, v in result.metrics.items()))
    return 0


def _leave_process_group() -> None:
    """Under `torchrun`/`accelerate launch` the Trainer's accelerator opened a process group; the command owns
    the process, so it closes the group before exit, as PyTorch asks. Left open, the group's communication threads
    are torn down by the interpreter's exit, and a rank can abort there (SIGABRT, "terminate called without an
    active exception") after a run that succeeded."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


# ============================================================== main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mtkit",
        description="Clean, segment and align multilingual news; build, publish, translate, evaluate, fine-tune.",
    )
    parser.add_argument("--version", action="version", version=f"mtkit {__version__}")
    _add_output_options(parser, default=None)
    # the same options after the command (`mtkit build -v ...`); SUPPRESS: not given there, the main parser's stay
    shared = argparse.ArgumentParser(add_help=False)
    _add_output_options(shared, default=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_parser = sub.add_parser
    sub.add_parser = lambda *a, **kw: add_parser(*a, parents=[shared, *kw.pop("parents", [])], **kw)
    for add in _COMMANDS:
        add(sub)
    return parser


def _add_output_options(parser: argparse.ArgumentParser, *, default) -> None:
    given = {} if default is None else {"default": default}
    parser.add_argument("-v", "--verbose", action="count", **({"default": 0} | given),
                        help="more logging (-vv for debug)")
    parser.add_argument("-q", "--quiet", action="store_true", **given,
                        help="warnings and errors only, no progress bars")
    parser.add_argument("--progress", dest="force_progress", action="store_true", **given,
                        help="progress bars even when stderr is not a terminal (a log file); default: on a terminal")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # other libraries speak at WARNING and above unless -vv; mtkit itself at INFO with -v
    level = logging.WARNING if args.quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)]
    logging.basicConfig(level=logging.DEBUG if args.verbose >= 2 else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("mtkit").setLevel(level)
    args.progress = not args.quiet and (args.force_progress or sys.stderr.isatty())
    if not args.progress:
        # transformers' "Loading weights" and datasets' split bars follow huggingface_hub's switch, read when they
        # are first imported (the commands import them later); a user's own setting wins
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except MtkitError as exc:
        sys.stderr.write(f"mtkit {args.command}: error: {exc}\n")
        return 2
    except BrokenPipeError:
        # `mtkit segment x | head` closes stdout early; that is not an error.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        sys.stderr.write(f"mtkit {args.command}: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
