"""The code passes ruff with the project's settings (pyproject.toml: pyflakes, pycodestyle, bugbear; 120 columns):
an unused import, an undefined name or a loop variable that shadows another fails here, not in a user's run."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "mtkit", "bench", "tests"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
