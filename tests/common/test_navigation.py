"""The menu: what each role finds in it, and which item says "you are here"."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from crm_core.accounts.models import Role

pytestmark = pytest.mark.django_db


def _current(html: str) -> list[str]:
    """The menu entries marked as the current page."""
    return re.findall(r'<a class="(?:nav-link|dropdown-item) active" href="([^"]+)" aria-current="page"', html)


def test_the_dispatch_board_is_the_current_page_not_inspections(client, world):
    client.force_login(world.user(Role.DISPATCHER))
    html = client.get(reverse("inspections:board")).content.decode()

    assert _current(html) == [reverse("inspections:board")]
    assert 'data-testid="nav-boards"' in html
    boards_toggle = re.search(r'<a class="nav-link dropdown-toggle( active)?"[^>]*data-testid="nav-boards"', html)
    assert boards_toggle and boards_toggle.group(1) == " active"


def test_an_inspection_page_lights_up_inspections(client, world):
    client.force_login(world.user(Role.DISPATCHER))
    html = client.get(reverse("inspections:list")).content.decode()
    assert _current(html) == [reverse("inspections:list")]


@pytest.mark.parametrize(
    ("role", "boards"),
    [
        (Role.DISPATCHER, {"nav-dispatch-board", "nav-orders-board"}),
        (Role.STOREKEEPER, {"nav-orders-board", "nav-alerts"}),
        (Role.MANAGER, {"nav-dispatch-board", "nav-orders-board", "nav-alerts"}),
        (Role.INSPECTOR, set()),
    ],
)
def test_each_role_finds_the_live_boards_it_may_open(client, world, role, boards):
    client.force_login(world.user(role))
    html = client.get("/").content.decode()
    found = set(re.findall(r'data-testid="(nav-(?:dispatch-board|orders-board|alerts))"', html))
    assert found == boards
    assert ('data-testid="nav-boards"' in html) == bool(boards)
    for testid in found:
        href = re.search(rf'href="([^"]+)"[^>]*data-testid="{testid}"', html).group(1)
        assert client.get(href).status_code == 200
