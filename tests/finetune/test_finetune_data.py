"""The numpy batches equal transformers' DataCollatorForSeq2Seq's; the token-budget sampler's bounds and order."""

import random

import numpy as np
import pytest
import torch

from mtkit.finetune import PairCollator, TokenBudgetBatchSampler, TokenizedPairs, encode_pairs
from mtkit.testing import build_tiny_m2m100, build_tiny_marian, build_tiny_mbart


@pytest.fixture(scope="module", params=["marian", "m2m100", "mbart"])
def model_and_tokenizer(request, tmp_path_factory):
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    build = {"marian": build_tiny_marian, "m2m100": build_tiny_m2m100, "mbart": build_tiny_mbart}[request.param]
    path = build(tmp_path_factory.mktemp(request.param) / "model")
    tokenizer = AutoTokenizer.from_pretrained(path)
    if request.param != "marian":  # language codes: the source and target ids hold them
        tokenizer.src_lang, tokenizer.tgt_lang = ("zh", "en") if request.param == "m2m100" else ("zh_CN", "en_XX")
    return AutoModelForSeq2SeqLM.from_pretrained(path), tokenizer


def sentences(n, seed):
    rng = random.Random(seed)
    words = ["公安", "部", "严打", "电诈", "跨国", "犯罪", "police", "fraud", "Myanmar", "cooperation"]
    return [" ".join(rng.choice(words) for _ in range(rng.randint(1, 12))) for _ in range(n)]


@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pair_collator_equals_datacollator_for_seq2seq(model_and_tokenizer, padding_side):
    from transformers import DataCollatorForSeq2Seq

    model, tokenizer = model_and_tokenizer
    tokenizer.padding_side = padding_side
    try:
        features = encode_pairs(tokenizer, sentences(40, 0), sentences(40, 1), max_source_length=10, max_target_length=8)
        features[3]["attention_mask"][-1] = 0  # a mask that is not all ones travels as it is
        reference = DataCollatorForSeq2Seq(tokenizer, model=model, padding=True)
        ours = PairCollator.for_model(tokenizer, model)
        pairs = TokenizedPairs(features)
        assert [pairs[i] for i in range(len(pairs))] == features
        for indices in ([0], [5, 1, 30, 2], list(range(40)), [39, 7, 7]):
            expected = reference([dict(features[i]) for i in indices])
            for got in (ours(pairs.__getitems__(indices)), ours([features[i] for i in indices])):
                assert sorted(got) == sorted(expected)
                for key in expected:
                    assert got[key].dtype == expected[key].dtype == torch.int64, key
                    assert torch.equal(got[key], expected[key]), key
    finally:
        tokenizer.padding_side = "right"


# One pair cut at (max_source_length, max_target_length), per model family: (input_ids, labels). Each side is cut at
# its own limit and still ends with EOS (0 in Marian, 2 in the others); uncut, the source has 6-7 ids, the target
# 16-17 ("police fraud Myanmar cooperation police fraud").
TRUNCATED = {
    "marian": {(10, 6): ([3, 80, 449, 296, 339, 0], [146, 498, 763, 36, 29, 0]),
               (4, 8): ([3, 80, 449, 0], [146, 498, 763, 36, 29, 213, 520, 0])},
    "m2m_100": {(10, 6): ([2101, 5, 82, 451, 298, 341, 2], [2021, 148, 500, 765, 38, 2]),
                (4, 8): ([2101, 5, 82, 2], [2021, 148, 500, 765, 38, 31, 215, 2])},
    "mbart": {(10, 6): ([2025, 5, 82, 451, 298, 341, 2], [2004, 148, 500, 765, 38, 2]),
              (4, 8): ([2025, 5, 82, 2], [2004, 148, 500, 765, 38, 31, 215, 2])},
}


@pytest.mark.parametrize("lengths", [(10, 6), (4, 8)])
def test_each_side_is_cut_at_its_own_limit_and_ends_with_eos(model_and_tokenizer, lengths):
    """Labels were cut at max_source_length (one tokenizer call for both sides) and then sliced to
    max_target_length, which dropped their EOS."""
    model, tokenizer = model_and_tokenizer
    source, target = "公安部严打电诈跨国犯罪", "police fraud Myanmar cooperation police fraud"
    (feature,) = encode_pairs(tokenizer, [source], [target], max_source_length=lengths[0], max_target_length=lengths[1])
    input_ids, labels = TRUNCATED[model.config.model_type][lengths]
    assert (feature["input_ids"], feature["attention_mask"], feature["labels"]) == (input_ids, [1] * len(input_ids), labels)
    (whole,) = encode_pairs(tokenizer, [source], [target], max_source_length=30, max_target_length=30)
    assert len(whole["input_ids"]) in (6, 7) and len(whole["labels"]) in (16, 17)  # within the limits: as tokenized
    assert whole["labels"][:lengths[1] - 1] == labels[:-1]


def test_token_budget_counts_source_plus_target():
    rng = np.random.default_rng(0)
    src = rng.integers(1, 60, 500)
    tgt = rng.integers(1, 60, 500)
    sampler = TokenBudgetBatchSampler(src, tgt, max_tokens=600, seed=3)
    batches = list(sampler)
    assert sorted(i for b in batches for i in b) == list(range(500))
    assert all(len(b) * (src[b].max() + tgt[b].max()) <= 600 or len(b) == 1 for b in batches)
    assert len(sampler) == len(batches) and list(sampler) == batches  # the epoch's batches are kept, not redone
    sampler.set_epoch(1)
    assert list(sampler) != batches
    sampler.set_epoch(0)
    assert list(sampler) == batches
    # one window over the set fills the batches better than many small windows
    padded = {w: sum(len(b) * (src[b].max() + tgt[b].max()) for b in TokenBudgetBatchSampler(src, tgt, max_tokens=600,
                                                                                            seed=3, window=w))
              for w in (50, 500)}
    assert padded[500] < padded[50]


@pytest.mark.parametrize("target, kwargs, expected", [
    ([4, 2, 9, 1, 5, 6, 3, 7, 0, 6, 1, 2], {"max_tokens": 24, "window": 6},
     [[10], [8, 3, 6], [7], [5], [2], [11], [0, 1], [9, 4]]),
    (None, {"max_tokens": 20}, [[11, 6, 10, 1], [2, 7], [5, 9], [0, 8, 3, 4]]),
    ([4, 2, 9, 1, 5, 6, 3, 7, 0, 6, 1, 2], {"max_tokens": 0}, [[4], [7], [6], [10], [3], [1], [2], [9], [5], [11], [8], [0]]),
])
def test_token_budget_batches_are_pinned(target, kwargs, expected):
    # the batches of the sampler's own fill loop, before it shared utils.fill_batches with length_sorted_batches
    source = [5, 1, 9, 3, 3, 7, 2, 8, 4, 6, 1, 2]
    assert list(TokenBudgetBatchSampler(source, target, seed=5, **kwargs)) == expected


def test_lean_loss_equals_the_models_loss_and_gradients(model_and_tokenizer):
    from transformers import DataCollatorForSeq2Seq

    from mtkit.finetune.loss import lean_loss_parts, logits_loss, seq2seq_loss, token_cross_entropy

    model, tokenizer = model_and_tokenizer
    features = encode_pairs(tokenizer, sentences(12, 2), sentences(12, 3), max_source_length=16, max_target_length=16)
    batch = DataCollatorForSeq2Seq(tokenizer, model=model, padding=True)(features)
    if hasattr(model, "final_logits_bias"):  # a bias that is not zero is added too
        model.final_logits_bias.copy_(torch.linspace(-1, 1, model.final_logits_bias.numel()).view(1, -1))
    model.eval()  # no dropout: the two passes see the same network

    def loss_and_grads(fn):
        model.zero_grad()
        loss = fn()
        loss.backward()
        return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    ref_loss, ref_grads = loss_and_grads(lambda: model(**batch).loss)
    loss, grads = loss_and_grads(lambda: seq2seq_loss(model, batch))
    assert torch.allclose(loss, ref_loss, atol=1e-5), (loss, ref_loss)
    assert grads.keys() == ref_grads.keys()
    assert all(torch.allclose(grads[n], ref_grads[n], atol=1e-5, rtol=1e-4) for n in grads)
    # without decoder_input_ids the labels give them, as in the model
    loss2, _ = loss_and_grads(lambda: seq2seq_loss(model, {k: v for k, v in batch.items() if k != "decoder_input_ids"}))
    assert torch.allclose(loss2, ref_loss, atol=1e-5)
    # through the model's forward (as under a DDP wrapper), also without decoder_input_ids (M2M100's collator)
    for inputs in (batch, {k: v for k, v in batch.items() if k != "decoder_input_ids"}):
        loss3, grads3 = loss_and_grads(lambda: logits_loss(model, inputs))
        assert torch.allclose(loss3, ref_loss, atol=1e-5)
        assert all(torch.allclose(grads3[n], ref_grads[n], atol=1e-5, rtol=1e-4) for n in grads3)
    # a normalizer (the Trainer's num_items_in_batch) divides the sum instead of taking the mean
    tokens = int((batch["labels"] != -100).sum())
    loss4, _ = loss_and_grads(lambda: seq2seq_loss(model, batch, num_items_in_batch=torch.tensor(4 * tokens)))
    assert torch.allclose(4 * loss4, ref_loss, atol=1e-5)
    # slices of rows give the same loss and gradient as one piece
    torch.manual_seed(0)  # the same logits every run: the gradients are compared with a tolerance
    logits = torch.randn(37, 11, requires_grad=True)
    labels = torch.randint(0, 11, (37,))
    labels[::5] = -100
    whole = torch.nn.functional.cross_entropy(logits, labels)
    (g_whole,) = torch.autograd.grad(whole, logits)
    sliced = token_cross_entropy(logits, labels, chunk_bytes=4 * 11 * 4)  # 4 rows at a time
    (g_sliced,) = torch.autograd.grad(sliced, logits)
    assert torch.allclose(whole, sliced) and torch.allclose(g_whole, g_sliced, atol=1e-6)
    assert lean_loss_parts(torch.nn.Linear(2, 2)) is None


def test_lean_loss_reaches_through_lora(model_and_tokenizer):
    from peft import LoraConfig, TaskType, get_peft_model

    from mtkit.finetune.loss import lean_loss_parts

    model, _ = model_and_tokenizer
    peft_model = get_peft_model(model, LoraConfig(task_type=TaskType.SEQ_2_SEQ_LM, r=2, target_modules=["q_proj", "v_proj"]))
    try:
        inner, body, head, _ = lean_loss_parts(peft_model)
        assert inner is peft_model.get_base_model() and body is inner.model and head is inner.lm_head
        assert any("lora_" in n for n, _ in body.named_parameters())
    finally:
        peft_model.unload()
