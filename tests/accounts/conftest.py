import pytest

from tests.common.scene import build_scene


@pytest.fixture
def scene(world, personas):
    return build_scene(world, personas)
