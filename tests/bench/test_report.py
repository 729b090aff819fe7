"""The benchmark's report logic (bench/run.py, bench/_wholeprocess.py): which client is "the best
other" per payload, and each of issue 16's goals marked met / not met against its target. Only the
arithmetic on result dicts: no client runs here (the bench itself is never run by the test suite)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def run() -> ModuleType:
    """bench/run.py as a module (it puts bench/ on sys.path for its helpers, as when run)."""
    spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def wholeprocess(run: ModuleType) -> ModuleType:
    import _wholeprocess  # bench/ is on sys.path once run.py is loaded

    return _wholeprocess


def _stats(median: float, runs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"median_mibps": median, "min_mibps": median, "max_mibps": median, "ok": 1, "failed": 0, "runs": runs or []}


def _results() -> dict[str, Any]:
    """A run where mamdl wins the single file (900 vs aria2 800), loses the multi-file payload to
    qBittorrent (500 vs 700, aria2 600), and the audiobook was not measured by anyone but mamdl."""
    mam = _stats(900, [{"maxrss_mib": 60.0}, {"maxrss_mib": 140.0, "error": "failed run: not counted"}])
    mam["multi"] = _stats(500, [{"maxrss_mib": 70.0}])
    mam["audiobook"] = _stats(400, [{"maxrss_mib": 65.0}])
    aria2 = _stats(800)
    aria2["multi"] = _stats(600)
    qbt = _stats(300)
    qbt["multi"] = _stats(700)
    return {
        "clients": {"mamdl": mam, "aria2": aria2, "qbittorrent": qbt},
        "physical": {"limit_mibps": 1000.0},
        "wholeprocess": {
            "clients": {
                "mamdl": {"single": _stats(300), "multi": _stats(200)},
                "aria2": {"single": _stats(250), "multi": _stats(150)},
                "qbittorrent": {"single": _stats(280), "multi": _stats(260)},
            },
            "serve_peak_rss_mib": 130.0,
        },
    }


def test_best_other_client_is_chosen_per_payload(run: ModuleType, wholeprocess: ModuleType) -> None:
    """Sabotage caught: comparing every payload with the single file's best other client (aria2),
    or skipping the payloads other than the single file."""
    res = _results()
    fb = run.payload_ratios(res)
    assert fb["single"]["best_other"] == "aria2" and fb["single"]["ratio"] == pytest.approx(900 / 800)
    assert fb["multi"]["best_other"] == "qbittorrent" and fb["multi"]["ratio"] == pytest.approx(500 / 700)
    assert "audiobook" not in fb  # no other client measured it: no ratio rather than a made-up one
    wp = wholeprocess.ratios(res["wholeprocess"]["clients"], ["single", "multi", "audiobook"])
    assert wp["single"] == {"best_other": "qbittorrent", "ratio": pytest.approx(300 / 280)}
    assert wp["multi"] == {"best_other": "qbittorrent", "ratio": pytest.approx(200 / 260)}
    assert "audiobook" not in wp


def test_each_goal_is_marked_against_its_target(run: ModuleType, wholeprocess: ModuleType) -> None:
    """Sabotage caught: a flipped comparison (met when below the target), the RSS goal read from a
    failed run or from the lowest run instead of the highest, mamdl ÷ physical limit inverted."""
    res = _results()
    res["wholeprocess"]["ratios"] = wholeprocess.ratios(
        res["wholeprocess"]["clients"], ["single", "multi", "audiobook"]
    )
    rows = run.summary_rows(res)

    def goal(start: str) -> tuple[str, bool | None]:
        (row,) = [r for r in rows if r[0].startswith(start)]
        return row[1], row[3]

    assert goal("From the first byte, single file")[1] is True
    assert goal("From the first byte, multi-file")[1] is False
    assert goal("From the first byte, audiobook")[1] is None  # not measured, not "not met"
    assert goal("Whole process, single file")[1] is True
    assert goal("Whole process, multi-file")[1] is False
    # the highest successful run; the failed 140 MiB one is left out
    assert goal("Peak RSS of mamdl's engine process") == ("70 MiB", True)
    assert goal("Peak RSS of `mam serve`") == ("130 MiB", False)
    assert goal("mamdl ÷ physical limit (same run), single file")[1] is True  # 900 of 1000: 0.90 ≥ 0.80
    assert goal("mamdl ÷ physical limit (same run), multi-file")[1] is False  # 0.50


def test_physical_ratio_divides_each_run_by_the_limit_measured_beside_it(run: ModuleType) -> None:
    """Each round measures the physical limit again just before its runs; the goal is the median of
    run ÷ its own limit. Sabotage caught: dividing the median speed by the start-of-run limit (here
    0.60, "not met") or by the best round's limit, or pairing a run with another round's limit."""
    runs = [
        {"mibps": 600.0, "physical_limit_mibps": 700.0},  # 0.857
        {"mibps": 450.0, "physical_limit_mibps": 600.0},  # 0.75
        {"mibps": 520.0, "physical_limit_mibps": 610.0},  # 0.852
        {"mibps": 900.0, "physical_limit_mibps": 100.0, "error": "failed run: not counted"},
    ]
    for r in runs:
        r.update(mibps_from_add=r["mibps"], ttfb_s=0.0, cpu_s_per_gib=1.0)
    st = run.stats_of(runs)
    assert st["physical_ratio_median"] == pytest.approx(520 / 610)
    assert st["physical_limit_median"] == pytest.approx(610)
    res = {"clients": {"mamdl": st}, "physical": {"limit_mibps": 1000.0}}
    (row,) = [r for r in run.summary_rows(res) if "physical limit (same run), single file" in r[0]]
    assert row[3] is True and row[1].startswith("0.85×")
    assert run.times(0.7966, 0.8) == "0.797×" and run.times(0.8, 0.8) == "0.80×" and run.times(0.71, 0.8) == "0.71×"
    res["clients"]["mamdl"] = run.stats_of([{k: v for k, v in r.items() if k != "physical_limit_mibps"} for r in runs])
    (row,) = [r for r in run.summary_rows(res) if "physical limit (same run), single file" in r[0]]
    assert row[3] is False  # older results without per-round limits: the start-of-run figure (520 of 1000)


def test_report_opens_with_the_goals(run: ModuleType, wholeprocess: ModuleType) -> None:
    """Sabotage caught: the summary block dropped from latest.md or placed after the tables."""
    res = _results()
    res["wholeprocess"]["ratios"] = wholeprocess.ratios(
        res["wholeprocess"]["clients"], ["single", "multi", "audiobook"]
    )
    res.update(
        date="2026-12-01 00:00 UTC",
        quick=True,
        rounds=1,
        seed=16,
        sizes={"payload_mib": 16, "multi_files": 8, "audiobook_files": 60},
        machine={
            "cpu": "x",
            "cores": 2,
            "mem_mib": 1,
            "kernel": "k",
            "tmp_fs": "ext4",
            "python": "3",
            "libtorrent": "2",
            "mamdl": "0",
        },
        client_versions={},
    )
    res["physical"].update(
        size_mib=16, write_mibps=1, write_fsync_mibps=1, sha1_mibps=1, limit_fsync_mibps=1, overlapped_bound_mibps=1
    )
    for c in res["clients"].values():
        c.update(median_ttfb_s=0.1, median_mibps_from_add=1.0, median_cpu_s_per_gib=1.0)
    res["clients"]["mamdl"]["median_seeder_cpu_s_per_gib"] = 1.3
    md = run.markdown(res)
    # the seeder's share of the machine is stated beside the limit that leaves it out
    assert "the seeder used 1.3 CPU s per GiB and mamdl's engine 1.0" in md
    summary = md.index("## Summary: issue 16's goals")
    assert summary < md.index("## Download throughput") < md.index("## Whole process")
    assert (
        "| From the first byte, multi-file: mamdl ÷ best other (qbittorrent) | 0.71× (500 vs 700 MiB/s) | ≥ 1.00× | **not met** |"
        in md
    )
    assert "4 of 9 measured goals met" in md  # first byte, whole process, engine RSS, physical: single file
