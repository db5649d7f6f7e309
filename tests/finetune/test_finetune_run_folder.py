"""The run folder: what is refused (another run's settings, named; files that are no run), what --no-resume
clears, and that a run is the same run whatever the spelling of its paths or the working directory."""

import json
import os

import pytest

from mtkit.errors import ConfigError
from mtkit.finetune import finetune, model_dir_info

from test_finetune_runs import settings, write_dataset  # same folder: pytest puts it on sys.path

SHORT = dict(max_steps=2, eval_steps=2, save_steps=2, eval_max_length=4)


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    from mtkit.testing import build_tiny_marian

    root = tmp_path_factory.mktemp("ftf")
    return {"model": build_tiny_marian(root / "marian", dropout=0.0),
            "data": write_dataset(root / "data", n_train=16, n_dev=4, n_test=4), "root": root}


def run_in(assets, out, **kw):
    return finetune(kw.pop("model", assets["model"]), kw.pop("dataset", assets["data"]), config_name="en-zh",
                    direction="zh->en", out_dir=out, settings=settings(**{**SHORT, **kw.pop("settings", {})}), **kw)


def test_a_folder_with_other_files_is_refused_before_anything_loads(assets, tmp_path):
    """The Trainer's checkpoint rotation deleted a checkpoint-* folder it had not written, and the card overwrote
    the folder's README.md."""
    out = tmp_path / "notes"
    (out / "checkpoint-old").mkdir(parents=True)
    (out / "README.md").write_text("my notes")
    with pytest.raises(ConfigError) as error:
        run_in(assets, out, model="no/such-model", model_cards_dir=None)  # refused before the model loads
    assert str(error.value) == (f"{out} is not empty and holds no fine-tuning run (no finetune_config.json; it holds "
                                "README.md, checkpoint-old): give a new or empty folder")
    assert (out / "README.md").read_text() == "my notes" and (out / "checkpoint-old").is_dir()


def test_a_run_is_found_from_any_spelling_of_its_paths_and_other_settings_are_named(assets, tmp_path, monkeypatch):
    out = tmp_path / "run"
    first = run_in(assets, out, model_cards_dir=None)
    assert json.loads((out / "done.json").read_text())["final_dir"] == "final"
    monkeypatch.chdir(assets["root"])  # relative paths, a trailing slash, another working directory
    again = run_in(assets, os.path.relpath(out), model="marian/", dataset="./data", model_cards_dir=None)
    assert again.skipped and again.final_dir.resolve() == first.final_dir.resolve()
    with pytest.raises(ConfigError) as error:
        run_in(assets, out, settings={"max_steps": 3}, model_cards_dir=None)
    assert str(error.value) == (f"{out} holds a run with other settings (max_steps 2 -> 3); use another --out, or "
                                "--no-resume to start over (removes its checkpoints)")


def test_no_resume_clears_the_earlier_model_and_card(assets, tmp_path):
    """A LoRA start with --no-resume over a full run left the full model's files in final/ beside adapter/, and
    `evaluate --model RUN/final` scored the old weights."""
    out = tmp_path / "run"
    run_in(assets, out, model_cards_dir=None)
    assert (out / "final" / "model.safetensors").is_file() and (out / "README.md").is_file()
    with pytest.raises(KeyboardInterrupt):
        run_in(assets, out, settings={"method": "lora", "merge_lora": False}, resume=False, model_cards_dir=None,
               stop_after_steps=2)
    assert not (out / "final").exists() and not (out / "README.md").exists() and not (out / "done.json").exists()


def test_out_dot_names_the_card_after_the_folder(assets, tmp_path, monkeypatch):
    out = tmp_path / "opus-zh-en"
    out.mkdir()
    monkeypatch.chdir(out)
    run_in(assets, ".", model_cards_dir=tmp_path / "cards")
    assert [p.name for p in (tmp_path / "cards").iterdir()] == ["opus-zh-en.md"]
    assert "# opus-zh-en" in (tmp_path / "cards" / "opus-zh-en.md").read_text(encoding="utf-8")


def test_a_run_recorded_before_paths_were_resolved_is_still_found(assets, tmp_path, monkeypatch):
    """Runs of an earlier mtkit hashed --model and --dataset as typed: the same command still skips (or resumes)
    them instead of refusing them as another run's settings."""
    from mtkit.utils import stable_hash

    monkeypatch.chdir(assets["root"])
    out = tmp_path / "run"
    run_in(assets, out, model="marian", dataset="data", model_cards_dir=None)
    legacy = stable_hash("marian", "data", "en-zh", "zh->en", settings(**SHORT).to_dict())
    for name, fields in (("done.json", {"key": legacy}),
                         ("finetune_config.json", {"key": legacy, "model": "marian", "dataset": "data"})):
        record = json.loads((out / name).read_text())
        (out / name).write_text(json.dumps({**record, **fields}))
    assert run_in(assets, out, model="marian", dataset="data", model_cards_dir=None).skipped


def test_card_from_a_finetuning_run_folder(tmp_path):
    """A run's final folder: the run's name, the base model recorded by the adapter, the run's facts (what
    `mtkit card --model-dir` states; finetune reads its own run folders, evaluate imports nothing of finetune)."""
    final = tmp_path / "opus-mps-lora" / "final" / "adapter"
    final.mkdir(parents=True)
    (final / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "Helsinki-NLP/opus-mt-zh-en"}))
    (tmp_path / "opus-mps-lora" / "done.json").write_text(json.dumps({"metrics": {"steps": 40, "bleu": 12.5}}))
    # done.json's scores are no training facts (they filled the Training table beside the card's own results)
    assert model_dir_info(final) == {"model_name": "opus-mps-lora", "base_model": "Helsinki-NLP/opus-mt-zh-en"}
    # the run's settings name the model as given to finetune, the dataset it trained on, and how it trained
    (tmp_path / "opus-mps-lora" / "finetune_config.json").write_text(json.dumps(
        {"model": "models/opus-mt-zh-en", "dataset": "build/mps", "config": "en-zh", "key": "k", "method": "lora",
         "learning_rate": None, "batch_max_tokens": 8192, "gradient_accumulation": 2}))
    assert model_dir_info(final) == {"model_name": "opus-mps-lora", "base_model": "models/opus-mt-zh-en",
                                     "training_dataset": "build/mps", "training": {
                                         "method": "lora", "learning_rate": 5e-4, "steps": 40,
                                         "weights_from": "checkpoint-40 (last)", "batch_max_tokens": 8192,
                                         "gradient_accumulation": 2}}
