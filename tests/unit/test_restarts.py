"""The rule `oms dev` follows when a part of the stack dies."""

from cli.restarts import DeathRecord, GiveUp, Restart, RestartPolicy

POLICY = RestartPolicy(first_delay=0.5, max_delay=10.0, limit=5, window=60.0)


def test_the_delay_doubles_from_half_a_second_up_to_the_cap() -> None:
    assert [POLICY.delay(n) for n in range(1, 8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_each_death_inside_the_window_waits_twice_as_long_and_counts_the_restarts() -> None:
    record = DeathRecord(policy=POLICY)
    decisions = [record.died(now) for now in (0.0, 1.0, 3.0, 6.0)]
    assert decisions == [
        Restart(delay=0.5, count=1),
        Restart(delay=1.0, count=2),
        Restart(delay=2.0, count=3),
        Restart(delay=4.0, count=4),
    ]


def test_the_fifth_death_within_a_minute_gives_up() -> None:
    record = DeathRecord(policy=POLICY)
    for now in (0.0, 1.0, 3.0, 6.0):
        assert isinstance(record.died(now), Restart)
    assert record.died(59.0) == GiveUp(deaths=5, window=60.0)


def test_deaths_spread_over_more_than_the_window_restart_forever_from_the_first_delay() -> None:
    record = DeathRecord(policy=POLICY)
    decisions = [record.died(minute * 61.0) for minute in range(20)]
    assert decisions[-1] == Restart(delay=0.5, count=20)
    assert all(isinstance(d, Restart) and d.delay == 0.5 for d in decisions)


def test_old_deaths_leave_the_window_and_the_delay_falls_back() -> None:
    record = DeathRecord(policy=POLICY)
    for now in (0.0, 1.0, 2.0, 3.0):
        record.died(now)
    assert record.died(64.0) == Restart(delay=0.5, count=5)  # the four earlier ones expired


def test_a_limit_of_one_gives_up_at_the_first_death() -> None:
    record = DeathRecord(policy=RestartPolicy(limit=1))
    assert record.died(0.0) == GiveUp(deaths=1, window=60.0)
