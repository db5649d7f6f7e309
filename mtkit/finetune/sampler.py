"""Token-budget batches of length-grouped pairs, in an order fixed by the seed and the epoch."""

from __future__ import annotations

import random

from ..utils import length_sorted_batches, stable_hash


class TokenBudgetBatchSampler:
    """Batches of indices whose padded size stays within ``max_tokens``, grouped by length.

    transformers' ``group_by_length`` keeps a fixed number of examples per batch, so short pairs waste the
    GPU and long ones overflow it; here the batch size follows the length. Pairs are length-sorted inside
    windows of ``window`` pairs taken from a seeded shuffle, and the batches themselves are shuffled, all from
    ``(seed, epoch)``: an epoch always gives the same batches, which is what lets a resumed run skip exactly
    the batches it has seen (the Trainer calls ``set_epoch``, accelerate shards the batches across GPUs).
    """

    def __init__(self, lengths: list[int], *, max_tokens: int, seed: int, window: int = 1000):
        self.lengths, self.max_tokens, self.seed, self.window = lengths, max_tokens, seed, window
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def _batches(self) -> list[list[int]]:
        rng = random.Random(stable_hash(self.seed, self.epoch))
        order = list(range(len(self.lengths)))
        rng.shuffle(order)
        batches = [[order[k] for k in batch] for batch in length_sorted_batches(
            order, max_batch_tokens=self.max_tokens, length=lambda i: self.lengths[i], sort_window=self.window)]
        rng.shuffle(batches)
        return batches

    def __iter__(self):
        return iter(self._batches())

    def __len__(self) -> int:
        return len(self._batches())

    def signature(self) -> str:
        return f"token-budget:max_tokens={self.max_tokens}:window={self.window}:seed={self.seed}"
