"""The package as a Python user finds it: the stages from ``import mtkit``, cheap imports, docstrings."""

import importlib
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import mtkit

ROOT = Path(__file__).resolve().parents[1]
STAGES = ["align", "corpus", "errors", "evaluate", "finetune", "ingest", "publish", "records", "scale", "segment",
          "translate"]


def fresh_python(code: str) -> dict:
    """What ``code`` prints (one JSON value) in a new interpreter, where nothing of mtkit is imported yet."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    return json.loads(out.stdout)


def test_dir_lists_the_stages():
    # dir(mtkit) showed __version__ only; in a fresh interpreter, before other modules (mtkit.cli, mtkit.utils)
    # are imported and bound as attributes too
    names = fresh_python("import json, mtkit; print(json.dumps(dir(mtkit)))")
    assert [name for name in names if not name.startswith("_")] == STAGES
    assert "__version__" in names
    assert set(STAGES) <= set(dir(mtkit))


def test_a_stage_is_imported_on_first_access():
    # mtkit.align was an AttributeError until `import mtkit.align`
    got = fresh_python(
        "import json, sys, mtkit\n"
        "before = sorted(m for m in sys.modules if m.startswith('mtkit.'))\n"
        "align = mtkit.align.align\n"
        "print(json.dumps({'before': before, 'align': align.__module__, 'loaded': 'mtkit.align' in sys.modules,"
        " 'corpus': mtkit.corpus.__name__}))")
    # before: no stage, only the standard-library helper that builds the lazy __getattr__ (mtkit._lazy)
    assert got == {"before": ["mtkit._lazy"], "align": "mtkit.align", "loaded": True, "corpus": "mtkit.corpus"}


def test_unknown_names_are_attribute_errors():
    with pytest.raises(AttributeError, match=r"^module 'mtkit' has no attribute 'allign'$"):
        _ = mtkit.allign
    assert not hasattr(mtkit, "cli_main")
    corpus = importlib.import_module("mtkit.corpus")
    with pytest.raises(AttributeError, match=r"^module 'mtkit.corpus' has no attribute 'build'$"):
        _ = corpus.build


def test_corpus_names_its_entry_points_and_imports_the_builder_on_use():
    # mtkit/corpus/__init__.py was empty: no docstring, nothing to import from it
    import mtkit.corpus
    from mtkit.corpus import builder

    assert mtkit.corpus.__doc__.startswith("Corpus: the versions of each story, aligned, filtered")
    assert mtkit.corpus.__all__ == ["build_corpus", "BuildConfig", "BuildResult"]
    assert {"build_corpus", "BuildConfig", "BuildResult"} <= set(dir(mtkit.corpus))
    assert (mtkit.corpus.build_corpus, mtkit.corpus.BuildConfig, mtkit.corpus.BuildResult) == (
        builder.build_corpus, builder.BuildConfig, builder.BuildResult)
    got = fresh_python(
        "import json, sys, mtkit.corpus\n"
        "light = {m: m in sys.modules for m in ('mtkit.corpus.builder', 'torch', 'yaml', 'numpy')}\n"
        "from mtkit.corpus import build_corpus\n"
        "print(json.dumps({'light': light, 'after': build_corpus.__module__}))")
    assert got == {"light": {"mtkit.corpus.builder": False, "torch": False, "yaml": False, "numpy": False},
                   "after": "mtkit.corpus.builder"}


def test_evaluate_lists_its_lazy_names_and_imports_run_and_card_on_use():
    # evaluate's __getattr__ (one helper with mtkit's and corpus's now, mtkit._lazy) had no __dir__: dir() did not
    # list evaluate_dataset, evaluate_files, EvalResult or write_model_card
    got = fresh_python(
        "import json, sys, mtkit.evaluate as e\n"
        "light = {m: m in sys.modules for m in ('mtkit.evaluate.run', 'mtkit.evaluate.card')}\n"
        "listed = sorted(set(e.__all__) - set(dir(e)))\n"
        "print(json.dumps({'light': light, 'unlisted': listed, 'after': [e.EvalResult.__module__, "
        "e.evaluate_files.__module__, e.write_model_card.__module__]}))")
    assert got == {"light": {"mtkit.evaluate.run": False, "mtkit.evaluate.card": False}, "unlisted": [],
                   "after": ["mtkit.evaluate.report", "mtkit.evaluate.run", "mtkit.evaluate.card"]}


def test_align_re_exports_its_scoring():
    import mtkit.align
    from mtkit.align import scoring

    assert (mtkit.align.score_alignments, mtkit.align.read_beads, mtkit.align.AlignScore) == (
        scoring.score_alignments, scoring.read_beads, scoring.AlignScore)
    assert {"score_alignments", "read_beads", "AlignScore"} <= set(mtkit.align.__all__)
    assert scoring.__all__ == ["AlignScore", "score_alignments", "read_beads", "parse_bead"]


# finetune's two dataclasses (FinetuneConfig, FinetuneResult) are left to that stage's owner
@pytest.mark.parametrize("module", ["mtkit.ingest", "mtkit.segment", "mtkit.align", "mtkit.align.scoring",
                                    "mtkit.corpus", "mtkit.translate", "mtkit.evaluate", "mtkit.publish",
                                    "mtkit.scale"])
def test_every_public_function_and_class_has_its_own_docstring(module):
    # ingest_file and read_beads had none; a dataclass without one shows only its generated signature
    mod = importlib.import_module(module)
    undocumented = []
    for name in mod.__all__:
        obj = getattr(mod, name)
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        doc = (obj.__doc__ or "").strip()
        if not doc or (inspect.isclass(obj) and doc.startswith(f"{obj.__name__}(")):
            undocumented.append(name)
    assert undocumented == []


@pytest.mark.parametrize("function", ["mtkit.align:align", "mtkit.align:align_many", "mtkit.align:embed_overlaps",
                                      "mtkit.align:SentenceEncoder.encode", "mtkit.align:LexicalEncoder.encode",
                                      "mtkit.align:TransformerEncoder.encode", "mtkit.translate:Translator.translate",
                                      "mtkit.translate:translate_file", "mtkit.corpus:build_corpus",
                                      "mtkit.publish:publish_dataset"])
def test_one_name_for_progress_bars(function):
    # translate and align took progress=, build_corpus, translate_file and publish_dataset show_progress=
    module, _, path = function.partition(":")
    obj = importlib.import_module(module)
    for part in path.split("."):
        obj = getattr(obj, part)
    params = inspect.signature(obj).parameters
    assert "progress" not in params
    assert (params["show_progress"].default, params["show_progress"].kind) == (False, inspect.Parameter.KEYWORD_ONLY)


def test_evaluate_imports_nothing_of_finetune():
    # evaluate is upstream of finetune (finetune writes its cards with evaluate.card); evaluate.card read finetune's
    # run folders with finetune.config, an import against the data flow: that reader is finetune.model_dir_info now
    import ast

    against = []
    for path in sorted((ROOT / "mtkit" / "evaluate").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [("." * node.level) + (node.module or "")]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            against += [f"{path.name}: {name}" for name in names if "finetune" in name.split(".")]
    assert against == []
