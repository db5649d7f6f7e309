"""Settings refused before any work, resuming past a checkpoint cut short, --no-resume, LoRA adapters scored,
the best evaluation kept between saves, T5 source prefixes, missing data or model."""

import json

import pytest
import torch

from mtkit.errors import BackendError, ConfigError, DataError
from mtkit.finetune import FinetuneConfig, finetune

from test_finetune_runs import settings, write_dataset  # same folder: pytest puts it on sys.path


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    from mtkit.testing import build_tiny_marian

    root = tmp_path_factory.mktemp("ftr")
    return {"model": build_tiny_marian(root / "marian", dropout=0.0), "data": write_dataset(root / "data")}


@pytest.mark.parametrize("values, message", [
    ({"learning_rate": -1}, "learning_rate must be > 0, not -1"),
    ({"max_steps": 0}, "max_steps must be -1 (train num_epochs) or > 0, not 0"),
    ({"max_steps": "ten"}, "max_steps must be an integer, not 'ten'"),
    ({"max_steps": 2.5}, "max_steps must be an integer, not 2.5"),
    ({"max_steps": True}, "max_steps must be an integer, not True"),
    ({"num_epochs": 0}, "num_epochs must be > 0 when max_steps is -1, not 0"),
    ({"eval_steps": 0}, "eval_steps must be >= 1, not 0"),
    ({"save_steps": 0}, "save_steps must be >= 1, not 0"),
    ({"warmup_ratio": 2}, "warmup_ratio must be >= 0 and < 1, not 2"),
    ({"eval_beam": 0}, "eval_beam must be >= 1, not 0"),
    ({"eval_batch_size": 0}, "eval_batch_size must be >= 1, not 0"),
    ({"early_stopping_patience": -1}, "early_stopping_patience must be >= 0, not -1"),
    ({"merge_lora": "no"}, "merge_lora must be true or false, not 'no'"),
    ({"learning_rate": "abc"}, "learning_rate must be a number or null, not 'abc'"),
    ({"lora_target_modules": "q_proj"}, "lora_target_modules must be a list or null, not 'q_proj'"),
    ({"optim": "foo"}, "optim 'foo' unknown; known: auto, adamw_torch,"),
    ({"lr_scheduler": "foo"}, "lr_scheduler 'foo' unknown; known: linear,"),
    ({"seed": -1}, "seed must be >= 0 and < 2**32, not -1"),
    ({"seed": 2**32}, "seed must be >= 0 and < 2**32, not 4294967296"),
    ({"learning_rate": float("inf")}, "learning_rate must be a finite number, not inf"),
    ({"max_grad_norm": float("nan")}, "max_grad_norm must be a finite number, not nan"),
    ({"lora_target_modules": []}, "lora_target_modules is empty; leave it out for the model family's defaults"),
    ({"report_to": ["bogus"]}, "report_to 'bogus' unknown; known: all, none, azure_ml, comet_ml, mlflow,"),
])
def test_bad_settings_are_refused_when_loaded(values, message):
    with pytest.raises(ConfigError) as info:
        FinetuneConfig.from_dict(values)
    assert str(info.value).startswith(message)


def test_reporting_integrations_are_checked_against_what_is_installed(monkeypatch):
    """The Trainer raised a missing package as a traceback after the data and the model had loaded."""
    import transformers.integrations.integration_utils as integrations

    monkeypatch.setattr(integrations, "get_available_reporting_integrations", lambda: ["mlflow"])
    with pytest.raises(ConfigError) as info:
        FinetuneConfig.from_dict({"report_to": ["mlflow", "tensorboard"]})
    assert str(info.value) == "report_to 'tensorboard': not installed here (installed: mlflow)"
    assert FinetuneConfig.from_dict({"report_to": "mlflow"}).report_to == "mlflow"
    assert FinetuneConfig.from_dict({"report_to": ["all"]}).report_to == ["all"]
    monkeypatch.setattr(integrations, "get_available_reporting_integrations", lambda: [])
    with pytest.raises(ConfigError) as info:
        FinetuneConfig.from_dict({"report_to": "wandb"})
    assert str(info.value) == "report_to 'wandb': not installed here (installed: none)"


def test_yaml_numbers_without_a_dot_and_files_that_are_not_settings(tmp_path):
    path = tmp_path / "ft.yaml"
    path.write_text("learning_rate: 5e-4\nnum_epochs: 2\n")  # PyYAML reads 5e-4 as a string
    config = FinetuneConfig.from_yaml(path)
    assert (config.learning_rate, config.lr, config.num_epochs) == (5e-4, 5e-4, 2)
    path.write_text("learning_rate: .inf\n")  # trained a NaN model that a re-run then skipped as finished
    with pytest.raises(ConfigError) as info:
        FinetuneConfig.from_yaml(path)
    assert str(info.value) == "learning_rate must be a finite number, not inf"
    path.write_text("[1, 2]\n")
    with pytest.raises(ConfigError, match="must be a mapping of setting: value, not list"):
        FinetuneConfig.from_yaml(path)
    with pytest.raises(ConfigError, match="cannot read the fine-tuning settings"):
        FinetuneConfig.from_yaml(tmp_path / "missing.yaml")


def test_missing_dataset_or_model_is_a_clear_error(assets, tmp_path):
    with pytest.raises(DataError, match="no such dataset folder"):
        finetune(assets["model"], tmp_path / "nothing", config_name="en-zh", direction="zh->en", out_dir=tmp_path / "x")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no dataset there"):
        finetune(assets["model"], tmp_path / "empty", config_name="en-zh", direction="zh->en", out_dir=tmp_path / "x")
    with pytest.raises(BackendError) as info:  # was the Hub's "Repo id must be in the form 'repo_name' or ..."
        finetune(tmp_path / "no-model", assets["data"], config_name="en-zh", direction="zh->en", out_dir=tmp_path / "x")
    assert str(info.value) == f"cannot load translation model '{tmp_path / 'no-model'}': no such model folder"
    assert not (tmp_path / "x").exists()


def test_settings_the_model_cannot_take_are_refused_before_training(assets, tmp_path):
    """Lengths past Marian's position table failed with an IndexError at the training step that drew a long pair;
    LoRA targets the model lacks with peft's traceback (all of them) or not at all (some)."""
    def run(**values):
        with pytest.raises(ConfigError) as info:
            finetune(assets["model"], assets["data"], config_name="en-zh", direction="zh->en", out_dir=tmp_path / "x",
                     settings=settings(**values), model_cards_dir=None)
        return str(info.value)

    assert run(max_source_length=1024) == ("max_source_length 1024 is over the model's 256 positions "
                                           "(max_position_embeddings); set max_source_length: 256 or less")
    assert run(max_target_length=257) == ("max_target_length 257 is over the model's 256 positions "
                                          "(max_position_embeddings); set max_target_length: 256 or less")
    assert run(method="lora", lora_target_modules=["q_proj", "nonexistent_mod", "proj"]) == (
        "LoRA target module(s) nonexistent_mod, proj match no module of MarianMTModel; its linear layers: "
        "fc1, fc2, k_proj, lm_head, out_proj, q_proj, v_proj (set lora_target_modules from these)")
    assert not (tmp_path / "x").exists()


def test_position_limits_by_family(tmp_path):
    from transformers import AutoModelForSeq2SeqLM

    from mtkit.testing import build_tiny_m2m100, build_tiny_t5
    from mtkit.translate.languages import model_family, position_limit

    # M2M100/NLLB compute their sinusoidal positions for any length; T5's are relative
    for build in (build_tiny_m2m100, build_tiny_t5):
        model = AutoModelForSeq2SeqLM.from_pretrained(build(tmp_path / build.__name__))
        assert position_limit(model, model_family(model)) is None


def test_a_lora_adapter_as_the_model_is_merged_into_its_base(assets, tmp_path, caplog, monkeypatch):
    """Loaded by transformers as an adapter on a frozen base: full fine-tuning died at its first step (no gradient),
    and a new LoRA named the raw base as its own, leaving out the adapter it had started from."""
    import logging

    from peft import PeftModel
    from transformers import AutoModelForSeq2SeqLM

    from mtkit.translate import Translator

    first = finetune(assets["model"], assets["data"], config_name="en-zh", direction="zh->en",
                     out_dir=tmp_path / "lora",
                     settings=settings(method="lora", merge_lora=False, max_steps=4, learning_rate=1e-2),
                     model_cards_dir=None).final_dir
    base_and_first = PeftModel.from_pretrained(AutoModelForSeq2SeqLM.from_pretrained(assets["model"]),
                                               first).merge_and_unload().state_dict()
    base = AutoModelForSeq2SeqLM.from_pretrained(assets["model"]).state_dict()
    assert max((base_and_first[k] - base[k]).abs().max() for k in base) > 1e-2
    short = dict(max_steps=2, eval_steps=2, save_steps=2)
    with caplog.at_level(logging.INFO, logger="mtkit.translate"):  # the CLI sets mtkit to WARNING
        full = finetune(first, assets["data"], config_name="en-zh", direction="zh->en", out_dir=tmp_path / "full",
                        settings=settings(**short, learning_rate=0.0001, lr_scheduler="constant"), model_cards_dir=None)
    assert f"{first} is a LoRA adapter: merged into its base model {assets['model']}" in caplog.messages
    trained = AutoModelForSeq2SeqLM.from_pretrained(full.final_dir).state_dict()
    assert full.metrics["steps"] == 2 and trained.keys() == base_and_first.keys()
    # started from base + adapter: two small steps move every weight by far less than the adapter did
    assert max((trained[k] - base_and_first[k]).abs().max() for k in trained) < 1e-3

    monkeypatch.chdir(tmp_path)  # the adapter given relative to here: the new one must load from anywhere
    second = finetune("lora/final/adapter", assets["data"], config_name="en-zh", direction="zh->en",
                      out_dir=tmp_path / "lora2", settings=settings(**short, method="lora", merge_lora=False,
                                                                    learning_rate=1e-2), model_cards_dir=None).final_dir
    assert json.loads((second / "adapter_config.json").read_text())["base_model_name_or_path"] == str(first.resolve())
    monkeypatch.chdir(assets["data"])
    chain = PeftModel.from_pretrained(AutoModelForSeq2SeqLM.from_pretrained(assets["model"]), first).merge_and_unload()
    chain = PeftModel.from_pretrained(chain, second).merge_and_unload().state_dict()
    loaded = Translator(second, src_lang="zh", tgt_lang="en").model.state_dict()
    assert loaded.keys() == chain.keys() and all(torch.equal(loaded[k], chain[k]) for k in chain)


def test_a_marian_model_for_another_pair_is_warned_of(tmp_path, caplog):
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    from mtkit.finetune.trainer import _prepare_languages
    from mtkit.testing import build_tiny_marian

    path = build_tiny_marian(tmp_path / "marian", src_lang="zh", tgt_lang="en")
    tok, model = AutoTokenizer.from_pretrained(path), AutoModelForSeq2SeqLM.from_pretrained(path)
    for src, tgt in (("zh", "en"), ("en", "tlh")):
        _prepare_languages(tok, model, src, tgt)
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        "the model's tokenizer declares the pair zh->en and this run trains en->tlh: right if the model is meant to "
        "learn another pair, else check --model and --direction"]
    # the saved model declares the pair it was trained for: the Translator (final scoring) refuses a contradicted one
    assert (tok.source_lang, tok.target_lang) == ("en", "tlh")
    caplog.clear()
    tok.source_lang, tok.target_lang = "zho", "mul"  # opus-mt's three-letter codes; a multi-target model's group
    _prepare_languages(tok, model, "zh", "fr")
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


def test_no_resume_leaves_no_checkpoint_of_the_earlier_start(assets, tmp_path):
    run = tmp_path / "run"
    # a finished earlier start, its checkpoint later than the killed start's below (which a resume would pick)
    finetune(assets["model"], assets["data"], config_name="en-zh", direction="zh->en", out_dir=run,
             settings=settings(max_steps=12, eval_steps=12, save_steps=12), model_cards_dir=None)
    assert (run / "checkpoint-12").is_dir() and (run / "done.json").is_file()
    other = settings(learning_rate=1e-3, max_steps=20)
    with pytest.raises(KeyboardInterrupt):  # killed after this start's first checkpoint
        finetune(assets["model"], assets["data"], config_name="en-zh", direction="zh->en", out_dir=run,
                 settings=other, resume=False, model_cards_dir=None, stop_after_steps=10)
    assert sorted(p.name for p in run.glob("checkpoint-*")) == ["checkpoint-10"]
    assert not (run / "done.json").exists()
    resumed = finetune(assets["model"], assets["data"], config_name="en-zh", direction="zh->en", out_dir=run,
                       settings=other, model_cards_dir=None)
    assert resumed.resumed_from.endswith("checkpoint-10") and resumed.metrics["steps"] == 20


def test_lora_adapter_without_merge_is_scored(assets, tmp_path):
    result = finetune(assets["model"], assets["data"], config_name="en-zh", direction="zh->en",
                      out_dir=tmp_path / "lora",
                      settings=settings(method="lora", merge_lora=False, max_steps=10, learning_rate=1e-2),
                      model_cards_dir=tmp_path / "cards")
    assert result.final_dir == tmp_path / "lora" / "final" / "adapter"
    assert sorted(p.name for p in (tmp_path / "lora" / "final").iterdir()) == ["adapter"]  # no scoring copy left
    assert result.metrics["eval_split"] == "test" and {"bleu", "chrf", "ter"} <= set(result.metrics)
    done = json.loads((tmp_path / "lora" / "done.json").read_text())
    assert done["final_dir"] == "final/adapter" and (tmp_path / "cards" / "lora.md").is_file()
    # the adapter folder is a model the Translator loads: its base with the adapter merged in
    from peft import PeftModel
    from transformers import AutoModelForSeq2SeqLM

    from mtkit.translate import Translator

    loaded = Translator(result.final_dir, src_lang="zh", tgt_lang="en").model.state_dict()
    merged = PeftModel.from_pretrained(AutoModelForSeq2SeqLM.from_pretrained(assets["model"]),
                                       result.final_dir).merge_and_unload().state_dict()
    base = AutoModelForSeq2SeqLM.from_pretrained(assets["model"]).state_dict()
    assert loaded.keys() == merged.keys() and all(torch.equal(loaded[k], merged[k]) for k in merged)
    assert not all(torch.equal(loaded[k], base[k]) for k in base)
    with pytest.raises(BackendError, match=r"no config.json or adapter_config.json\); it holds .*final/adapter$"):
        Translator(tmp_path / "lora" / "final")


def test_the_best_evaluation_between_saves_is_the_final_model(assets, tmp_path):
    from safetensors.torch import load_file

    run = tmp_path / "run"
    result = finetune(assets["model"], assets["data"], config_name="en-zh", direction="zh->en", out_dir=run,
                      settings=settings(max_steps=10, eval_steps=5, save_steps=10, metric_for_best="loss",
                                        learning_rate=3.0, lr_scheduler="linear", warmup_ratio=0.9),
                      model_cards_dir=None)
    history = json.loads((run / "checkpoint-10" / "trainer_state.json").read_text())["log_history"]
    evals = [(h["eval_loss"], h["step"]) for h in history if "eval_loss" in h]
    best_step = min(evals)[1]
    # the learning rate climbs to 3.0 over the run, so the second half diverges whatever the tokenizer's pieces
    # (measured: dev loss 16.4 at step 5, 281 at step 10; with a constant 5e-2, which step won changed between
    # environments); step 5 is no save step, and was lost before
    assert [s for _, s in evals] == [5, 10] and best_step == 5
    assert result.metrics["best_checkpoint"] == str(run / f"checkpoint-{best_step}")
    final = load_file(str(result.final_dir / "model.safetensors"))
    best = load_file(str(run / f"checkpoint-{best_step}" / "model.safetensors"))
    assert all(torch.equal(final[k], best[k]) for k in final)


def test_t5_sources_carry_the_target_token(tmp_path):
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    from mtkit.finetune.trainer import _prepare_languages
    from mtkit.testing import build_tiny_t5

    path = build_tiny_t5(tmp_path / "t5")
    tok, model = AutoTokenizer.from_pretrained(path), AutoModelForSeq2SeqLM.from_pretrained(path)
    assert _prepare_languages(tok, model, "zh", "en") == ("t5", "<2en> ")
    assert _prepare_languages(tok, model, "en", "zh") == ("t5", "<2zh> ")


def test_lora_on_a_gated_t5_trains_its_feed_forward_input(tmp_path):
    """T5 v1.1 / MADLAD-400 are model_type t5 with wi_0/wi_1: t5's default list (wi) matched nothing there, and
    peft, finding the other targets, left the feed-forward input untrained without a word."""
    from transformers import AutoModelForSeq2SeqLM

    from mtkit.finetune import FinetuneConfig
    from mtkit.finetune.trainer import _with_lora
    from mtkit.testing import build_tiny_t5

    settings = FinetuneConfig.from_dict({"method": "lora"})
    for shape, expected in ((dict(), {"q", "k", "v", "o", "wi", "wo"}),
                            (dict(feed_forward_proj="gated-gelu"), {"q", "k", "v", "o", "wi_0", "wi_1", "wo"})):
        model = AutoModelForSeq2SeqLM.from_pretrained(build_tiny_t5(tmp_path / str(len(shape)), **shape))
        lora = _with_lora(model, "t5", settings)
        trained = {name.split(".lora_A")[0].rsplit(".", 1)[-1] for name, _ in lora.named_parameters()
                   if ".lora_A" in name}
        assert trained == expected


@pytest.mark.parametrize("kwargs, message", [
    # config is the dataset's config name here, and a settings object in build_corpus(config=BuildConfig): passing
    # the settings there was an AttributeError ('FinetuneConfig' object has no attribute 'split')
    ({"config_name": FinetuneConfig()}, "config_name must be a dataset config name, a language pair such as 'en-zh' "
                                        "(a str), not FinetuneConfig"),
    ({"settings": {"max_steps": 2}}, "settings must be a FinetuneConfig, not dict (FinetuneConfig.from_dict builds "
                                     "one from a dict)"),
    ({"settings": "configs/finetune/opus-mt-full.yaml"}, "settings must be a FinetuneConfig, not str"),
])
def test_arguments_of_the_wrong_type_are_named(assets, tmp_path, kwargs, message):
    with pytest.raises(ConfigError) as info:
        finetune(assets["model"], assets["data"], out_dir=tmp_path / "x", direction="zh->en",
                 **{"config_name": "en-zh", **kwargs})
    assert str(info.value) == message
    assert not (tmp_path / "x").exists()


def test_a_run_prints_nothing_and_logs_its_progress(assets, tmp_path, capsys, caplog):
    """disable_tqdm made transformers add its PrinterCallback, which print()ed every log dict to stdout."""
    import logging

    with caplog.at_level(logging.INFO, logger="mtkit.finetune"):
        finetune(assets["model"], assets["data"], config_name="en-zh", direction="zh->en", out_dir=tmp_path / "run",
                 settings=settings(max_steps=2, eval_steps=2, save_steps=2, logging_steps=1, eval_max_length=4),
                 model_cards_dir=None)
    assert capsys.readouterr().out == ""
    steps = [r.getMessage() for r in caplog.records if r.name == "mtkit.finetune" and r.getMessage().startswith("step ")]
    assert [m.split(":")[0] for m in steps] == ["step 1", "step 2", "step 2", "step 2"]  # losses, dev scores, summary
    assert steps[0].startswith("step 1: loss=") and "eval_chrf=" in steps[2] and "train_runtime=" in steps[3]
    assert all(r.levelno == logging.INFO for r in caplog.records if r.getMessage().startswith("step "))


def test_save_steps_need_fit_eval_steps_only_when_a_dev_split_is_evaluated(assets, tmp_path):
    """A train-only dataset never evaluates, yet save_steps 3 was refused for not being a multiple of eval_steps
    100 (the default)."""
    train_only = write_dataset(tmp_path / "train-only", n_train=16, n_dev=0, n_test=0)
    values = {"max_steps": 3, "save_steps": 3, "batch_max_tokens": 256}
    result = finetune(assets["model"], train_only, config_name="en-zh", direction="zh->en", out_dir=tmp_path / "a",
                      settings=FinetuneConfig.from_dict(values), model_cards_dir=None)
    assert result.metrics["steps"] == 3 and (tmp_path / "a" / "checkpoint-3").is_dir()
    with pytest.raises(ConfigError) as info:  # with a dev split: refused, before anything loads or is written
        finetune("no/such-model", assets["data"], config_name="en-zh", direction="zh->en", out_dir=tmp_path / "b",
                 settings=FinetuneConfig(**values), model_cards_dir=None)
    assert str(info.value) == ("save_steps (3) must be a multiple of eval_steps (100): the best checkpoint is chosen "
                               "among evaluated ones")
    assert not (tmp_path / "b").exists()
