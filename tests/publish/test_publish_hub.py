"""`mtkit publish` against a Hub-compatible server on 127.0.0.1, then the dataset downloaded and loaded back."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fake_hub import FakeHub

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "hf_mtkitTESTtoken0123456789abcdef"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from mtkit.cli import main

    out = tmp_path_factory.mktemp("publish") / "mps"
    assert main(["-q", "build", str(ROOT / "corpora" / "mps-fraud-2024"), "--out", str(out), "--encoder", "lexical"]) == 0
    return out


def run(args, env, cwd):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def test_upload_then_download_and_load(built, tmp_path):
    with FakeHub(TOKEN) as hub:
        env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HUB_DISABLE_XET": "1", "HF_TOKEN": TOKEN,
               "HF_HOME": str(tmp_path / "hf"), "HF_HUB_DISABLE_TELEMETRY": "1"}
        up = run(["-m", "mtkit.cli", "publish", str(built), "--repo-id", "mtkit/mps-test", "--endpoint", hub.url],
                 env, ROOT)
        assert up.returncode == 0, up.stderr
        assert up.stdout.splitlines()[-1].startswith("published mtkit/mps-test (3 files)")
        files = hub.repos["mtkit/mps-test"]
        assert sorted(files) == ["README.md", "data/en-zh/train-00000-of-00001.parquet",
                                 "data/id-zh/train-00000-of-00001.parquet"]
        for name, data in files.items():
            assert data == (built / name).read_bytes()
        assert "POST /datasets/mtkit/mps-test.git/info/lfs/objects/batch" in hub.requests

        load = run(["-c", (
            "import json, datasets, huggingface_hub\n"
            "path = huggingface_hub.snapshot_download('mtkit/mps-test', repo_type='dataset')\n"
            "rows = {c: datasets.load_dataset(path, c)['train'].num_rows for c in ('en-zh', 'id-zh')}\n"
            "print(json.dumps(rows))\n")], {**env, "HF_TOKEN": ""}, tmp_path)
        assert load.returncode == 0, load.stderr
        assert json.loads(load.stdout.strip().splitlines()[-1]) == {"en-zh": 12, "id-zh": 11}

        no_token = run(["-m", "mtkit.cli", "publish", str(built), "--repo-id", "mtkit/other", "--endpoint", hub.url],
                       {**env, "HF_TOKEN": ""}, ROOT)
        assert no_token.returncode == 2 and "no Hugging Face token" in no_token.stderr
        wrong = run(["-m", "mtkit.cli", "publish", str(built), "--repo-id", "mtkit/other", "--endpoint", hub.url],
                    {**env, "HF_TOKEN": "hf_wrong"}, ROOT)
        assert wrong.returncode != 0
    for proc in (up, load, no_token, wrong):
        assert TOKEN not in proc.stdout + proc.stderr
