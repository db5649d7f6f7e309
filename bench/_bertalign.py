"""Running bertalign 2.0.1 beside mtkit for the alignment benchmarks.

bertalign 2.0.1 needs Python >= 3.12: it runs in its own virtual environment, made on first use from pyenv's
3.12 with bertalign and the very numpy, scipy and numba versions of this interpreter (so both sides call the
same BLAS dot). Embeddings are supplied, so its imports of torch, sentence_transformers, lingua and
sentence_splitter are stubbed, and both sides get the same top-k table from :func:`numpy_top_k`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

PY312 = Path.home() / ".pyenv" / "versions" / "3.12.1" / "bin" / "python"

STUBS = r'''
import json, sys, time, types
import numpy as np
for name in ("torch", "sentence_transformers", "lingua", "sentence_splitter"):
    sys.modules[name] = types.ModuleType(name)
sys.modules["sentence_transformers"].SentenceTransformer = object
lingua = sys.modules["lingua"]
lingua.IsoCode639_1 = lingua.LanguageDetector = lingua.LanguageDetectorBuilder = object
sys.modules["sentence_splitter"].SentenceSplitter = object
from bertalign import corelib as c

def top_k(src, tgt, k):
    sims = src @ tgt.T
    idx = np.argsort(-sims, axis=1, kind="stable")[:, :min(k, tgt.shape[0])]
    return np.take_along_axis(sims, idx, axis=1).astype(np.float32), idx.astype(np.int64)

def bertalign_two_pass(sv, tv, sl, tl, max_align=5, k=3, win=5, skip=-0.1):
    n, m = sv.shape[1], tv.shape[1]
    char_ratio = float(np.sum(sl[0]) / np.sum(tl[0]))
    scores, index = top_k(sv[0], tv[0], k)
    t1 = c.get_alignment_types(2)
    w1, p1 = c.find_first_search_path(n, m)
    first = c.first_back_track(n, m, c.first_pass_align(n, m, w1, p1, t1, scores, index), p1, t1)
    t2 = c.get_alignment_types(max_align)
    w2, p2 = c.find_second_search_path(first, win, n, m)
    ptr = c.second_pass_align(sv, tv, sl, tl, w2, p2, t2, char_ratio, skip, margin=True, len_penalty=True)
    return c.second_back_track(n, m, ptr, p2, t2)
'''


def numpy_top_k(src, tgt, k):
    sims = src @ tgt.T
    idx = np.argsort(-sims, axis=1, kind="stable")[:, :min(k, tgt.shape[0])]
    return np.take_along_axis(sims, idx, axis=1).astype(np.float32), idx.astype(np.int64)


def ensure_venv(venv: Path) -> Path:
    python = Path(venv) / "bin" / "python"
    if not python.exists():
        import numba
        import scipy

        subprocess.run([str(PY312), "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "bertalign==2.0.1",
                        f"numpy=={np.__version__}", f"scipy=={scipy.__version__}", f"numba=={numba.__version__}",
                        "llvmlite"], check=True)
    return python
