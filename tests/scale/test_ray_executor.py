"""Build and translate on Ray (a local 2-CPU Ray): the same files as the local executor, byte for byte, also when
a worker dies mid-run or the driver is interrupted and the run resumed."""

import json
from pathlib import Path

import pytest
import ray

from mtkit.cli import main
from mtkit.corpus.builder import BuildConfig, build_corpus
from mtkit.corpus.steps import AlignPairs, PrepareStories
from mtkit.errors import BackendError, ConfigError
from mtkit.scale.ray_executor import FAULT_DIR_ENV, RayExecutor
from mtkit.testing import CORPUS, build_tiny_marian, corpus_texts, write_synthetic_corpus
from mtkit.translate import TranslatorSpec, translate_file


@pytest.fixture(scope="module")
def faults(tmp_path_factory):
    """One Ray for the module, with a GPU in name only (the GPU layout's test schedules on it; nothing uses it);
    its workers see the fault-injection folder (a test arms a crash by writing ``<stage>.crash`` there)."""
    folder = tmp_path_factory.mktemp("faults")
    ray.init(num_cpus=2, num_gpus=1, include_dashboard=False,
             runtime_env={"env_vars": {FAULT_DIR_ENV: str(folder)}})
    yield folder
    ray.shutdown()


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def assert_same_files(got: Path, expected: Path) -> None:
    got_files, expected_files = files(got), files(expected)
    assert sorted(got_files) == sorted(expected_files)
    assert [name for name in expected_files if got_files[name] != expected_files[name]] == []


class Interrupted(RayExecutor):
    """The driver is killed after ``after`` results have come back (and been written)."""

    def __init__(self, after: int, **kwargs):
        super().__init__(**kwargs)
        self.after = after

    def map(self, steps, items, *, ordered=True):
        for k, result in enumerate(super().map(steps, items, ordered=ordered)):
            if k == self.after:
                raise KeyboardInterrupt
            yield result


class Recording(RayExecutor):
    """Keeps what went to the workers and what came back."""

    def map(self, steps, items, *, ordered=True):
        self.sent = list(items)
        self.results = []
        for result in super().map(steps, self.sent, ordered=ordered):
            self.results.append(result)
            yield result


# ------------------------------------------------------------------ build


STORIES = {f"s{k}" for k in range(24)}
PAIRS = 60  # pages mix English with the seeds' Indonesian sentences: a story gives one to three pairs


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """24 two-version stories and their local build."""
    root = tmp_path_factory.mktemp("synthetic")
    corpus = write_synthetic_corpus(root / "corpus", 24, seed=5)
    build_corpus(corpus, root / "local", BuildConfig(encoder="lexical"))
    return corpus, root / "local"


def test_the_seeds_build_the_same_on_ray_as_locally(faults, tmp_path):
    assert main(["-q", "build", str(CORPUS), "--out", str(tmp_path / "local"), "--encoder", "lexical"]) == 0
    assert main(["-q", "build", str(CORPUS), "--out", str(tmp_path / "ray"), "--encoder", "lexical",
                 "--executor", "ray", "--num-workers", "2"]) == 0
    assert_same_files(tmp_path / "ray", tmp_path / "local")
    assert len(files(tmp_path / "ray" / ".cache" / "align")) == 2  # the two aligned pairs, cached alike


def test_a_synthetic_corpus_builds_the_same_on_ray_as_locally(faults, synthetic, tmp_path):
    corpus, local = synthetic
    executor = Recording(num_workers=2)
    result = build_corpus(corpus, tmp_path / "ray", BuildConfig(encoder="lexical"), executor=executor)
    assert_same_files(tmp_path / "ray", local)
    assert len(result.report["pairs"]) == PAIRS and {p["story"] for p in result.report["pairs"]} == STORIES
    assert [work.story for work in executor.results] == sorted(STORIES, key=lambda s: int(s[1:]))  # story order kept


def test_with_gpus_pages_are_cleaned_by_cpu_tasks_feeding_the_gpu_actors(faults, synthetic, tmp_path):
    corpus, local = synthetic
    executor = Recording(num_gpus=1)
    build_corpus(corpus, tmp_path / "ray", BuildConfig(encoder="lexical"), executor=executor)
    stages = executor.stages([PrepareStories(True, "-"), AlignPairs("lexical", {}, "-")])
    assert [(stage.name, stage.pooled) for stage in stages] == [("prepare", False), ("align", True)]
    assert_same_files(tmp_path / "ray", local)


def test_a_killed_worker_loses_no_document(faults, synthetic, tmp_path):
    corpus, local = synthetic
    (faults / "prepare+align.crash").write_text("2")  # the first worker to reach its second batch dies there
    build_corpus(corpus, tmp_path / "ray", BuildConfig(encoder="lexical"), executor=RayExecutor(num_workers=2))
    assert not (faults / "prepare+align.crash").exists()  # it did die
    assert_same_files(tmp_path / "ray", local)


def test_an_interrupted_ray_build_resumes_from_the_cache(faults, synthetic, tmp_path):
    corpus, local = synthetic
    with pytest.raises(KeyboardInterrupt):
        build_corpus(corpus, tmp_path / "ray", BuildConfig(encoder="lexical"), executor=Interrupted(8, num_workers=1))
    pairs = json.loads((local / "report.json").read_text(encoding="utf-8"))["pairs"]
    first_eight = sum(int(p["story"][1:]) < 8 for p in pairs)
    assert len(files(tmp_path / "ray" / ".cache" / "align")) == first_eight  # the stories the driver had received
    assert not (tmp_path / "ray" / "README.md").exists()
    executor = Recording(num_workers=1)
    build_corpus(corpus, tmp_path / "ray", BuildConfig(encoder="lexical"), executor=executor)
    fresh = [sum(a is not None for a in work.alignments) for work in executor.results]
    assert fresh[:8] == [0] * 8  # their pairs came from the cache
    assert fresh[8:] == [len(work.jobs) for work in executor.results[8:]] and sum(fresh) == PAIRS - first_eight
    assert_same_files(tmp_path / "ray", local)


def test_unlabelled_documents_are_paired_the_same_on_ray(faults, tmp_path):
    """A crawl without stories: the pages that hold no pair of their own are paired by similarity on the
    driver, and those pairs go back to the workers to be aligned."""
    corpus = write_synthetic_corpus(tmp_path / "crawl", 8, seed=7)
    manifest = corpus / "manifest.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").split("stories:")[0], encoding="utf-8")
    config = BuildConfig(encoder="lexical", pair_unlabelled=True, pairing_threshold=0.3)
    result = build_corpus(corpus, tmp_path / "local", config)
    build_corpus(corpus, tmp_path / "ray", config, executor=RayExecutor(num_workers=2))
    assert_same_files(tmp_path / "ray", tmp_path / "local")
    assert sorted(p["story"] for p in result.report["pairs"] if p["story"].startswith("auto:")) == [
        "auto:d5-en.en+d5-zh.zh", "auto:d7-en.en+d7-zh.zh"]


def test_an_empty_page_is_skipped_on_a_worker_as_locally(faults, tmp_path):
    import shutil

    shutil.copytree(CORPUS, tmp_path / "corpus")
    (tmp_path / "corpus" / "raw" / "004_5065d816adfc3ec2.txt").write_text("  \n", encoding="utf-8")
    local = build_corpus(tmp_path / "corpus", tmp_path / "local", BuildConfig(encoder="lexical"))
    build_corpus(tmp_path / "corpus", tmp_path / "ray", BuildConfig(encoder="lexical"),
                 executor=RayExecutor(num_workers=1))
    assert [page["file"] for page in local.report["skipped_pages"]] == ["raw/004_5065d816adfc3ec2.txt"]
    assert_same_files(tmp_path / "ray", tmp_path / "local")


def test_an_error_on_a_worker_reaches_the_driver_as_itself(faults, tmp_path):
    """A model folder missing on a worker's machine: the worker's BackendError, not Ray's wrapper of it."""
    from mtkit.translate import TranslateChunks, TranslationChunk

    steps = [TranslateChunks(TranslatorSpec(str(tmp_path / "gone")), {})]
    with pytest.raises(BackendError, match=r"^cannot load translation model '.*gone': no such model folder$"):
        list(RayExecutor(num_workers=1).map(steps, [TranslationChunk(0, 1, ["电诈"])]))


# ------------------------------------------------------------------ translate


@pytest.fixture(scope="module")
def translation(tmp_path_factory):
    """A tiny Marian, 40 input lines (one empty) and their local translation, 6 lines to a chunk."""
    root = tmp_path_factory.mktemp("translate")
    model = build_tiny_marian(root / "marian")
    lines = corpus_texts(langs=("zh",))[:39]
    lines.insert(7, "")
    (root / "input.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["-q", "translate", str(root / "input.txt"), "--model", str(model), "--out", str(root / "local.txt"),
                 "--chunk-size", "6", "--max-length", "16"]) == 0
    return model, lines, root / "local.txt"


def test_translation_on_ray_equals_local(faults, translation, tmp_path, capsys):
    model, lines, local = translation
    assert main(["translate", str(local.parent / "input.txt"), "--model", str(model), "--out", str(tmp_path / "ray.txt"),
                 "--chunk-size", "6", "--max-length", "16", "--executor", "ray", "--num-workers", "2"]) == 0
    assert (tmp_path / "ray.txt").read_bytes() == local.read_bytes()
    assert len(local.read_text(encoding="utf-8").splitlines()) == 40
    assert capsys.readouterr().out.endswith(
        f"40 lines -> {tmp_path / 'ray.txt'}\ttranslate:mtkit|model:marian|beam:1|dtype:fp32|src:-|tgt:-|mtkit:0.1.0\n")
    assert not (tmp_path / "ray.txt.partial").exists()


def test_a_killed_translation_worker_loses_no_line(faults, translation, tmp_path):
    model, lines, local = translation
    (faults / "translate.crash").write_text("2")
    translate_file(TranslatorSpec(str(model)), lines, tmp_path / "ray.txt", chunk_size=6, max_length=16,
                   executor=RayExecutor(num_workers=2))
    assert not (faults / "translate.crash").exists()
    assert (tmp_path / "ray.txt").read_bytes() == local.read_bytes()


def test_an_interrupted_ray_translation_resumes(faults, translation, tmp_path):
    model, lines, local = translation
    spec = TranslatorSpec(str(model))
    with pytest.raises(KeyboardInterrupt):
        translate_file(spec, lines, tmp_path / "ray.txt", chunk_size=6, max_length=16,
                       executor=Interrupted(3, num_workers=2))
    assert not (tmp_path / "ray.txt").exists()
    (partial,) = (tmp_path / "ray.txt.partial").iterdir()
    assert len(list(partial.glob("chunk-*.txt"))) == 3
    executor = Recording(num_workers=1)
    translate_file(spec, lines, tmp_path / "ray.txt", chunk_size=6, max_length=16, executor=executor)
    assert len(executor.sent) == 4  # of 7 chunks, only those the interrupted run had not written
    assert (tmp_path / "ray.txt").read_bytes() == local.read_bytes()
    assert not (tmp_path / "ray.txt.partial").exists()


def test_a_relative_model_path_reaches_the_workers_as_the_driver_means_it(faults, translation, tmp_path,
                                                                         monkeypatch):
    # the workers run in the directory Ray started in (another node's, on a cluster): "marian" there is a hub id
    model, lines, local = translation
    monkeypatch.chdir(model.parent)
    translate_file(TranslatorSpec(model.name), lines, tmp_path / "ray.txt", chunk_size=6, max_length=16,
                   executor=RayExecutor(num_workers=1))
    assert (tmp_path / "ray.txt").read_bytes() == local.read_bytes()


def test_more_gpus_than_the_cluster_has_is_an_error_before_any_work(faults, translation, tmp_path):
    model, lines, _ = translation
    with pytest.raises(ConfigError, match=r"num_gpus=2 / --num-gpus 2, but the Ray cluster has 1 GPU$"):
        translate_file(TranslatorSpec(str(model)), lines, tmp_path / "ray.txt", executor=RayExecutor(num_gpus=2))
    assert not (tmp_path / "ray.txt.partial").exists()  # Ray would have queued the actors for ever


def test_a_model_a_worker_cannot_load_is_an_error_naming_it(faults, tmp_path):
    with pytest.raises(BackendError, match=r"cannot load translation model '.*no-such-model'"):
        translate_file(TranslatorSpec(str(tmp_path / "no-such-model")), ["公安部"], tmp_path / "out.txt",
                       executor=RayExecutor(num_workers=1))
