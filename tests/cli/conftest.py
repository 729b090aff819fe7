from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

MAM = str(Path(sys.executable).with_name("mam"))


def run_mam(
    *args: str, env: dict | None = None, input: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [MAM, *args], env=env or dict(os.environ), capture_output=True, text=True, input=input, timeout=timeout
    )


@pytest.fixture
def mam():
    return run_mam
