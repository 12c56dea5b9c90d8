"""Fixtures for the inspection services: a dispatcher, two inspectors and a customer in
branch A, an inspector and a customer in branch B, and a one-call way to book a visit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from crm_core.accounts.models import Role, User
from crm_core.customers.models import Customer
from crm_core.inspections.models import Inspection
from crm_core.inspections.services import inspection_schedule
from tests.factories import CustomerFactory, slot


@dataclass
class Crew:
    dispatcher: User
    inspector: User
    inspector2: User
    inspector_b: User
    customer: Customer
    customer_b: Customer


@pytest.fixture
def crew(world) -> Crew:
    return Crew(
        dispatcher=world.user(Role.DISPATCHER, username="dispatcher_a"),
        inspector=world.user(Role.INSPECTOR, username="inspector_a"),
        inspector2=world.user(Role.INSPECTOR, username="inspector_a2"),
        inspector_b=world.user(Role.INSPECTOR, branch=world.branch_b, username="inspector_b"),
        customer=CustomerFactory(branch=world.branch_a, address="١٢ شارع التحرير، الدقي"),
        customer_b=CustomerFactory(branch=world.branch_b, address="٥ طريق الكورنيش"),
    )


@pytest.fixture
def book(crew: Crew, django_capture_on_commit_callbacks) -> Callable[..., Inspection]:
    """Book a visit through the service (events delivered), ``hours`` from now."""

    def _book(hours: float = 24, length: float = 1, *, inspector: User | bool | None = True, **kwargs) -> Inspection:
        start, end = slot(hours, length)
        who = crew.inspector if inspector is True else inspector
        with django_capture_on_commit_callbacks(execute=True):
            return inspection_schedule(
                actor=kwargs.pop("actor", crew.dispatcher),
                customer=kwargs.pop("customer", crew.customer),
                scheduled_start=start,
                scheduled_end=end,
                inspector=who or None,
                **kwargs,
            )

    return _book


# --- Fixtures for the page (view) tests ------------------------------------------------------------


def local_at(day_offset: int, hour: int, minute: int = 0):
    """An aware local time ``day_offset`` days from today: page tests book whole slots by the clock."""
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    day = timezone.localdate() + timedelta(days=day_offset)
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


@pytest.fixture
def visit(crew: Crew, django_capture_on_commit_callbacks) -> Callable[..., Inspection]:
    """Book a visit through the service at a local clock time: ``visit(1, 9)`` is tomorrow 09:00."""
    from datetime import timedelta

    def _visit(
        day_offset: int = 1,
        hour: int = 9,
        minutes: int = 60,
        *,
        inspector: User | bool | None = True,
        customer: Customer | None = None,
        actor: User | None = None,
    ) -> Inspection:
        start = local_at(day_offset, hour)
        who = crew.inspector if inspector is True else inspector
        with django_capture_on_commit_callbacks(execute=True):
            return inspection_schedule(
                actor=actor or crew.dispatcher,
                customer=customer or crew.customer,
                scheduled_start=start,
                scheduled_end=start + timedelta(minutes=minutes),
                inspector=who or None,
            )

    return _visit


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def client(client, settings):
    """Pages in English, the source language, so assertions on their text hold whatever the
    Arabic catalogue says; tests of the Arabic rendering ask for it explicitly."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client
