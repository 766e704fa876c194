"""Reconnect delays: users notice a stream that hammers a restarting server or one that
takes minutes to come back."""

from __future__ import annotations

import pytest

from exchange_server.backoff import Backoff


def test_delays_double_from_the_initial_delay_up_to_the_cap() -> None:
    backoff = Backoff(initial=0.5, factor=2, cap=8, jitter=0)
    assert [backoff.delay(n) for n in range(7)] == [0.5, 1, 2, 4, 8, 8, 8]


def test_jitter_shortens_each_delay_by_at_most_its_fraction() -> None:
    backoff = Backoff(initial=1, factor=2, cap=30, jitter=0.5)
    assert backoff.delay(3, uniform=lambda: 0.0) == 8
    assert backoff.delay(3, uniform=lambda: 0.999999) == pytest.approx(4, abs=1e-5)
    delays = {backoff.delay(3) for _ in range(50)}
    assert len(delays) > 1  # clients restarting together spread out
    assert all(4 <= delay <= 8 for delay in delays)


def test_a_very_long_outage_stays_at_the_cap() -> None:
    assert Backoff(cap=15, jitter=0).delay(10_000) == 15


@pytest.mark.parametrize(
    "options",
    [{"initial": 0}, {"factor": 0.5}, {"cap": 0.1, "initial": 1}, {"jitter": 1.5}],
)
def test_nonsense_settings_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**options)
