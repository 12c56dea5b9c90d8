"""The gap detector: when is a group's message lost, as opposed to late or duplicated."""

from __future__ import annotations

from realtime.gaps import GapDetector


def detector() -> GapDetector:
    gaps = GapDetector(grace=3.0)
    gaps.baseline("b1.orders", 10)
    return gaps


def test_numbers_in_order_are_no_gap():
    gaps = detector()
    for seq, now in ((11, 0.0), (12, 1.0), (13, 2.0)):
        assert gaps.seen("b1.orders", seq, now) is False
    assert gaps.overdue(100.0) is False


def test_a_skipped_number_is_a_gap_once_the_grace_period_is_over():
    gaps = detector()
    gaps.seen("b1.orders", 11, 0.0)
    gaps.seen("b1.orders", 13, 0.0)  # 12 skipped
    assert gaps.overdue(2.9) is False  # it may still be on its way
    assert gaps.overdue(3.0) is True
    assert gaps.overdue(10.0) is False  # reported once


def test_a_late_arrival_within_the_grace_period_is_no_gap():
    gaps = detector()
    gaps.seen("b1.orders", 12, 0.0)
    gaps.seen("b1.orders", 11, 1.0)
    assert gaps.overdue(50.0) is False


def test_a_duplicate_is_no_gap():
    gaps = detector()
    for seq in (11, 12, 12, 11, 13):
        gaps.seen("b1.orders", seq, 0.0)
    assert gaps.overdue(50.0) is False


def test_a_dropped_last_message_is_caught_from_the_layers_current_number():
    gaps = detector()
    gaps.seen("b1.orders", 11, 0.0)
    gaps.observe("b1.orders", 12, 0.0)  # 12 was published; it never arrives
    assert gaps.overdue(3.5) is True


def test_the_current_number_of_a_message_still_on_its_way_is_no_gap():
    gaps = detector()
    gaps.observe("b1.orders", 11, 0.0)
    gaps.seen("b1.orders", 11, 0.5)
    assert gaps.overdue(10.0) is False


def test_a_counter_that_started_again_is_a_new_baseline_not_a_gap():
    gaps = detector()
    gaps.seen("b1.orders", 11, 0.0)
    gaps.observe("b1.orders", 1, 1.0)  # the key expired while the group was idle
    gaps.seen("b1.orders", 2, 2.0)
    assert gaps.overdue(50.0) is False
    gaps.seen("b1.orders", 4, 3.0)
    assert gaps.overdue(50.0) is True


def test_a_huge_jump_is_a_gap_at_once():
    gaps = detector()
    assert gaps.seen("b1.orders", 5000, 0.0) is True
    assert gaps.overdue(0.0) is True


def test_groups_are_independent_and_a_group_left_is_forgotten():
    gaps = detector()
    gaps.baseline("u7", 0)
    gaps.seen("u7", 1, 0.0)
    gaps.seen("b1.orders", 12, 0.0)  # 11 missing
    gaps.forget("b1.orders")
    assert gaps.overdue(50.0) is False
    assert gaps.groups() == ["u7"]


def test_without_a_baseline_the_first_number_is_the_baseline():
    gaps = GapDetector()
    gaps.seen("b2.alerts", 40, 0.0)
    gaps.seen("b2.alerts", 41, 0.0)
    assert gaps.overdue(50.0) is False
    gaps.observe("unknown", 99, 0.0)
    assert gaps.overdue(50.0) is False
