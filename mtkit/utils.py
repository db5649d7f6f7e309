"""Helpers shared by several stages: length-sorted batching, atomic writes, signatures, progress bars, the check of
the lists of texts the API takes."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

T = TypeVar("T")

logger = logging.getLogger("mtkit")


def length_sorted_batches(
    items: Sequence[T],
    *,
    max_batch_size: int = 0,
    max_batch_tokens: int = 0,
    length: Callable[[T], int] = len,  # type: ignore[assignment]
    sort_window: int = 0,
) -> Iterator[list[int]]:
    """Yield batches of indices into ``items``, longest first, bounded by examples and/or padded tokens.

    ``max_batch_tokens`` bounds ``batch_size * longest_length`` (the padded size a model sees).
    ``sort_window`` > 0 sorts only within consecutive windows of that many items (streaming-friendly, as
    CTranslate2's ``translate_iterable`` does); 0 sorts everything. Callers restore input order from the
    indices. Neither bound set means one batch per sort window.
    """
    n = len(items)
    if n == 0:
        return
    window = sort_window if sort_window > 0 else n
    for w0 in range(0, n, window):
        idx = list(range(w0, min(n, w0 + window)))
        lengths = {i: max(1, int(length(items[i]))) for i in idx}
        idx.sort(key=lambda i: (-lengths[i], i))
        yield from fill_batches(idx, lambda i: (lengths[i],), max_batch_size=max_batch_size,
                                max_batch_tokens=max_batch_tokens)


def fill_batches(order: Iterable[int], sides: Callable[[int], tuple[int, ...]], *, max_batch_size: int = 0,
                 max_batch_tokens: int = 0) -> Iterator[list[int]]:
    """Cut ``order`` (item indices in the order to batch them, longest first) into consecutive batches: a batch
    closes when one more item would take it past ``max_batch_size`` items or ``max_batch_tokens`` padded tokens,
    and that item starts the next (alone when it is over the budget by itself). 0: no bound.

    ``sides(i)`` gives item ``i``'s token counts, one per padded tensor it goes into: ``(length,)`` for a text
    (:func:`length_sorted_batches`), ``(source, target)`` for a training pair (the fine-tuning sampler). A batch's
    padded size is its size times the sum of each side's longest."""
    batch: list[int] = []
    longest: tuple[int, ...] = ()
    for i in order:
        own = sides(i)
        new_longest = tuple(map(max, longest, own)) if batch else own
        too_many = max_batch_size and len(batch) + 1 > max_batch_size
        too_big = max_batch_tokens and batch and sum(new_longest) * (len(batch) + 1) > max_batch_tokens
        if batch and (too_many or too_big):
            yield batch
            batch, new_longest = [], own
        batch.append(i)
        longest = new_longest
    if batch:
        yield batch


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8"):
    """Write to a temp file beside ``path`` and rename it into place on success.

    A crash leaves either the old file or none, never a half-written file that looks complete.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        kwargs = {} if "b" in mode else {"encoding": encoding, "newline": ""}
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


class AtomicFiles:
    """Several files written at once, each through :func:`atomic_write`, opened on first use by key and all
    renamed into place by ``close()`` (a crash before it leaves none of them half-written)."""

    def __init__(self):
        self._open: dict = {}

    def get(self, key, path: str | os.PathLike):
        if key not in self._open:
            ctx = atomic_write(path)
            self._open[key] = (ctx, ctx.__enter__())
        return self._open[key][1]

    def close(self) -> None:
        for ctx, _ in self._open.values():
            ctx.__exit__(None, None, None)
        self._open.clear()

    def abort(self) -> None:
        """Drop every file opened so far: their temp files are removed and nothing is renamed into place."""
        error = RuntimeError("aborted")
        for ctx, _ in self._open.values():
            try:
                ctx.__exit__(RuntimeError, error, None)
            except RuntimeError:
                pass
        self._open.clear()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Deterministic, atomic JSON (sorted keys, UTF-8 kept readable)."""
    with atomic_write(path) as fh:
        json.dump(obj, fh, ensure_ascii=False, indent=2, sort_keys=True)
        fh.write("\n")


def stable_hash(*parts: Any, length: int = 16) -> str:
    """A short hex digest of JSON-serialisable parts: cache keys and record ids that survive re-runs."""
    h = hashlib.sha256()
    for part in parts:
        h.update(json.dumps(part, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()[:length]


def folder_fingerprint(path: str | os.PathLike) -> list:
    """What tells one saved model (or any folder) from another: its resolved path and its files' relative names,
    sizes and modification times, so that a model saved again at the same path counts as another. A name that
    is not a local folder (a hub id) stands for itself."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        return [str(path)]
    files = sorted((p.relative_to(folder).as_posix(), p.stat().st_size, p.stat().st_mtime_ns)
                   for p in folder.rglob("*") if p.is_file())
    return [str(folder.resolve()), files]


def make_signature(name: str, **settings: Any) -> str:
    """``name|key:value|...|mtkit:VERSION``, the form sacrebleu made familiar, printed beside outputs."""
    from . import __version__

    parts = [name] + [f"{k}:{_fmt(v)}" for k, v in settings.items()] + [f"mtkit:{__version__}"]
    return "|".join(parts)


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


_NO_VALUE = object()


def option_text(name: str, value: Any = _NO_VALUE, *, flag: str | None = None) -> str:
    """A setting as the Python API and the CLI spell it, for library messages that reach users of both:
    ``option_text("tgt_lang")`` -> ``tgt_lang= / --tgt-lang``, ``option_text("device", "cpu")`` ->
    ``device='cpu' / --device cpu``, ``option_text("dry_run", True)`` -> ``dry_run=True / --dry-run`` (a
    switch). ``flag`` when the CLI's name is not the keyword's (``--beam`` for ``beam_size``)."""
    flag = flag or "--" + name.replace("_", "-")
    if value is _NO_VALUE:
        return f"{name}= / {flag}"
    if value is True:
        return f"{name}=True / {flag}"
    return f"{name}={value!r} / {flag} {value}"


def reject_unknown_keys(data: dict, cls: type, what: str) -> None:
    """ConfigError naming the keys of ``data`` that are not fields of the dataclass ``cls``, with the allowed
    ones: a misspelled setting must not silently run with its default."""
    import dataclasses

    from .errors import ConfigError

    allowed = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ConfigError(f"unknown {what}(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")


class StrictConfig:
    """Base of settings dataclasses: ``from_dict`` refuses unknown keys and validates; ``from_yaml`` loads a file,
    with keyword overrides that are not None taking precedence (how the CLI passes its options)."""

    KEY_NAME = "setting"  # what a key is called in the error message

    def validate(self) -> None:
        pass

    @classmethod
    def from_dict(cls, data: dict):
        reject_unknown_keys(data, cls, cls.KEY_NAME)
        config = cls(**data)
        config.validate()
        return config

    @classmethod
    def from_yaml(cls, path: str | os.PathLike, **overrides):
        """A ConfigError for a file that cannot be read or is not a mapping of settings (a YAML list, a typo)."""
        import yaml

        from .errors import ConfigError

        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: cannot read the {cls.KEY_NAME}s ({exc})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: {cls.KEY_NAME}s must be a mapping of setting: value, not "
                              f"{type(data).__name__}")
        return cls.from_dict({**data, **{k: v for k, v in overrides.items() if v is not None}})


def progress(iterable: Iterable[T], *, enabled: bool = False, **kwargs: Any) -> Iterable[T]:
    """tqdm when asked for (progress bars are opt-in in library code; the CLI turns them on)."""
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, **kwargs)


def attention_without_cudnn(device) -> contextlib.AbstractContextManager:
    """On CUDA, ``scaled_dot_product_attention`` limited to its flash, memory-efficient and math kernels.

    Why: torch 2.11 sends masked attention on Hopper to cuDNN first, and cuDNN builds an execution plan for every
    (batch, length) shape it has not seen, tens to hundreds of ms each; token-budget batches bring new shapes all
    the time. Measured on an H100 (2026-11-23): sentence embedding 15,000 -> 40,000 sentences/s, Marian's encoder
    several times faster, and its one-query decoder attention was 205 us a call. Elsewhere: no change."""
    if getattr(device, "type", str(device).split(":")[0]) != "cuda":
        return contextlib.nullcontext()
    from torch.nn.attention import SDPBackend, sdpa_kernel

    return sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH])


def check_writable(out_path: str | os.PathLike, *, folder: bool = False) -> Path:
    """``out_path`` (``~`` expanded) checked before any work that would be lost when it cannot be written: a file
    (``folder=False``) must not be a folder, a folder must not be a file, and the nearest folder that exists (where
    the missing ones are made) must take new files. A ConfigError naming the problem, else the path."""
    from .errors import ConfigError

    out = Path(out_path).expanduser()
    if not folder and out.is_dir():
        raise ConfigError(f"cannot write {out_path}: a folder; give the output file's name")
    # the nearest folder that exists: where the missing folders are made, then OUT (or OUT itself, a folder)
    existing = out.absolute() if folder and out.exists() else next(p for p in out.absolute().parents if p.exists())
    if not existing.is_dir():
        raise ConfigError(f"cannot write {out_path}: {existing} is a file, not a folder")
    try:  # a probe file, removed at once: access() says yes to root, and /proc takes no new files from anyone
        fd, probe = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".probe", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(f"cannot write {out_path}: cannot create files in {existing} ({exc.strerror})") from None
    return out


def saved_model_problem(path) -> str | None:
    """Why a folder is not a saved model (no ``config.json`` nor a LoRA ``adapter_config.json``), naming the
    ``merged/`` and ``adapter/`` folders a LoRA run's ``final/`` holds instead; None when it is one."""
    path = Path(path)
    if (path / "config.json").is_file() or (path / "adapter_config.json").is_file():
        return None
    inside = [str(path / name) for name in ("merged", "adapter") if (path / name).is_dir()]
    return "not a saved model (no config.json or adapter_config.json)" + (
        f"; it holds {' and '.join(inside)}" if inside else "")


def is_lora_adapter(path) -> bool:
    """Whether a model folder is a LoRA adapter alone (``adapter_config.json``, no ``config.json`` of a model)."""
    path = Path(path).expanduser()
    return (path / "adapter_config.json").is_file() and not (path / "config.json").is_file()


# what breaks a TSV field or a line of a text file: tabs and every character str.splitlines() ends a line at
# (readers that split on them would see a sentence cut in two); other whitespace (NBSP in "50 000", U+3000, double
# spaces) stays, so that TSV and plain-text copies equal the JSONL and Parquet text wherever they can
_LINE_OR_FIELD_BREAKS = re.compile("[\t\n\v\f\r\x1c\x1d\x1e\x85\u2028\u2029]+")


def one_line(text: str) -> str:
    """``text`` as one TSV field or one line: tabs and line breaks become spaces."""
    return _LINE_OR_FIELD_BREAKS.sub(" ", text).strip()


def names_a_local_path(name: str) -> bool:
    """Whether a model or dataset name can only be a local path, never a Hub id (``org/name``): it starts with
    ``/``, ``.`` or ``~`` or has more than one slash. Callers say "no such folder" for these rather than let
    transformers or datasets look them up on the Hub and report a Hub error."""
    return str(name).startswith(("/", ".", "~", os.sep)) or str(name).count("/") > 1


NO_MODEL_FOLDER = "no such model folder"


def missing_model_folder(name: str) -> str | None:
    """Why a model name can only be a local folder that is not there: ``"no such model folder"``, with a hint when
    it is shaped like a Hub id ``org/name`` whose ``org`` is a local folder; None when it exists or may be a Hub id.

    A mistyped ``models/typo`` beside a ``models/`` folder is a path, not a Hub id: transformers looked it up on the
    Hub, retried for most of a minute and reported a connection error. Hub ids stay Hub ids where no local folder
    has their owner's name (they are looked up in the cache and on the Hub as before)."""
    name = str(name)
    if Path(name).expanduser().exists():
        return None
    if names_a_local_path(name):
        return NO_MODEL_FOLDER
    owner = name.split("/")[0] if "/" in name else ""
    if owner and Path(owner).is_dir():
        return (f"{NO_MODEL_FOLDER} ({owner} is a local folder, so {name} is read as a path; to load the Hub "
                f"model {name}, give it from another directory or rename the local folder {owner})")
    return None


def absolute_if_local(name: str) -> str:
    """A model or encoder name as a worker on another node must get it: an existing local path made absolute
    (``~`` expanded); anything else (a hub id) as given. A relative path names another folder, or a hub id, in a
    worker's working directory: a Ray node loaded ``marian`` from the hub while the driver had checked and
    fingerprinted ``./marian``."""
    path = Path(str(name)).expanduser()
    return str(path.resolve()) if path.exists() else str(name)


def md_cell(text) -> str:
    """Text for a Markdown table cell: GitHub ends a cell at any ``|``, inside code spans too (signatures), and a
    page's own words (a report quoting what cleaning left, "Home | About") may hold one."""
    return "" if text is None else str(text).replace("|", "\\|").replace("\n", " ")


def changed_keys(old: dict, new: dict) -> list[str]:
    """The keys of two settings records whose values differ (a key on one side only counts), sorted."""
    return sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))


# ------------------------------------------------------------------ lists of texts given to the API


def checked_texts(values, name: str, *, items: str, hint: str, start: int = 0,
                  also: tuple[type, ...] = ()) -> Iterator:
    """The items of ``values`` (any iterable of texts: a list, a tuple, a generator), each checked as it is
    read; ``values`` itself is checked at the call, so that a mistake fails where it is made even when the items
    are read later (a stream). For align's, evaluate's and translate's "list of strings" arguments.

    The rule: a wrong **type** is a :class:`TypeError`, as Python's own for a wrong argument: ``values`` that is
    one ``str`` or ``bytes`` (iterable, but its characters would be taken for ``items``), ``values`` that is not
    iterable (None), and an item that is not a ``str`` (nor one of the types ``also`` allows: align's Sentence
    records). :class:`~mtkit.errors.DataError` is for the data's content, which the callers check: no references,
    hypotheses and references of different lengths, a file's line or a dataset's row that holds no text (the
    readers name the file and line, or the dataset and row, so the CLI reports it as one line).

    ``name`` is the argument as the caller sees it (``sentences``, ``references[1]``); ``items``, what it
    holds (``sentences``, ``lines``); ``hint``, how to give it right. An item's error names its index,
    ``name[k]``, counted from ``start`` (a stream read in chunks gives each chunk's first index)."""
    check_text_iterable(values, name, items=items, hint=hint)
    return _checked_items(values, name, start, also)


def check_text_iterable(values, name: str, *, items: str, hint: str) -> None:
    """The first half of :func:`checked_texts`: ``values`` is an iterable and not one string, or a TypeError.
    Alone where the items are not texts themselves (evaluate's references: lines, or lists of lines)."""
    if isinstance(values, (str, bytes)):
        unit = "bytes" if isinstance(values, bytes) else "characters"
        raise TypeError(f"{name} is one {type(values).__name__} ({len(values)} {unit}), not a list of {items}; "
                        f"{hint}")
    try:
        iter(values)
    except TypeError:
        raise TypeError(f"{name} is {_described(values)}, not a list of {items}; {hint}") from None


def _checked_items(values, name: str, start: int, also: tuple[type, ...]) -> Iterator:
    allowed = (str, *also)
    for k, value in enumerate(values, start):
        if not isinstance(value, allowed):
            wanted = " or ".join(t.__name__ for t in allowed) if also else "a string"
            raise TypeError(f"{name}[{k}] is {_described(value)}, not {wanted}")
        yield value


def _described(value) -> str:
    """A value as an error message shows it: None, or its type and the start of its repr (``bytes b'x'``)."""
    return "None" if value is None else f"{type(value).__name__} {value!r:.60}"
