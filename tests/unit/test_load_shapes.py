"""Load shapes beyond a concurrency level, against the emulator with known timings: several
request rates in one run. The achieved rate is requests sent per second, first send to last."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from benchmarking.settings import settings_from
from benchmarking.sweep import Point, at_rates, point_seed
from tests.helpers import Emulator, benchmarking_process, point_files

RATE_TOLERANCE = 0.05  # achieved vs asked, constant arrivals, over a second or more of sends


def test_a_rate_sweep_measures_each_rate_as_a_point_of_its_own(
    emulator: Emulator, tmp_path: Path
) -> None:
    url = emulator("--ttft-ms", "5", "--itl-ms", "2")
    out = tmp_path / "out"
    args = {
        "rate": "20,40,inf", "burstiness": "inf", "isl": 16, "osl": 4, "concurrency": 64,
        "num_prompts": 41, "warmups": 0, "seed": 5,
    }  # fmt: skip
    process = benchmarking_process(url, out, args)
    console, _ = process.communicate(timeout=120)
    assert process.returncode == 0, console
    documents = {d["request_rate"]: (d, rows) for d, rows in point_files(out)}
    assert set(documents) == {20.0, 40.0, "inf"}
    for rate in (20.0, 40.0):
        document, rows = documents[rate]
        assert len(rows) == 41 and document["completed"] == 41
        assert document["achieved_rate"] == pytest.approx(rate, rel=RATE_TOLERANCE)
        span_s = (max(r["sent_ns"] for r in rows) - min(r["sent_ns"] for r in rows)) / 1e9
        assert span_s == pytest.approx(40 / rate, rel=RATE_TOLERANCE)
    names = sorted(p.name for p in out.glob("benchmark_*[0-9].json"))
    assert names == [
        "benchmark_isl-16_osl-4_maxcon-64_n-41.json",
        "benchmark_isl-16_osl-4_maxcon-64_n-41_rate-20.json",
        "benchmark_isl-16_osl-4_maxcon-64_n-41_rate-40.json",
    ]
    all_at_once = documents["inf"][0]["achieved_rate"]
    assert all_at_once is None or all_at_once > 200, "rate=inf sends everything at once"
    table = console[console.index("benchmarks") :]
    assert "rate" in table and "asked" in table
    rows_shown = [line.split() for line in table.splitlines() if line.strip().startswith("16")]
    assert [row[3] for row in rows_shown] == ["20", "40", "inf"], table


def test_rates_multiply_the_sweep_points_and_give_each_its_own_prompts() -> None:
    settings = settings_from({"rate": "2,1,2", "burstiness": 0.5}, draw=lambda: 7)
    assert settings.rate == (2.0, 1.0), "each rate once, in the order given"
    assert settings_from({}, draw=lambda: 7).rate == (math.inf,)
    points = at_rates([Point(16, 4, 1, 8), Point(16, 4, 4, 8)], settings.rate)
    assert [(p.concurrency, p.rate) for p in points] == [(1, 2.0), (1, 1.0), (4, 2.0), (4, 1.0)]
    seeds = {point_seed(7, p) for p in points}
    assert len(seeds) == 4, "the same prompts at two rates would be served from a prompt cache"
    assert point_seed(7, Point(16, 4, 1, 8)) == point_seed(7, Point(16, 4, 1, 8, math.inf))
