"""TransformerEncoder.encode (our batching, straight through the model's modules) against
SentenceTransformer.encode, on a tiny random BERT sentence-transformer saved by the test (CPU, fp32)."""

from __future__ import annotations

import numpy as np
import pytest

from mtkit.align import TransformerEncoder

MAX_SEQ_LENGTH = 24
WORDS = ["polisi", "menangkap", "tersangka", "penipuan", "police", "arrest", "suspect", "fraud", "online"]
CHARS = list("警察抓获嫌疑人诈骗网络")


@pytest.fixture(scope="module")
def st_model(tmp_path_factory):
    """A 2-layer random BERT with mean pooling (so padding must be masked right) and a Dense layer."""
    import torch
    from sentence_transformers import SentenceTransformer
    try:  # sentence-transformers >= 6 moved the modules; older releases have them here
        from sentence_transformers.sentence_transformer import modules as models
    except ImportError:
        from sentence_transformers import models
    from transformers import BertConfig, BertModel, BertTokenizerFast

    tmp = tmp_path_factory.mktemp("st")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS + CHARS
    (tmp / "vocab.txt").write_text("\n".join(vocab), encoding="utf-8")
    # positional: the vocabulary file (transformers 4 calls it vocab_file, 5 vocab and ignores vocab_file=)
    BertTokenizerFast(str(tmp / "vocab.txt")).save_pretrained(tmp / "bert")
    torch.manual_seed(0)
    # a wide init keeps a random model's output dependent on its input
    BertModel(BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=64, max_position_embeddings=64, initializer_range=0.5)
              ).save_pretrained(tmp / "bert")
    word = models.Transformer(str(tmp / "bert"), max_seq_length=MAX_SEQ_LENGTH)
    modules = [word, models.Pooling(32, "mean"), models.Dense(32, 16, activation_function=torch.nn.Tanh()),
               models.Normalize()]
    SentenceTransformer(modules=modules).save(str(tmp / "st"))
    return str(tmp / "st")


def mixed_texts(count: int = 60, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    texts = []
    for _ in range(count):
        n = int(rng.integers(1, 12))
        if rng.random() < 0.5:
            texts.append(" ".join(rng.choice(WORDS, size=n)))
        else:
            texts.append("".join(rng.choice(CHARS, size=n)))
    long_text = " ".join(WORDS * 6)  # 54 words: past max_seq_length, truncated
    texts[5:5] = ["", long_text, texts[0], "", long_text + " polisi"]
    return texts + texts[:7]  # duplicates


def reference(path: str, texts: list[str]) -> np.ndarray:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path, device="cpu").encode(texts, normalize_embeddings=True, convert_to_numpy=True)


def test_encode_equals_sentence_transformers_encode(st_model):
    texts = mixed_texts()
    expected = reference(st_model, texts)
    # distinct texts get clearly distinct vectors here, so a row out of order could not pass the comparison
    distinct = {t: v for t, v in zip(texts, expected) if len(t) < 100}  # the two long texts are cut alike
    vectors = np.stack(list(distinct.values()))
    gaps = np.abs(vectors[:, None, :] - vectors[None, :, :]).max(axis=-1)
    assert gaps[~np.eye(len(vectors), dtype=bool)].min() > 1e-3

    encoder = TransformerEncoder(st_model, device="cpu")
    got = encoder.encode(texts)
    assert got.shape == expected.shape and got.dtype == np.float32
    assert np.allclose(got, expected, atol=1e-5)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)
    # identical texts, identical vectors; a text past max_seq_length is cut there, as sentence-transformers cuts it
    assert np.array_equal(got[5], got[8]) and np.array_equal(got[0], got[7])
    assert np.allclose(got[6], got[9], atol=1e-6)
    assert encoder.encode([]).shape == (0, 16)
    assert np.allclose(encoder.encode(["polisi"]), reference(st_model, ["polisi"]), atol=1e-5)
    assert np.allclose(encoder.encode(texts[::-1]), expected[::-1], atol=1e-5)


def _record_batches(encoder: TransformerEncoder) -> list[tuple[int, int, bool]]:
    """(rows, padded length, whether any padding) of every batch the model sees."""
    batches: list[tuple[int, int, bool]] = []

    def hook(module, args):
        rows, width = args[0]["input_ids"].shape
        batches.append((rows, width, not bool(args[0]["attention_mask"].all())))

    encoder.model[0].register_forward_pre_hook(hook)
    return batches


def test_the_padded_token_budget_cuts_batches_and_changes_nothing(st_model):
    texts = mixed_texts(200, seed=1)
    expected = reference(st_model, texts)
    distinct = len(set(texts))

    big = TransformerEncoder(st_model, device="cpu", batch_tokens=16_384)
    big_batches = _record_batches(big)
    assert np.allclose(big.encode(texts), expected, atol=1e-5)
    assert len(big_batches) == 1 and big_batches[0][0] == distinct  # each distinct text once

    budget = 32
    small = TransformerEncoder(st_model, device="cpu", batch_tokens=budget)
    small.EXACT_MIN_FILL = 0  # every batch padded
    batches = _record_batches(small)
    assert np.allclose(small.encode(texts), expected, atol=1e-5)
    assert sum(rows for rows, _, _ in batches) == distinct
    assert len(batches) > distinct // 4
    for rows, width, _ in batches:
        assert rows * width <= budget or rows == 1  # one text longer than the budget goes alone
        assert width % 8 == 0 or width == MAX_SEQ_LENGTH
        assert width <= MAX_SEQ_LENGTH
    assert [w for _, w, _ in batches] == sorted((w for _, w, _ in batches), reverse=True)  # longest first

    # on a CPU the budget is CPU_BATCH_TOKENS (small batches ran faster there); batch_size bounds the rows
    few_rows = TransformerEncoder(st_model, device="cpu", batch_size=1)
    assert few_rows.batch_tokens == TransformerEncoder.CPU_BATCH_TOKENS == 2048
    rows_seen = _record_batches(few_rows)
    assert np.allclose(few_rows.encode(texts), expected, atol=1e-5)
    assert max(rows for rows, _, _ in rows_seen) <= 8


def test_texts_of_one_length_go_unpadded_when_they_fill_a_batch(st_model):
    rng = np.random.default_rng(4)
    same = list(dict.fromkeys(" ".join(rng.choice(WORDS, size=4)) for _ in range(60)))[:40]  # 6 tokens each
    texts = mixed_texts(200, seed=1) + same
    expected = reference(st_model, texts)
    encoder = TransformerEncoder(st_model, device="cpu", batch_size=4, batch_tokens=96)  # up to 32 rows a batch
    batches = _record_batches(encoder)
    assert np.allclose(encoder.encode(texts), expected, atol=1e-5)
    assert sum(rows for rows, _, _ in batches) == len(set(texts))
    # lengths that many texts share (the 40 of 6 tokens among them) go in unpadded batches of 8 to 96 // length
    # rows; the rest in padded batches of widths in multiples of 8
    exact = [(rows, width) for rows, width, padding in batches if width % 8]
    assert sum(rows for rows, width in exact if width == 6) >= 40 and (16, 6) in exact
    assert all(8 <= rows <= 96 // width for rows, width in exact)
    assert not any(padding for _, width, padding in batches if width % 8)
    for rows, width, _ in batches:
        assert rows * width <= 96 or rows == 1


def test_pieces_tokenized_ahead_keep_the_order(st_model, monkeypatch):
    """Several pieces (laid out by the helper thread) and several chunks (copied back one by one)."""
    texts = mixed_texts(300, seed=2)
    expected = reference(st_model, texts)
    encoder = TransformerEncoder(st_model, device="cpu", batch_tokens=256)
    monkeypatch.setattr(encoder, "FIRST_PIECE", 7)
    monkeypatch.setattr(encoder, "CHUNK_TEXTS", 100)
    shapes = _record_batches(encoder)
    assert np.allclose(encoder.encode(texts), expected, atol=1e-5)
    assert len(shapes) > 6


def test_a_model_without_a_tokenizer_falls_back_to_sentence_transformers(st_model, monkeypatch):
    encoder = TransformerEncoder(st_model, device="cpu")
    texts = mixed_texts(20, seed=3)
    monkeypatch.setattr(encoder.model, "default_prompt_name", "query", raising=False)
    monkeypatch.setattr(encoder.model, "prompts", {"query": ""}, raising=False)
    assert np.allclose(encoder.encode(texts), reference(st_model, texts), atol=1e-5)
