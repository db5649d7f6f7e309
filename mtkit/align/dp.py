"""The two-pass alignment dynamic programme of Liu & Zhu (2022), as the bertalign package runs it.

Why not call bertalign: version 2.0.1 needs Python >= 3.12, embeds inside its constructor and aligns one pair
per call. This module gives the same beads for the same embeddings (``bench/align_conformance.py`` checks it
against bertalign 2.0.1) and is faster:

- bertalign's second pass computes five dot products for every (cell, bead type): the segment pair and four
  neighbour similarities for the margin. The neighbour products depend only on (row, level, neighbour index),
  so they are computed once per row into two caches, in parallel over rows, and the DP only looks them up.
- The arithmetic is kept as bertalign's kernels do it (``np.dot`` on float32 rows, margins and length penalty
  in float64, a float32 cost table, bead types tried in the same order with a strict ``>``), so that the
  same embeddings give bit-identical costs and the same tie-breaking.

Inputs: ``src_vecs`` of shape ``(max_align - 1, n, dim)`` where level ``k`` row ``i`` embeds sentences
``i-k .. i`` joined (rows before ``k`` hold the embedding of "PAD"), and ``src_lens`` of shape
``(max_align - 1, n)`` with the UTF-8 byte length of each of those texts. See :func:`overlap_texts`.
"""

from __future__ import annotations

import numba as nb
import numpy as np

OVERLAP_LINE_LIMIT = 10_000  # bertalign truncates joined windows at this many characters
FIRST_PASS_MIN_WINDOW = 250
FIRST_PASS_WINDOW_SHARE = 0.06


def overlap_texts(sentences, num_overlaps: int) -> list[str]:
    """Every window of 1..num_overlaps consecutive sentences, level by level, as bertalign embeds them."""
    lines = [s.strip() or "BLANK_LINE" for s in sentences]
    out: list[str] = []
    for level in range(1, num_overlaps + 1):
        layer = ["PAD"] * min(level - 1, len(lines))
        layer.extend(" ".join(lines[i:i + level]) for i in range(len(lines) - level + 1))
        out.extend(line[:OVERLAP_LINE_LIMIT] for line in layer)
    return out


def alignment_types(max_align: int) -> np.ndarray:
    types = [[0, 1], [1, 0]]
    types.extend([x, y] for x in range(1, max_align) for y in range(1, max_align) if x + y <= max_align)
    return np.array(types, dtype=np.int64)


def top_k(src: np.ndarray, tgt: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k most similar target sentences of each source sentence.

    Computed with torch, as bertalign does, so that both see the same scores and the same order of ties.
    """
    import torch

    s = torch.from_numpy(np.ascontiguousarray(src))
    t = torch.from_numpy(np.ascontiguousarray(tgt))
    scores, indices = torch.topk(s @ t.T, min(k, t.shape[0]), dim=1)
    return scores.numpy(), indices.numpy().astype(np.int64)


def first_search_path(n: int, m: int) -> tuple[int, np.ndarray]:
    win = max(FIRST_PASS_MIN_WINDOW, int(max(n, m) * FIRST_PASS_WINDOW_SHARE))
    ratio = m / n
    # int() truncation of each float product, as a Python loop would do it
    centers = np.array([int(ratio * i) for i in range(n + 1)], dtype=np.int64)
    path = np.stack([np.maximum(0, centers - win), np.minimum(centers + win, m)], axis=1)
    return win, path


@nb.njit(cache=True, fastmath=True)
def first_pass(n, w, path, types, dist, index):  # pragma: no cover - compiled
    cost = np.zeros((n + 1, 2 * w + 1), dtype=np.float32)
    pointers = np.zeros((n + 1, 2 * w + 1), dtype=np.uint8)
    k_count = index.shape[1]
    for i in range(n + 1):
        i_start = path[i][0]
        i_end = path[i][1]
        for j in range(i_start, i_end + 1):
            if i + j == 0:
                continue
            best_score = -np.inf
            best_a = -1
            for a in range(types.shape[0]):
                a_1 = types[a][0]
                a_2 = types[a][1]
                prev_i = i - a_1
                prev_j = j - a_2
                if prev_i < 0 or prev_j < 0:
                    continue
                if prev_j < path[prev_i][0] or prev_j > path[prev_i][1]:
                    continue
                score = cost[prev_i][prev_j - path[prev_i][0]]
                if a_1 > 0 and a_2 > 0:
                    for k in range(k_count):
                        if index[i - 1][k] == j - 1:
                            score += dist[i - 1][k]
                if score > best_score:
                    best_score = score
                    best_a = a
            cost[i][j - i_start] = best_score
            pointers[i][j - i_start] = best_a
    return pointers


def first_back_track(n: int, m: int, pointers: np.ndarray, path: np.ndarray,
                     types: np.ndarray) -> list[tuple[int, int]]:
    anchors = []
    i, j = n, m
    while True:
        a = pointers[i][j - path[i][0]]
        s, t = types[a]
        if a == 2:  # the 1-1 type
            anchors.append((i, j))
        i -= s
        j -= t
        if i == 0 and j == 0:
            return anchors[::-1]


def second_search_path(anchors: list[tuple[int, int]], win: int, n: int, m: int) -> tuple[int, np.ndarray]:
    anchors = list(anchors) or [(n, m)]
    last_src, last_tgt = anchors[-1]
    if last_src != n:
        if last_tgt == m:
            anchors.pop()
        anchors.append((n, m))
    elif last_tgt != m:
        anchors.pop()
        anchors.append((n, m))
    prev_src, prev_tgt = 0, 0
    rows: list[tuple[int, int]] = []
    max_w = 0
    for src, tgt in anchors:
        lower = max(0, prev_tgt - win)
        upper = min(m, tgt + win)
        rows.extend((lower, upper) for _ in range(prev_src + 1, src + 1))
        prev_src, prev_tgt = src, tgt
        max_w = max(max_w, upper - lower)
    rows = [rows[0], *rows]
    return max_w + 1, np.array(rows, dtype=np.int64)


@nb.njit(cache=True, fastmath=True, parallel=True)
def _neighbour_caches(src_vecs, tgt_vecs, path, levels):  # pragma: no cover - compiled
    """A[l, i, c]: dot(src level l+1 row i-1, tgt sentence (A_off[i] + c) - 1);
    B[l, r, c]: dot(src sentence r-1, tgt level l+1 column (B_off[r] + c) - 1)."""
    n = src_vecs.shape[1]
    m = tgt_vecs.shape[1]
    a_off = np.empty(n + 1, dtype=np.int64)
    a_width = 0
    for i in range(n + 1):
        a_off[i] = path[i][0] - levels
        a_width = max(a_width, path[i][1] + 1 - a_off[i] + 1)
    b_off = np.empty(n + 2, dtype=np.int64)
    b_hi = np.empty(n + 2, dtype=np.int64)
    b_width = 0
    for r in range(n + 2):
        b_off[r] = path[max(0, min(n, r - 1))][0]
        b_hi[r] = path[min(n, r + levels)][1]
        b_width = max(b_width, b_hi[r] - b_off[r] + 1)
    A = np.zeros((levels, n + 1, a_width), dtype=np.float32)
    B = np.zeros((levels, n + 2, b_width), dtype=np.float32)
    for i in nb.prange(1, n + 1):
        for lev in range(levels):
            for c in range(a_width):
                jt = a_off[i] + c
                if 1 <= jt <= m:
                    A[lev, i, c] = np.dot(src_vecs[lev, i - 1, :], tgt_vecs[0, jt - 1, :])
    for r in nb.prange(1, n + 1):
        for lev in range(levels):
            for c in range(b_hi[r] - b_off[r] + 1):
                jt = b_off[r] + c
                if 1 <= jt <= m:
                    B[lev, r, c] = np.dot(tgt_vecs[lev, jt - 1, :], src_vecs[0, r - 1, :])
    return A, a_off, B, b_off


@nb.njit(cache=True, fastmath=True)
def _second_pass(src_vecs, tgt_vecs, src_lens, tgt_lens, w, path, types, char_ratio, skip, margin, len_penalty,
                 A, a_off, B, b_off):  # pragma: no cover - compiled
    n = src_vecs.shape[1]
    m = tgt_vecs.shape[1]
    cost = np.zeros((n + 1, w), dtype=np.float32)
    pointers = np.zeros((n + 1, w), dtype=np.uint8)
    step = np.zeros((n + 1, w), dtype=np.float32)
    for i in range(n + 1):
        i_start = path[i][0]
        i_end = path[i][1]
        for j in range(i_start, i_end + 1):
            if i + j == 0:
                continue
            best_score = -np.inf
            best_a = -1
            best_step = 0.0
            for a in range(types.shape[0]):
                a_1 = types[a][0]
                a_2 = types[a][1]
                prev_i = i - a_1
                prev_j = j - a_2
                if prev_i < 0 or prev_j < 0:
                    continue
                if prev_j < path[prev_i][0] or prev_j > path[prev_i][1]:
                    continue
                score = cost[prev_i][prev_j - path[prev_i][0]]
                if a_1 == 0 or a_2 == 0:
                    cur_score = skip
                else:
                    similarity = np.float64(np.dot(src_vecs[a_1 - 1, i - 1, :], tgt_vecs[a_2 - 1, j - 1, :]))
                    if margin:
                        # target-side neighbours of the source segment (bertalign: calculate_neighbor_similarity)
                        right = np.float64(A[a_1 - 1, i, j + 1 - a_off[i]]) if j + 1 <= m else 0.0
                        left = np.float64(A[a_1 - 1, i, j - a_2 - a_off[i]]) if j - a_2 > 0 else 0.0
                        tgt_nb = left + right
                        if right and left:
                            tgt_nb /= 2
                        # source-side neighbours of the target segment
                        right = np.float64(B[a_2 - 1, i + 1, j - b_off[i + 1]]) if i + 1 <= n else 0.0
                        left = np.float64(B[a_2 - 1, i - a_1, j - b_off[i - a_1]]) if i - a_1 > 0 else 0.0
                        src_nb = left + right
                        if right and left:
                            src_nb /= 2
                        similarity -= (tgt_nb + src_nb) / 2
                    cur_score = similarity
                    if len_penalty:
                        src_l = src_lens[a_1 - 1, i - 1]
                        tgt_l = tgt_lens[a_2 - 1, j - 1] * char_ratio
                        cur_score *= np.log2(1 + min(src_l, tgt_l) / max(src_l, tgt_l))
                score += cur_score
                if score > best_score:
                    best_score = score
                    best_a = a
                    best_step = cur_score
            cost[i][j - i_start] = best_score
            pointers[i][j - i_start] = best_a
            step[i][j - i_start] = best_step
    return pointers, step


def second_back_track(n: int, m: int, pointers: np.ndarray, step: np.ndarray, path: np.ndarray,
                      types: np.ndarray) -> list[tuple[tuple[int, ...], tuple[int, ...], float]]:
    beads = []
    i, j = n, m
    while not (i == 0 and j == 0):
        offset = j - path[i][0]
        a = pointers[i][offset]
        s, t = int(types[a][0]), int(types[a][1])
        beads.append((tuple(range(i - s, i)), tuple(range(j - t, j)), float(step[i][offset])))
        i -= s
        j -= t
    return beads[::-1]


def align_embeddings(src_vecs: np.ndarray, tgt_vecs: np.ndarray, src_lens: np.ndarray, tgt_lens: np.ndarray, *,
                     max_align: int = 5, top_k_count: int = 3, win: int = 5, skip: float = -0.1,
                     margin: bool = True, len_penalty: bool = True):
    """Beads ``(src indices, tgt indices, step score)`` for one document pair; both sides non-empty."""
    n, m = src_vecs.shape[1], tgt_vecs.shape[1]
    src_vecs = np.ascontiguousarray(src_vecs, dtype=np.float32)
    tgt_vecs = np.ascontiguousarray(tgt_vecs, dtype=np.float32)
    src_lens = np.ascontiguousarray(src_lens, dtype=np.int64)
    tgt_lens = np.ascontiguousarray(tgt_lens, dtype=np.int64)
    char_ratio = float(np.sum(src_lens[0]) / np.sum(tgt_lens[0]))

    dist, index = top_k(src_vecs[0], tgt_vecs[0], top_k_count)
    first_types = alignment_types(2)
    w1, path1 = first_search_path(n, m)
    pointers1 = first_pass(n, w1, path1, first_types, dist, index)
    anchors = first_back_track(n, m, pointers1, path1, first_types)

    types = alignment_types(max_align)
    w2, path2 = second_search_path(anchors, win, n, m)
    levels = max_align - 1
    A, a_off, B, b_off = _neighbour_caches(src_vecs, tgt_vecs, path2, levels)
    pointers2, step = _second_pass(src_vecs, tgt_vecs, src_lens, tgt_lens, w2, path2, types, char_ratio,
                                   float(skip), bool(margin), bool(len_penalty), A, a_off, B, b_off)
    return second_back_track(n, m, pointers2, step, path2, types)
