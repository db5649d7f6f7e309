"""The length-only baseline aligner of Gale & Church (1993), for benchmarks and tests to measure encoders against.

No PyPI package we install ships it (NLTK's is the usual one, and NLTK is not a dependency), so it is here, small.
Differences from the paper, both because our pairs mix scripts: the expected target/source character ratio is
the pair's own total ratio rather than 1 (Chinese text is about a third as many characters as its Indonesian
or English translation), and beads are 1-1, 1-0, 0-1, 2-1, 1-2 and 2-2 as in the paper. The DP is a Python loop
over cells: it is a baseline for documents of a few hundred sentences, not the engine (that is ``dp.py``).
"""

from __future__ import annotations

import math
from typing import Sequence

from ..records import Bead

# Gale & Church (1993), table 5: bead priors; and the variance of the length difference per character.
PRIORS = {(1, 1): 0.89, (1, 0): 0.0099 / 2, (0, 1): 0.0099 / 2, (2, 1): 0.089 / 2, (1, 2): 0.089 / 2,
          (2, 2): 0.011}
VARIANCE = 6.8


def _length_cost(src_chars: int, tgt_chars: int, ratio: float) -> float:
    """-log P(match | lengths): the two-sided tail of the normalised length difference."""
    mean = (src_chars + tgt_chars / ratio) / 2
    delta = (tgt_chars - src_chars * ratio) / math.sqrt(max(mean, 1.0) * VARIANCE)
    tail = math.erfc(abs(delta) / math.sqrt(2))  # = 2 * (1 - Phi(|delta|))
    return -math.log(max(tail, 1e-300))


def gale_church(src: Sequence[str], tgt: Sequence[str]) -> list[Bead]:
    """Beads covering both sides once, in order, chosen by character lengths alone; ``Bead.score`` is 0.0."""
    n, m = len(src), len(tgt)
    src_len = [len(s) for s in src]
    tgt_len = [len(t) for t in tgt]
    ratio = (sum(tgt_len) / sum(src_len)) if sum(src_len) and sum(tgt_len) else 1.0
    prior_cost = {ab: -math.log(p) for ab, p in PRIORS.items()}
    inf = math.inf
    dist = [[inf] * (m + 1) for _ in range(n + 1)]
    back: dict[tuple[int, int], tuple[int, int]] = {}
    dist[0][0] = 0.0
    for i in range(n + 1):
        for j in range(m + 1):
            for (a, b), prior in prior_cost.items():
                if i < a or j < b or dist[i - a][j - b] == inf:
                    continue
                d = dist[i - a][j - b] + prior + _length_cost(sum(src_len[i - a:i]), sum(tgt_len[j - b:j]), ratio)
                if d < dist[i][j]:
                    dist[i][j], back[(i, j)] = d, (a, b)
    beads, i, j = [], n, m
    while i or j:
        a, b = back[(i, j)]
        beads.append(Bead(tuple(range(i - a, i)), tuple(range(j - b, j)), 0.0))
        i, j = i - a, j - b
    return beads[::-1]
