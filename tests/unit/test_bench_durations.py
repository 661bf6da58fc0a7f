"""The benchmarks' duration and count arithmetic: every setting their command lines accept
gives a run that its load generator accepts, and rates over what was actually run.

`python -m bench.api --seconds 10` crashed: a round ran 10/3 s and wrk refuses `-d3.33333s`.
"""

from __future__ import annotations

import argparse
import asyncio
import re
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.api import Figures, load_seconds, parse_wrk, wrk_command
from bench.args import positive_int, positive_seconds
from bench.event_store import rate

# wrk's duration: a whole number with an optional unit (it reads "3.5s" as 3 then an
# unknown unit ".5s", and refuses it).
WRK_DURATION = re.compile(r"^-d[1-9][0-9]*s$")


def duration_flag(command: list[str]) -> str:
    return next(arg for arg in command if arg.startswith("-d"))


@pytest.mark.parametrize(("seconds", "rounds"), [(10, 3), (15, 3), (1, 3), (2.5, 1), (0.1, 1)])
def test_wrk_gets_a_whole_second_duration_for_a_round(seconds: float, rounds: int) -> None:
    command = wrk_command(32, 2, seconds / rounds, "http://127.0.0.1:1/")
    assert WRK_DURATION.match(duration_flag(command)), command


@given(seconds=st.floats(min_value=1e-3, max_value=3600), rounds=st.integers(1, 10))
def test_every_accepted_duration_gives_wrk_one_it_accepts(seconds: float, rounds: int) -> None:
    each = load_seconds(seconds / rounds, whole=True)
    assert each >= 1
    assert abs(each - seconds / rounds) <= 0.5 or each == 1
    assert WRK_DURATION.match(duration_flag(wrk_command(8, 8, each)))


def test_the_split_is_rounded_to_the_nearest_second_for_wrk_only() -> None:
    assert load_seconds(10 / 3, whole=True) == 3
    assert load_seconds(5 / 3, whole=True) == 2
    assert load_seconds(0.4, whole=True) == 1
    assert load_seconds(10 / 3, whole=False) == pytest.approx(3.3333, abs=1e-4)


WRK_OUTPUT = """Running 3s test @ http://127.0.0.1:8080/bare
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.12ms    1.02ms  20.31ms   85.00%
    Req/Sec     3.14k   210.00     3.50k    70.00%
  Latency Distribution
     50%    5.01ms
     75%    5.50ms
     90%    6.20ms
     99%   19.10ms
  18765 requests in 3.01s, 9.30MB read
  Non-2xx or 3xx responses: 2
Requests/sec:   6234.22
Transfer/sec:      3.09MB
"""


def test_wrk_figures_are_its_requests_over_the_time_it_ran() -> None:
    figures = parse_wrk(WRK_OUTPUT)
    assert figures.requests == 18765  # what the CPU per request is divided by
    assert figures.per_second == pytest.approx(18765 / 3.01, rel=1e-3)
    assert (figures.p50_ms, figures.p99_ms, figures.errors) == (5.01, 19.10, 2)


def test_httpx_figures_are_over_the_elapsed_time() -> None:
    figures = Figures.of([0.01] * 50, 2.5, 0)
    assert (figures.requests, figures.per_second) == (50, 20.0)


def test_a_small_append_count_still_runs_every_writer_once() -> None:
    """bench/event_store.py splits --appends over 5 rounds and up to 16 writers: below
    one call per writer it measured nothing and divided by a zero rate."""
    calls: list[tuple[int, int]] = []

    async def op(writer: int, i: int) -> None:
        calls.append((writer, i))

    per_second = asyncio.run(rate(100 // 4 // 5, 16, op))
    assert sorted(w for w, _ in calls) == list(range(16))
    assert per_second > 0


@pytest.mark.parametrize(
    ("parse", "text"),
    [(positive_seconds, "0"), (positive_seconds, "-1"), (positive_seconds, "nan"),
     (positive_seconds, "inf"), (positive_seconds, "ten"), (positive_int, "0"),
     (positive_int, "1.5")],
)
def test_settings_the_arithmetic_cannot_run_are_refused(
    parse: Callable[[str], object], text: str
) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse(text)
