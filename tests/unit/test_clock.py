from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.clock import ProgramClock, midnight

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def test_a_compressed_clock_runs_program_days_in_real_milliseconds() -> None:
    clock = ProgramClock.compressed(T0, date(2017, 9, 1), speed=86_400_000)  # 1 day per ms
    assert clock.today(T0) == date(2017, 9, 1)
    assert clock.today(T0 + timedelta(milliseconds=30)) == date(2017, 10, 1)
    assert clock.real_delay(T0, midnight(date(2017, 9, 11))) == timedelta(milliseconds=10)


def test_after_until_the_clock_runs_at_its_second_speed() -> None:
    clock = ProgramClock(origin_real=T0, origin_program=midnight(date(2017, 1, 1)),
                         speed=86_400 * 10, until=midnight(date(2017, 1, 11)), then_speed=1)
    switch = T0 + timedelta(seconds=1)  # ten program days at ten days a second
    assert clock.at(switch) == midnight(date(2017, 1, 11))
    assert clock.at(switch + timedelta(hours=5)) == midnight(date(2017, 1, 11)) + timedelta(
        hours=5)
    # Before the switch a target past it waits the fast part, then the slow part.
    assert clock.real_delay(T0, midnight(date(2017, 1, 12))) == timedelta(seconds=1, days=1)


def test_a_frozen_clock_never_reaches_the_future() -> None:
    frozen = ProgramClock.real_time(T0).frozen(T0 + timedelta(hours=1))
    assert frozen.real_delay(T0, T0 + timedelta(days=2)) is None
    assert frozen.at(T0 + timedelta(days=300)) == T0 + timedelta(hours=1)


@given(st.integers(0, 10**9), st.integers(0, 10**9), st.integers(1, 3))
def test_program_time_never_runs_backwards(a: int, b: int, then: int) -> None:
    clock = ProgramClock(origin_real=T0, origin_program=midnight(date(2017, 1, 1)),
                         speed=5000, until=midnight(date(2020, 1, 1)), then_speed=then)
    first, second = sorted((a, b))
    assert clock.at(T0 + timedelta(milliseconds=first)) <= clock.at(
        T0 + timedelta(milliseconds=second))


@given(st.integers(0, 10**8), st.integers(0, 4000))
def test_waiting_the_real_delay_reaches_the_target(now_ms: int, days: int) -> None:
    clock = ProgramClock(origin_real=T0, origin_program=midnight(date(2017, 1, 1)),
                         speed=86_400 * 30, until=midnight(date(2020, 1, 1)), then_speed=1)
    now = T0 + timedelta(milliseconds=now_ms)
    target = midnight(date(2017, 1, 1)) + timedelta(days=days)
    delay = clock.real_delay(now, target)
    assert delay is not None
    assert abs(clock.at(now + delay) - max(target, clock.at(now))) < timedelta(seconds=1)
