"""Fixtures for every test folder."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The data the project's checkouts share (seed pages, alignment gold), kept out of the repository: beside this
# checkout, as in the project's worktrees, else where the project's machines keep it.
SHARED_DIRS = (ROOT.parent / "shared", Path("/work/shared"))


@pytest.fixture(scope="session")
def shared():
    """``shared("seeds")``: that path in the first shared folder that has it; when none has, the test is skipped,
    saying where it looked."""

    def find(*parts: str) -> Path:
        for base in SHARED_DIRS:
            if base.joinpath(*parts).exists():
                return base.joinpath(*parts)
        pytest.skip(f"shared data {'/'.join(parts)} is in none of {', '.join(str(b) for b in SHARED_DIRS)}")

    return find
