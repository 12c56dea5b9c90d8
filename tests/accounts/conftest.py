import pytest

from crm_core.accounts.models import Role
from tests.common.scene import build_scene


@pytest.fixture
def scene(world, personas):
    return build_scene(world, personas)


# --- Administration pages ------------------------------------------------------------------------


@pytest.fixture
def head_admin(world):
    """An administrator at head office: sees and manages every branch."""
    return world.user(
        Role.ADMIN, all_branches=True, username="boss", first_name="Head", last_name="Admin", language="en"
    )


@pytest.fixture
def branch_admin(world):
    """An administrator of branch A only (no all-branches flag)."""
    return world.user(Role.ADMIN, username="cai.admin", first_name="Branch", last_name="Admin")


def signed_in(client, user, language: str | None = None):
    client.force_login(user)
    if language:
        client.cookies["django_language"] = language
    return client


@pytest.fixture
def admin_client(client, head_admin):
    return signed_in(client, head_admin, "en")
