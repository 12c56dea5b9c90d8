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
    assert gaps.overdue(3.5, queued=False) is True


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


def test_a_number_that_may_be_queued_for_the_process_is_not_lost_while_the_backlog_lasts():
    """The process is behind: 12 is in its backlog. However long that lasts, the page is not
    told to resync; once the backlog is gone, 12 has the usual grace to arrive."""
    gaps = detector()
    gaps.seen("b1.orders", 11, 0.0)
    gaps.observe("b1.orders", 12, 0.0)
    assert gaps.overdue(5.0, queued=True) is False
    assert gaps.overdue(30.0, queued=True) is False
    assert gaps.overdue(32.0, queued=False) is False  # the backlog just emptied: grace from 30 s
    gaps.seen("b1.orders", 12, 32.5)
    assert gaps.overdue(60.0, queued=False) is False


def test_a_number_still_missing_after_the_backlog_is_gone_is_a_gap():
    gaps = detector()
    gaps.observe("b1.orders", 12, 0.0)
    assert gaps.overdue(10.0, queued=True) is False
    assert gaps.overdue(13.0, queued=False) is True


def test_a_queued_number_overtaken_by_a_later_one_has_the_grace_period_from_that_arrival():
    """Two publishers may send in the opposite order to the one they drew their numbers in: 13
    arriving first means 12 is no longer queued, and it may still come right after 13."""
    gaps = detector()
    gaps.seen("b1.orders", 11, 0.0)
    gaps.observe("b1.orders", 13, 0.0)
    assert gaps.overdue(10.0, queued=True) is False
    gaps.seen("b1.orders", 13, 20.0)
    assert gaps.overdue(22.0) is False  # 12 may still be right behind 13
    assert gaps.overdue(23.0) is True  # it was dropped: resync, backlog or not


def test_only_the_watch_judges_the_numbers_known_from_the_counter():
    """A stream checks for gaps as each message arrives, without knowing the process's backlog:
    it judges only numbers that a later arrival skipped."""
    gaps = detector()
    gaps.seen("b1.orders", 11, 0.0)
    gaps.observe("b1.orders", 12, 0.0)
    assert gaps.overdue(50.0) is False
    assert gaps.overdue(50.0, queued=False) is True
