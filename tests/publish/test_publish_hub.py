"""`mtkit publish` against a Hub-compatible server on 127.0.0.1, then the dataset loaded back through it.

Each command runs in a subprocess with HF_ENDPOINT set before huggingface_hub is imported (it reads the
endpoint into its constants at import time), so nothing here touches the real Hub.
"""

import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from fake_hub import FakeHub
from mtkit.cli import main
from mtkit.errors import BackendError, ConfigError, DataError
from mtkit.publish import export_corpus, publish_dataset
from test_publish_export import card_info, make_pairs

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "hf_mtkitTESTtoken0123456789abcdef"
HUB_FILES = ["README.md", "data/en-zh/train-00000-of-00001.parquet", "data/en-zh/validation-00000-of-00001.parquet",
             "data/id-zh/test-00000-of-00001.parquet", "data/id-zh/train-00000-of-00001.parquet"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("publish") / "tiny"
    export_corpus(iter(make_pairs()), out, card=card_info())
    (out / "report.md").write_text("local only\n")
    return out


def run(args, env, cwd):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def test_dry_run_lists_card_and_parquet_only(built, tmp_path):
    env = {**os.environ, "HF_TOKEN": TOKEN, "HF_HOME": str(tmp_path / "hf"), "HF_ENDPOINT": "http://127.0.0.1:9"}
    proc = run(["-m", "mtkit.cli", "publish", str(built), "--repo-id", "mtkit/tiny", "--dry-run"], env, ROOT)
    assert proc.returncode == 0, proc.stderr
    sizes = {name: (built / name).stat().st_size for name in HUB_FILES}
    assert proc.stdout.splitlines() == [f"would upload {n} ({sizes[n]:,} bytes)" for n in HUB_FILES] + [
        "dry run: nothing sent to mtkit/tiny (5 files)"]
    assert TOKEN not in proc.stdout + proc.stderr


def test_dry_run_include_adds_local_copies(built):
    # the dry run reads the repo's files to list deletions: an endpoint that answers nothing, not the real Hub
    result = publish_dataset(built, "mtkit/tiny", dry_run=True, include=("tsv",), endpoint="http://127.0.0.1:9")
    assert [name for name, _ in result.files] == HUB_FILES + [
        "tsv/en-zh/dev.tsv", "tsv/en-zh/train.tsv", "tsv/id-zh/test.tsv", "tsv/id-zh/train.tsv"]
    assert result.dry_run and result.url == ""


@pytest.mark.parametrize("repo_id, make, error, message", [
    ("tiny", None, ConfigError, "repo id 'tiny' is not of the form ORG/NAME"),
    ("a/b/c", None, ConfigError, "repo id 'a/b/c' is not of the form ORG/NAME"),
    ("org/tiny", "no-card", DataError, "no README.md dataset card"),
    ("org/tiny", "no-data", DataError, "no data/<config>/*.parquet files to publish"),
    ("org/tiny", "include", ConfigError, "cannot include rejects; allowed: jsonl, tsv, text, hf"),
])
def test_errors(tmp_path, repo_id, make, error, message):
    out = tmp_path / "out"
    export_corpus(iter(make_pairs()), out, card=card_info(), formats=("parquet",))
    if make == "no-card":
        (out / "README.md").unlink()
    elif make == "no-data":
        for path in out.glob("data/*/*.parquet"):
            path.unlink()
    with pytest.raises(error) as info:
        publish_dataset(out, repo_id, dry_run=True, include=("rejects",) if make == "include" else ())
    assert message in str(info.value)


@pytest.mark.slow
def test_upload_then_load_through_the_hub(built, tmp_path):
    with FakeHub(TOKEN) as hub:
        env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HUB_DISABLE_XET": "1", "HF_TOKEN": TOKEN,
               "HF_HOME": str(tmp_path / "hf"), "HF_HUB_DISABLE_TELEMETRY": "1"}
        up = run(["-m", "mtkit.cli", "publish", str(built), "--repo-id", "mtkit/tiny"], env, ROOT)
        assert up.returncode == 0, up.stderr
        assert up.stdout.splitlines()[-1] == f"published mtkit/tiny (5 files) {hub.url}/datasets/mtkit/tiny"
        files = hub.repos["mtkit/tiny"]
        assert sorted(files) == HUB_FILES  # no jsonl/tsv/text/hf/report
        for name, data in files.items():
            assert data == (built / name).read_bytes()
        assert "POST /datasets/mtkit/tiny.git/info/lfs/objects/batch" in hub.requests

        load = run(["-c", (
            "import json, datasets\n"
            "out = {}\n"
            "for c in ('en-zh', 'id-zh'):\n"
            "    ds = datasets.load_dataset('mtkit/tiny', c)\n"
            "    out[c] = {s: list(d['id']) for s, d in ds.items()}\n"
            "    out[c + ' features'] = repr(ds['train'].features['translation'])\n"
            "print(json.dumps(out))\n")], {**env, "HF_TOKEN": ""}, tmp_path)
        assert load.returncode == 0, load.stderr
        assert json.loads(load.stdout.strip().splitlines()[-1]) == {
            "en-zh": {"train": ["p1", "p2"], "validation": ["p3"]},
            "en-zh features": "Translation(languages=['en', 'zh'])",
            "id-zh": {"train": ["p4"], "test": ["p5"]},
            "id-zh features": "Translation(languages=['id', 'zh'])",
        }

        no_token = run(["-m", "mtkit.cli", "publish", str(built), "--repo-id", "mtkit/other"],
                       {**env, "HF_TOKEN": ""}, ROOT)
        assert no_token.returncode == 2 and "no Hugging Face token" in no_token.stderr
        wrong = run(["-m", "mtkit.cli", "publish", str(built), "--repo-id", "mtkit/other"],
                    {**env, "HF_TOKEN": "hf_wrong"}, ROOT)
        assert wrong.returncode == 2 and "mtkit/other" not in hub.repos
        assert wrong.stderr.splitlines() == [
            "mtkit publish: error: the Hub refused to create mtkit/other: 401 Unauthorized (Invalid credentials); "
            "check the token (HF_TOKEN or `hf auth login`)"]
        verbose = run(["-m", "mtkit.cli", "-vv", "publish", str(built), "--repo-id", "mtkit/tiny"], env, ROOT)
        assert verbose.returncode == 0, verbose.stderr
    for proc in (up, load, no_token, wrong, verbose):
        assert TOKEN not in proc.stdout + proc.stderr
    leaked = [p for p in tmp_path.rglob("*") if p.is_file() and TOKEN.encode() in p.read_bytes()]
    assert leaked == []


def test_a_republish_deletes_what_the_new_build_no_longer_has(built, tmp_path):
    """A rebuild without a config or split left its old shards in the repo, public and downloadable. Only mtkit's
    shards go (and the files of folders this upload includes): files the owner added by hand, under data/ too, stay,
    and so does a copy sent before and not included this time."""
    smaller = tmp_path / "smaller"
    export_corpus(iter([p for p in make_pairs() if "id" not in (p.src_lang, p.tgt_lang)]), smaller, card=card_info(),
                  formats=("parquet",))
    kept = sorted(p.relative_to(smaller).as_posix() for p in smaller.rglob("*.parquet"))
    assert kept and not any(k.startswith("data/id-zh/") for k in kept)
    with FakeHub(TOKEN) as hub:
        env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HUB_DISABLE_XET": "1", "HF_TOKEN": TOKEN,
               "HF_HOME": str(tmp_path / "hf"), "HF_HUB_DISABLE_TELEMETRY": "1"}
        first = run(["-m", "mtkit.cli", "publish", str(built), "--repo-id", "mtkit/tiny", "--include", "tsv"], env, ROOT)
        assert first.returncode == 0, first.stderr
        hub.repos["mtkit/tiny"]["notes/by-hand.md"] = b"kept"
        hub.repos["mtkit/tiny"]["data/NOTICE.md"] = b"kept too"
        stale = sorted(n for n in hub.repos["mtkit/tiny"] if n.endswith(".parquet") and n not in kept)
        copies = sorted(n for n in hub.repos["mtkit/tiny"] if n.startswith("tsv/"))
        assert "data/id-zh/train-00000-of-00001.parquet" in stale and "tsv/en-zh/train.tsv" in copies
        by_hand = ["notes/by-hand.md", "data/NOTICE.md"]
        dry = run(["-m", "mtkit.cli", "publish", str(smaller), "--repo-id", "mtkit/tiny", "--dry-run"], env, ROOT)
        assert dry.returncode == 0, dry.stderr
        sizes = {name: (smaller / name).stat().st_size for name in ["README.md", *kept]}
        assert dry.stdout.splitlines() == [f"would upload {n} ({sizes[n]:,} bytes)" for n in ["README.md", *kept]] + [
            f"would delete {n} (not in this build)" for n in stale] + [
            f"dry run: nothing sent to mtkit/tiny ({len(kept) + 1} files, {len(stale)} deleted)"]
        assert sorted(hub.repos["mtkit/tiny"]) == sorted([*kept, *stale, *copies, "README.md", *by_hand])
        second = run(["-m", "mtkit.cli", "publish", str(smaller), "--repo-id", "mtkit/tiny"], env, ROOT)
        assert second.returncode == 0, second.stderr
        assert [line for line in second.stdout.splitlines() if line.startswith("deleted ")] == [
            f"deleted {n} (not in this build)" for n in stale]
        assert sorted(hub.repos["mtkit/tiny"]) == sorted(["README.md", *by_hand, *copies, *kept])
        for name in kept:
            assert hub.repos["mtkit/tiny"][name] == (smaller / name).read_bytes()


@pytest.fixture
def hub(monkeypatch, tmp_path):
    """The fake Hub, with this process's huggingface_hub pointed at it (HfApi() reads the endpoint when made)."""
    from huggingface_hub import constants

    with FakeHub(TOKEN) as hub:
        monkeypatch.setattr(constants, "ENDPOINT", hub.url)
        monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
        monkeypatch.setenv("HF_TOKEN", TOKEN)
        monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
        yield hub


@pytest.mark.parametrize("flags, private", [(["--private"], True), ([], False)])
def test_the_cli_creates_the_repo_private_only_with_private(built, hub, capsys, flags, private):
    """`--private` reaches the create-repo request; without it the repo is asked for public."""
    assert main(["-q", "publish", str(built), "--repo-id", "mtkit/tiny", *flags]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"published mtkit/tiny (5 files) {hub.url}/datasets/mtkit/tiny"
    assert hub.private == {"mtkit/tiny": private}
    assert sorted(hub.repos["mtkit/tiny"]) == HUB_FILES


@pytest.mark.parametrize("kwargs, private", [({"private": True}, True), ({"private": False}, False), ({}, False)])
def test_publish_dataset_creates_the_repo_private_only_with_private(built, hub, kwargs, private):
    result = publish_dataset(built, "mtkit/tiny", token=TOKEN, endpoint=hub.url, **kwargs)
    assert hub.private == {"mtkit/tiny": private}
    assert (result.repo_id, result.dry_run, sorted(hub.repos["mtkit/tiny"])) == ("mtkit/tiny", False, HUB_FILES)


@pytest.mark.parametrize("existing, kwargs, private, switched", [
    (None, {"private": True}, True, False),  # created private
    (False, {"private": True}, True, True),  # an existing public repo: create_repo's 409 kept it public
    (True, {"private": True}, True, False),
    (True, {}, True, False),  # publishing again without private never makes a private repo public
    (True, {"private": False}, True, False),
    (False, {}, False, False),
])
def test_private_makes_the_repo_private_new_or_existing(built, hub, caplog, existing, kwargs, private, switched):
    if existing is not None:
        hub.add_repo("mtkit/tiny", private=existing)
    with caplog.at_level(logging.INFO, logger="mtkit.publish"):
        publish_dataset(built, "mtkit/tiny", token=TOKEN, endpoint=hub.url, **kwargs)
    assert hub.private == {"mtkit/tiny": private}
    assert sorted(hub.repos["mtkit/tiny"]) == HUB_FILES
    settings = "PUT /api/datasets/mtkit/tiny/settings"
    assert (settings in hub.requests) == switched
    assert ("mtkit/tiny was public: made it private" in caplog.text) == switched
    if switched:  # before any file goes up
        assert hub.requests.index(settings) < min(i for i, r in enumerate(hub.requests) if "/preupload/" in r)


def test_the_cli_makes_an_existing_public_repo_private(built, hub, capsys):
    """A dry run says the switch it would make, and changes nothing; the publish makes it and says so."""
    hub.add_repo("mtkit/tiny", private=False)
    assert main(["-q", "publish", str(built), "--repo-id", "mtkit/tiny", "--private", "--dry-run"]) == 0
    assert "would make mtkit/tiny private (it was public)" in capsys.readouterr().out.splitlines()
    assert hub.private == {"mtkit/tiny": False}
    assert main(["-q", "publish", str(built), "--repo-id", "mtkit/tiny", "--private"]) == 0
    assert hub.private == {"mtkit/tiny": True}
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == f"published mtkit/tiny (5 files) {hub.url}/datasets/mtkit/tiny"
    assert "made mtkit/tiny private (it was public)" in out
    # already private: nothing to say
    assert main(["-q", "publish", str(built), "--repo-id", "mtkit/tiny", "--private", "--dry-run"]) == 0
    assert not any("private" in line for line in capsys.readouterr().out.splitlines())


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("refuse, token, message", [
    (("POST /api/repos/create", 403, 'You cannot create a dataset under the namespace "mtkit"'),
     TOKEN, "the Hub refused to create mtkit/tiny: 403 Forbidden (You cannot create a dataset "
     'under the namespace "mtkit"); check that the token has write access to mtkit/tiny'),
    (("POST /api/datasets/mtkit/tiny/commit/main", 403, "You have read access but not the required permissions"),
     TOKEN, "the Hub refused to upload to mtkit/tiny: 403 Forbidden (You have read access but not the required "
     "permissions); check that the token has write access to mtkit/tiny"),
    (("PUT /api/datasets/mtkit/tiny/settings", 403, "Forbidden"),
     TOKEN, "the Hub refused to make mtkit/tiny private: 403 Forbidden (Forbidden); check that the token has "
     "write access to mtkit/tiny"),
    (None, "hf_wrong", "the Hub refused to create mtkit/tiny: 401 Unauthorized (Invalid credentials); check the "
     "token (HF_TOKEN or `hf auth login`)"),
])
def test_a_refusing_hub_is_a_one_line_error(built, hub, refuse, token, message):
    from huggingface_hub.errors import HfHubHTTPError

    before = snapshot(built)
    if refuse:
        hub.refuse[refuse[0]] = refuse[1:]
    if refuse and "settings" in refuse[0]:
        hub.add_repo("mtkit/tiny", private=False)
    with pytest.raises(BackendError) as info:
        publish_dataset(built, "mtkit/tiny", token=token, endpoint=hub.url, private=True)
    assert str(info.value) == message
    assert isinstance(info.value.__cause__, HfHubHTTPError)
    assert hub.repos.get("mtkit/tiny", {}) == {}  # nothing committed, and a repo that stays public gets no file
    assert snapshot(built) == before
    assert TOKEN not in str(info.value)


def test_offline_mode_is_a_one_line_error(built, hub, monkeypatch):
    from huggingface_hub import constants
    from huggingface_hub.errors import OfflineModeIsEnabled

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # read from the environment at import
    with pytest.raises(ConfigError) as info:
        publish_dataset(built, "mtkit/tiny", token=TOKEN, endpoint=hub.url)
    assert str(info.value) == ("cannot publish mtkit/tiny: HF_HUB_OFFLINE is set, so huggingface_hub sends nothing; "
                               "unset it to upload (or pass dry_run=True / --dry-run)")
    assert isinstance(info.value.__cause__, OfflineModeIsEnabled)
    assert hub.requests == []


def test_no_connection_is_a_one_line_error(built):
    with socket.socket() as sock:  # a port nothing listens on: connections are refused at once, with no wait
        sock.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with pytest.raises(BackendError) as info:
        publish_dataset(built, "mtkit/tiny", token=TOKEN, endpoint=endpoint)
    message = str(info.value)
    assert message.startswith(f"cannot reach the Hub at {endpoint} to publish mtkit/tiny (")
    assert message.endswith("); check the network connection (or HF_ENDPOINT)") and "\n" not in message
    assert info.value.__cause__ is not None


def test_the_cli_exits_2_with_one_line_when_the_hub_refuses(built, hub, capsys):
    hub.refuse["POST /api/datasets/mtkit/tiny/commit/main"] = (403, "You have read access but not the required\n"
                                                               "permissions for this operation")
    assert main(["-q", "publish", str(built), "--repo-id", "mtkit/tiny"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "mtkit publish: error: the Hub refused to upload to mtkit/tiny: 403 Forbidden (You have read access but not "
        "the required permissions for this operation); check that the token has write access to mtkit/tiny"]


def test_the_cli_offline_exits_2_with_one_line(built, tmp_path):
    # HF_HUB_OFFLINE as users set it: in the environment before huggingface_hub is imported
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_TOKEN": TOKEN, "HF_HOME": str(tmp_path / "hf"),
           "HF_ENDPOINT": "http://127.0.0.1:9"}
    proc = run(["-m", "mtkit.cli", "publish", str(built), "--repo-id", "mtkit/tiny"], env, ROOT)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.splitlines() == [
        "mtkit publish: error: cannot publish mtkit/tiny: HF_HUB_OFFLINE is set, so huggingface_hub sends nothing; "
        "unset it to upload (or pass dry_run=True / --dry-run)"]
