"""Channel names and gap detection: a typo must fail at the call, and a lost message must
never leave a panel showing a state the exchange does not have."""

from __future__ import annotations

import pytest

from workstation.client.channels import SequenceTracker, Verdict, channel_name


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (("quote", "RELIANCE"), "quote:RELIANCE"),
        (("ticker", "TCS"), "ticker:TCS"),
        (("trades", "TCS"), "trades:TCS"),
        (("depth", "TCS"), "depth:TCS:5"),
        (("depth", "TCS", 20), "depth:TCS:20"),
        (("candles.1m", "INFY"), "candles.1m:INFY"),
        (("orders",), "orders"),
        (("balances",), "balances"),
    ],
)
def test_channel_names_match_the_servers(args: tuple[str, ...], name: str) -> None:
    assert channel_name(*args) == name  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "args",
    [
        ("quotes", "TCS"),  # no such channel
        ("quote",),  # needs a symbol
        ("orders", "TCS"),  # private channels are per account
        ("depth", "TCS", 7),  # 5 or 20 only
        ("quote", "TCS", 5),
        ("candles", "TCS"),  # needs an interval
        ("candles.2m", "TCS"),
        ("quote.1m", "TCS"),
    ],
)
def test_subscriptions_the_protocol_lacks_are_refused(args: tuple[object, ...]) -> None:
    with pytest.raises(ValueError):
        channel_name(*args)  # type: ignore[arg-type]


def test_updates_in_order_after_a_snapshot_are_delivered() -> None:
    tracker = SequenceTracker()
    assert tracker.accept("snapshot", 1) is Verdict.DELIVER
    assert [tracker.accept("update", seq) for seq in (2, 3, 4)] == [Verdict.DELIVER] * 3
    assert tracker.last == 4


def test_a_skipped_number_is_a_gap_and_later_updates_wait_for_a_new_snapshot() -> None:
    tracker = SequenceTracker()
    tracker.accept("snapshot", 1)
    assert tracker.accept("update", 3) is Verdict.GAP
    assert not tracker.synced
    assert tracker.accept("update", 4) is Verdict.DROP  # built on state we do not have
    assert tracker.accept("snapshot", 9) is Verdict.DELIVER  # the resubscription's
    assert tracker.accept("update", 10) is Verdict.DELIVER


def test_updates_before_the_first_snapshot_and_duplicates_are_dropped() -> None:
    tracker = SequenceTracker()
    assert tracker.accept("update", 5) is Verdict.DROP
    tracker.accept("snapshot", 1)
    tracker.accept("update", 2)
    assert tracker.accept("update", 2) is Verdict.DROP
    assert tracker.accept("update", 1) is Verdict.DROP
    assert tracker.accept("update", 3) is Verdict.DELIVER


def test_reset_waits_for_a_snapshot_again() -> None:
    tracker = SequenceTracker()
    tracker.accept("snapshot", 1)
    tracker.reset()
    assert tracker.accept("update", 2) is Verdict.DROP
