"""Fixtures for engine tests: a loopback payload/seeder and engines that are always closed."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mamdl.engine import Engine, EngineConfig
from tests.engine.swarm import Payload, Seeder, make_payload

FAST = {"resume_save_interval": 1.0, "status_interval": 0.2, "store_interval": 0.5}


def loopback_config(**overrides) -> EngineConfig:
    return EngineConfig.loopback(**{**FAST, **overrides})


@pytest.fixture
def payload(tmp_path: Path) -> Payload:
    return make_payload(tmp_path / "src")


@pytest.fixture
def seeders() -> Iterator[Callable[..., Seeder]]:
    made: list[Seeder] = []

    def make(payload: Payload, **kw) -> Seeder:
        s = Seeder(payload, **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


@pytest.fixture
def seeder(payload: Payload, seeders) -> Seeder:
    return seeders(payload)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def make_engine(state_dir: Path) -> Iterator[Callable[..., Engine]]:
    made: list[Engine] = []

    def make(config: EngineConfig | None = None, *, start: bool = True, directory: Path | None = None, **kw) -> Engine:
        eng = Engine(directory or state_dir, config or loopback_config(), **kw)
        made.append(eng)
        if start:
            eng.start()
        return eng

    yield make
    for eng in reversed(made):
        eng.close()


@pytest.fixture
def engine(make_engine) -> Engine:
    return make_engine()


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Mount small tmpfs file systems (root only); skip the test if mounting is not permitted."""
    mounted: list[Path] = []

    def mount(size: str = "2m", *, name: str = "tmpfs", options: str = "") -> Path:
        where = tmp_path / name
        where.mkdir()
        opts = f"size={size}" + (f",{options}" if options else "")
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(where)], capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip() or r.returncode}")
        mounted.append(where)
        return where

    yield mount
    for where in reversed(mounted):
        subprocess.run(["umount", "-l", str(where)], capture_output=True)
