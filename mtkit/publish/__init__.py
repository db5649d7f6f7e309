"""Export a corpus as a Hugging Face dataset folder (with its card) and publish it to the Hub."""

from __future__ import annotations

import logging
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..errors import BackendError, ConfigError, DataError, MtkitError
from ..records import SentencePair
from ..utils import option_text
from .dataset_card import DatasetCardInfo, write_card
from .export import ExportSummary, export_pairs

__all__ = ["export_corpus", "DatasetCardInfo", "ExportSummary", "publish_dataset", "PublishResult", "HUB_FILES"]

logger = logging.getLogger("mtkit.publish")

# What goes to the Hub: the card and the Parquet shards. JSONL/TSV/text/hf copies, reports and caches stay local.
HUB_FILES = ("README.md", "data/**/*.parquet")
# Local copies that ``include`` may add to an upload (the card's configs name data/ only, so they do not change
# what load_dataset reads).
EXTRA_FOLDERS = ("jsonl", "tsv", "text", "hf")
# What a publish removes from the repo when this upload does not have it: only what mtkit itself writes there, the
# Parquet shards (data/<config>/<split>-00000-of-00001.parquet) of configs and splits a rebuild no longer has, and
# the copies in the folders this upload ``include``s; never other files (a .gitattributes, a data/NOTICE.md or
# other files the owner added by hand, an hf/ copy sent before and not included this time). README.md is always
# uploaded, so it is replaced, not deleted.
SHARD_PATTERN = "data/*/*-?????-of-?????.parquet"


def delete_patterns(include: Iterable[str] = ()) -> list[str]:
    return [SHARD_PATTERN, *(f"{folder}/**" for folder in include)]
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}$")


def export_corpus(pairs: Iterable[SentencePair], out_dir: str | Path, *, card: DatasetCardInfo,
                  formats=("parquet", "jsonl", "tsv", "moses", "hf")) -> ExportSummary:
    """Stream ``pairs`` (``.split`` set to train/dev/test) into ``out_dir`` in each format, then write the card.

    ``out_dir`` is the Hub-ready folder: README.md + data/<config>/<split>-00000-of-00001.parquet (dev is
    called validation there); jsonl/, tsv/, text/ and hf/ are local copies. Splits with no rows get no file.
    """
    summary = export_pairs(pairs, out_dir, formats=formats)
    write_card(out_dir, card, summary)
    return summary


@dataclass(slots=True)
class PublishResult:
    """What :func:`publish_dataset` sent (or, in a dry run, would send) to the Hub repo, and what it deleted there."""

    repo_id: str
    files: list[tuple[str, int]] = field(default_factory=list)  # path in repo, bytes
    deleted: list[str] = field(default_factory=list)  # paths in the repo this upload removes (delete_patterns)
    url: str = ""
    dry_run: bool = False
    made_private: bool = False  # an existing public repo switched to private (in a dry run: would be)


def hub_files(out_dir: Path, include: Iterable[str] = ()) -> list[tuple[str, int]]:
    """(path in repo, bytes) of every file an upload sends: the card, the Parquet shards, the ``include`` folders."""
    paths = [out_dir / "README.md"] if (out_dir / "README.md").is_file() else []
    paths += sorted((out_dir / "data").rglob("*.parquet"))
    for folder in include:
        paths += sorted(p for p in (out_dir / folder).rglob("*") if p.is_file() and not p.name.startswith("."))
    return [(p.relative_to(out_dir).as_posix(), p.stat().st_size) for p in paths]


def publish_dataset(out_dir: str | Path, repo_id: str, *, private: bool = False, dry_run: bool = False,
                    token: str | None = None, endpoint: str | None = None,
                    show_progress: bool = False, include: Iterable[str] = ()) -> PublishResult:
    """Upload the card and the Parquet shards of ``out_dir`` to the dataset repo ``repo_id``.

    ``private=True`` makes the repo private: a new one is created private, an existing public one is switched to
    private before anything is uploaded (and the log says so). ``private=False`` (the default) creates a new repo
    public and leaves an existing repo as it is: publishing again without ``private`` never makes a private repo
    public (change that on the Hub).

    The token comes from ``token``, else the usual HF environment or login; it is passed to huggingface_hub
    and never printed, logged or written. A Hub that cannot be reached (no network, HF_HUB_OFFLINE set) or that
    refuses a request (bad token, no write access) raises a one-line :class:`~mtkit.errors.MtkitError` naming the
    repo and what to do, with huggingface_hub's error as its ``__cause__``; publishing only uploads, so nothing
    local is changed, and a commit the Hub refused leaves the repo's files as they were.
    """
    out_dir = Path(out_dir)
    if not _REPO_ID.match(repo_id):
        raise ConfigError(f"repo id {repo_id!r} is not of the form ORG/NAME")
    if not (out_dir / "README.md").is_file():
        raise DataError(f"{out_dir}: no README.md dataset card; run `mtkit build` first")
    unknown = [x for x in include if x not in EXTRA_FOLDERS]
    if unknown:
        raise ConfigError(f"cannot include {', '.join(unknown)}; allowed: {', '.join(EXTRA_FOLDERS)}")
    files = hub_files(out_dir, include)
    if not any(f.startswith("data/") for f, _ in files):
        raise DataError(f"{out_dir}: no data/<config>/*.parquet files to publish")
    result = PublishResult(repo_id, files, dry_run=dry_run)
    from huggingface_hub import HfApi, get_token

    token = token or get_token()
    patterns = delete_patterns(include)
    if dry_run:
        # what the upload would delete: read from the repo (nothing is sent); a repo that cannot be read is said
        if not token:  # the Hub answers "not found" for a private or gated repo asked without a token
            logger.warning("no Hugging Face token: if %s is private, the files this upload would delete there "
                           "cannot be listed", repo_id)
        info = _repo_info(HfApi(endpoint=endpoint, token=token or None), repo_id, dry_run=True)
        result.deleted = _stale_files(info, files, patterns)
        result.made_private = bool(private and info is not None and not info.private)
        return result
    if not token:
        raise ConfigError("no Hugging Face token: set HF_TOKEN or run `hf auth login` (or pass "
                          f"{option_text('dry_run', True)})")
    from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    api = HfApi(endpoint=endpoint, token=token)
    was_disabled = are_progress_bars_disabled()
    if not show_progress:  # progress bars are opt-in (the CLI's --progress)
        disable_progress_bars()
    step = "create {}"
    try:
        # exist_ok: an existing repo answers 409 and keeps its visibility, whatever ``private`` asks
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        if private:  # before the upload, so that no file of a private publish is ever public
            step = "make {} private"
            result.made_private = _make_private(api, repo_id)
        step = "read {}"
        result.deleted = _stale_files(_repo_info(api, repo_id), files, patterns)
        step = "upload to {}"
        commit = api.upload_folder(repo_id=repo_id, repo_type="dataset", folder_path=str(out_dir),
                                   allow_patterns=[name for name, _ in files],  # exactly what a dry run lists
                                   delete_patterns=patterns, commit_message="Upload dataset with mtkit")
    except Exception as exc:
        error = _hub_error(exc, repo_id, step, api.endpoint)
        if error is None:  # not the Hub's answer (a bug, a local file gone): the traceback is the useful report
            raise
        raise error from exc
    finally:
        if not was_disabled:
            enable_progress_bars()
    result.url = str(getattr(commit, "repo_url", "") or commit)
    logger.info("uploaded %d files to %s", len(files), repo_id)
    return result


def _make_private(api, repo_id: str) -> bool:
    """Switch ``repo_id`` to private if it is public (an existing repo, which create_repo left as it was); whether
    it was."""
    if api.dataset_info(repo_id).private:
        return False
    api.update_repo_settings(repo_id, private=True, repo_type="dataset")
    # a warning, not info: the repo and whatever it held were public until now, which its owner should hear
    logger.warning("%s was public: made it private (private=True / --private)", repo_id)
    return True


def _hub_error(exc: Exception, repo_id: str, step: str, endpoint: str) -> MtkitError | None:
    """One line for a Hub request that failed in ``step`` ("create {}", "upload to {}", ...): offline mode, no
    connection, or the Hub's refusal (401, 403, ...), saying what to do; None for an error that is not the Hub's."""
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    if isinstance(exc, OfflineModeIsEnabled):
        return ConfigError(f"cannot publish {repo_id}: HF_HUB_OFFLINE is set, so huggingface_hub sends nothing; "
                           f"unset it to upload (or pass {option_text('dry_run', True)})")
    if isinstance(exc, HfHubHTTPError):
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
        reason = getattr(response, "reason_phrase", None) or getattr(response, "reason", None) or ""
        said = _one_line(getattr(exc, "server_message", None) or "")
        if status == 401:
            hint = "check the token (HF_TOKEN or `hf auth login`)"
        elif status and status >= 500:
            hint = "the Hub failed, not the request: try again later"
        else:  # 403, or 404 for a repo the token cannot see: someone else's repo, or a read-only token
            hint = f"check that the token has write access to {repo_id}"
        return BackendError(f"the Hub refused to {step.format(repo_id)}: {status or 'HTTP'} {reason}".rstrip()
                            + (f" ({said})" if said else "") + f"; {hint}")
    if isinstance(exc, _connection_errors()):
        return BackendError(f"cannot reach the Hub at {endpoint} to publish {repo_id} ({type(exc).__name__}: "
                            f"{_one_line(str(exc))}); check the network connection (or HF_ENDPOINT)")
    return None


def _connection_errors() -> tuple[type[Exception], ...]:
    """The HTTP client's failures to get an answer (refused, timed out, DNS): httpx's (httpx2's) TransportError for
    huggingface_hub 1.x and later, requests' ConnectionError and Timeout before. Only the client huggingface_hub has
    imported is looked at, so none is imported here."""
    kinds: list[type[Exception]] = []
    for name in ("httpx2", "httpx"):
        if name in sys.modules:
            kinds.append(sys.modules[name].TransportError)
    if "requests" in sys.modules:
        kinds += [sys.modules["requests"].ConnectionError, sys.modules["requests"].Timeout]
    return tuple(kinds)


def _one_line(text: str, limit: int = 200) -> str:
    """``text`` with its whitespace and line breaks collapsed, cut at ``limit`` characters: a server's message or a
    connection error's can run over several lines, and the CLI prints errors on one."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _repo_info(api, repo_id: str, *, dry_run: bool = False):
    """The repo's info (its files and visibility), in one request (list_repo_files retries an unreachable Hub for
    ~25 s); None for a repo not there yet, and in a dry run for one that cannot be read, with a warning."""
    from huggingface_hub.errors import RepositoryNotFoundError

    try:
        return api.dataset_info(repo_id)
    except RepositoryNotFoundError:
        return None
    except Exception as exc:  # offline, no access: a dry run still lists the upload
        if not dry_run:
            raise
        logger.warning("cannot read %s (%s): the files this upload would delete there, and whether it is public, "
                       "are not known", repo_id, type(exc).__name__)
        return None


def _stale_files(info, files: list[tuple[str, int]], patterns: list[str]) -> list[str]:
    """The files of the repo (``info``, None: not there) that ``upload_folder(delete_patterns=patterns)`` removes:
    those the patterns match (matched as huggingface_hub matches them) that this upload does not send."""
    from huggingface_hub.utils import filter_repo_objects

    remote = [f.rfilename for f in (info.siblings or [])] if info is not None else []
    sent = {name for name, _ in files}
    return sorted(p for p in filter_repo_objects(remote, allow_patterns=patterns)
                  if p not in sent and p != ".gitattributes")
