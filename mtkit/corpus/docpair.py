"""Cross-lingual document pairing for unlabelled crawls: which pages are versions of the same story.

Each document is embedded as the mean of its sentence vectors (the aligner's encoder, so LaBSE where it can
be loaded); two documents in different languages are paired when each is the other's most similar document
and the cosine reaches a threshold. The score travels with the pair into the report.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from typing import Sequence

import numpy as np

from ..records import Document


def document_vectors(documents: Sequence[Document], encoder) -> np.ndarray:
    from ..segment import segment_document

    rows = []
    for doc in documents:
        sentences = [s.text for s in segment_document(doc)] or [doc.text]
        vector = encoder.encode(sentences, lang=doc.lang).mean(axis=0)
        rows.append(vector / (np.linalg.norm(vector) or 1.0))
    return np.stack(rows).astype(np.float32) if rows else np.zeros((0, 1), np.float32)


def pair_documents(documents: Sequence[Document], encoder, *,
                   threshold: float) -> list[tuple[Document, Document, float]]:
    """Mutual-best cross-lingual document pairs with cosine >= ``threshold``, in a stable order.

    A pair is dropped when its two documents are matched to different documents of a third language: versions
    of one story must agree on their other versions.
    """
    by_lang: dict[str, list[Document]] = defaultdict(list)
    for doc in documents:
        by_lang[doc.lang].append(doc)
    vectors = {lang: document_vectors(docs, encoder) for lang, docs in by_lang.items()}
    pairs = []
    for a, b in combinations(sorted(by_lang), 2):
        sims = vectors[a] @ vectors[b].T
        for i, row in enumerate(sims):
            j = int(np.argmax(row))
            if int(np.argmax(sims[:, j])) == i and row[j] >= threshold:
                pairs.append((by_lang[a][i], by_lang[b][j], round(float(row[j]), 6)))
    match: dict[str, dict[str, str]] = defaultdict(dict)
    for x, y, _ in pairs:
        match[x.id][y.lang] = y.id
        match[y.id][x.lang] = x.id
    consistent = []
    for x, y, score in pairs:
        third = (set(match[x.id]) & set(match[y.id])) - {x.lang, y.lang}
        if all(match[x.id][lang] == match[y.id][lang] for lang in third):
            consistent.append((x, y, score))
    return consistent
