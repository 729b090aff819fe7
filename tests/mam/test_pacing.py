import multiprocessing as mp
import time
from pathlib import Path

from mamdl.mam.pacing import RequestGate


def _worker(path: str, interval: float, n: int, q) -> None:
    gate = RequestGate(Path(path), interval)
    for _ in range(n):
        with gate.turn():
            q.put(time.time())


def test_gate_spaces_requests_across_processes(tmp_path):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(str(tmp_path / "gate"), 0.2, 4, q)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    stamps = sorted(q.get(timeout=5) for _ in range(8))
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    assert min(gaps) >= 0.2 - 0.005, gaps


def test_a_killed_holder_does_not_wedge_the_gate(tmp_path):
    """Sabotage caught: a gate whose lock outlives its holder (a lock file instead of an OS lock).
    The holder says when it holds the gate: a holder still starting up (spawn is slow on a busy
    machine) would make the test pass without testing anything."""
    ctx = mp.get_context("spawn")
    holding = ctx.Event()
    p = ctx.Process(target=_hold_forever, args=(str(tmp_path / "gate"), holding))
    p.start()
    assert holding.wait(60), "the holder never took the gate"
    p.kill()
    p.join()
    t0 = time.monotonic()
    with RequestGate(tmp_path / "gate", 0.1).turn():
        pass
    assert time.monotonic() - t0 < 10  # at once, really; generous for a loaded machine


def _hold_forever(path: str, holding) -> None:
    with RequestGate(Path(path), 0.0).turn():
        holding.set()
        time.sleep(60)
