"""One optimizer step over several batches: gradient accumulation and several processes (torchrun, on CPU with gloo)
give the gradient of the mean over all the step's label tokens, as one big batch would."""

import json
import os
import subprocess
import sys

import pytest
import torch

from mtkit.finetune import FinetuneConfig, PairCollator, encode_pairs, finetune
from mtkit.finetune.trainer import build_trainer
from mtkit.testing import build_tiny_m2m100, build_tiny_marian

from test_finetune_runs import write_dataset  # same folder: pytest puts it on sys.path

SENTENCES = ["公安 部 严打", "缅甸 警方", "跨国 犯罪 合作 泰国 警方 电诈", "电诈"]


@pytest.mark.parametrize("family", ["marian", "m2m100"])
def test_accumulated_micro_batches_give_the_gradient_of_one_batch(tmp_path, family):
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    no_randomness = dict(dropout=0.0, attention_dropout=0.0, activation_dropout=0.0)
    if family == "m2m100":
        no_randomness.update(encoder_layerdrop=0.0, decoder_layerdrop=0.0)
    path = (build_tiny_marian if family == "marian" else build_tiny_m2m100)(tmp_path / family, **no_randomness)
    tokenizer, model = AutoTokenizer.from_pretrained(path), AutoModelForSeq2SeqLM.from_pretrained(path)
    if family == "m2m100":
        tokenizer.src_lang = tokenizer.tgt_lang = "zh"
    features = encode_pairs(tokenizer, SENTENCES, SENTENCES, max_source_length=64, max_target_length=64)
    settings = FinetuneConfig.from_dict(dict(gradient_accumulation=2, max_steps=1, batch_max_tokens=256))
    trainer = build_trainer(model, tokenizer, features, settings=settings, run_dir=tmp_path / "run")
    trainer.create_optimizer_and_scheduler(num_training_steps=1)
    trainer.current_gradient_accumulation_steps = 2  # what the training loop sets for a step of two batches
    collate = PairCollator.for_model(tokenizer, model)
    both = collate(features)
    label_tokens = torch.tensor(int((both["labels"] != -100).sum()))  # the Trainer's num_items_in_batch

    model.zero_grad()
    losses = [trainer.training_step(model, collate(part), num_items_in_batch=label_tokens)
              for part in (features[:2], features[2:])]
    accumulated = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad()
    reference = model(**both).loss  # the model's mean over the one big batch
    reference.backward()

    assert abs(float(sum(losses)) - reference.item()) < 1e-5  # the logged loss is the step's mean
    for name, param in model.named_parameters():
        if param.grad is not None:
            torch.testing.assert_close(accumulated[name], param.grad, rtol=1e-3, atol=1e-6, msg=lambda m, name=name: f"{name}: {m}")


KILLED_RUN = """
import sys
from mtkit.finetune import FinetuneConfig, finetune
settings = FinetuneConfig.from_yaml(sys.argv[4])
try:
    finetune(sys.argv[1], sys.argv[2], config_name="en-zh", direction="zh->en", out_dir=sys.argv[3], settings=settings,
             model_cards_dir=None, stop_after_steps=3)
except KeyboardInterrupt:
    print("killed after step 3")
finally:  # as the command does: a gloo rank left with its group open can abort at exit
    import torch.distributed as dist
    if dist.is_initialized():
        dist.destroy_process_group()
"""


@pytest.mark.slow
def test_two_processes_train_like_one_process_accumulating_two_batches(tmp_path):
    """torchrun with 2 processes: process r takes batches r, r+2, ... of the same token-budget order and the
    gradients are averaged; one process with gradient_accumulation 2 takes batches 0 and 1, then 2 and 3. With plain
    SGD (which, unlike Adam, keeps any scale error in the gradient) both end at the same weights, also when the
    two-process run is killed in its second epoch and resumed by the command (4 batches an epoch, 2 steps: killed
    after step 3, the resumed step 4 must take epoch 1's last batches, not epoch 0's)."""
    from safetensors.torch import load_file

    model = build_tiny_marian(tmp_path / "marian", dropout=0.0)
    data = write_dataset(tmp_path / "data", n_train=32, n_dev=6, n_test=4)
    # the token budget that makes 4 batches of the 32 pairs: token counts depend on the sentencepiece model
    # trained on the corpus and the library versions (a fixed 96 made 4 batches when written, 6 in a later environment)
    budget = next((b for b in range(16, 512) if len(train_batches(model, data, batch_max_tokens=b,
                                                                  seed=FinetuneConfig.seed)[1]) == 4), None)
    assert budget is not None
    common = dict(max_steps=6, eval_steps=3, save_steps=3, batch_max_tokens=budget, optim="sgd", learning_rate=0.5,
                  max_grad_norm=0.0, warmup_ratio=0.0, eval_max_length=6, early_stopping_patience=0, logging_steps=1,
                  save_total_limit=4, run_name="two-processes")
    yaml = tmp_path / "two.yaml"
    yaml.write_text("".join(f"{k}: {v}\n" for k, v in common.items()))
    (tmp_path / "killed_run.py").write_text(KILLED_RUN)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    two = tmp_path / "two"
    killed = subprocess.run([*torchrun, str(tmp_path / "killed_run.py"), str(model), str(data), str(two), str(yaml)],
                            env=env, capture_output=True, text=True, timeout=600)
    assert killed.stdout.count("killed after step 3") == 2, killed.stderr[-3000:]  # both processes stopped there
    assert not (two / "done.json").exists() and (two / "checkpoint-3").is_dir()
    assert json.loads((two / "checkpoint-3" / "trainer_state.json").read_text())["epoch"] == 1.5
    done = subprocess.run([*torchrun, "-m", "mtkit.cli", "finetune", "--model", str(model), "--dataset", str(data),
                           "--config", "en-zh", "--direction", "zh->en", "--out", str(two), "--finetune-config",
                           str(yaml), "--model-cards", str(tmp_path / "cards")],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("final model:") == 1  # the main process reports, once
    assert "eval_split=test" in done.stdout and (tmp_path / "cards" / "two-processes.md").is_file()
    record = json.loads((two / "done.json").read_text())
    assert record["metrics"]["steps"] == 6

    finetune(model, data, config_name="en-zh", direction="zh->en", out_dir=tmp_path / "one",
                   settings=FinetuneConfig.from_dict({**common, "gradient_accumulation": 2}), model_cards_dir=None)
    # the first step's logged loss is the starting model's mean over the label tokens of batches 0 and 1
    reference = first_step_loss(model, data, batch_max_tokens=budget, seed=FinetuneConfig.seed)
    assert logged_losses(two)[1] == pytest.approx(reference, abs=1e-4)
    assert logged_losses(tmp_path / "one")[1] == pytest.approx(reference, abs=1e-4)
    start = load_file(str(model / "model.safetensors"))
    # the last step's weights (the final model is the best dev checkpoint's, which may be before the kill)
    two_procs = load_file(str(two / "checkpoint-6" / "model.safetensors"))
    one_proc = load_file(str(tmp_path / "one" / "checkpoint-6" / "model.safetensors"))
    moved = 0
    for name, weight in one_proc.items():
        torch.testing.assert_close(two_procs[name], weight, rtol=1e-4, atol=1e-6, msg=name)
        moved += int(not torch.equal(weight, start[name]))
    assert moved > 10  # the steps did train


def logged_losses(run_dir) -> dict[int, float]:
    state = json.loads((run_dir / "checkpoint-6" / "trainer_state.json").read_text())
    return {entry["step"]: entry["loss"] for entry in state["log_history"] if "loss" in entry}


def train_batches(model_dir, data, *, batch_max_tokens, seed) -> tuple[list[dict], list[list[int]]]:
    """The train split's features and the first epoch's batches, as finetune makes them."""
    from transformers import AutoTokenizer

    from mtkit.finetune import TokenBudgetBatchSampler, TokenizedPairs
    from mtkit.finetune.data import load_parallel_splits

    train = load_parallel_splits(data, "en-zh", "zh->en")["train"]
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    features = encode_pairs(tokenizer, train.sources, train.targets, max_source_length=256, max_target_length=256)
    pairs = TokenizedPairs(features)
    return features, list(TokenBudgetBatchSampler(pairs.src_len, pairs.tgt_len, max_tokens=batch_max_tokens,
                                                  seed=seed))


def first_step_loss(model_dir, data, *, batch_max_tokens, seed) -> float:
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    features, batches = train_batches(model_dir, data, batch_max_tokens=batch_max_tokens, seed=seed)
    tokenizer, model = AutoTokenizer.from_pretrained(model_dir), AutoModelForSeq2SeqLM.from_pretrained(model_dir)
    step = [features[i] for i in batches[0] + batches[1]]
    with torch.no_grad():
        return model(**PairCollator.for_model(tokenizer, model)(step)).loss.item()
