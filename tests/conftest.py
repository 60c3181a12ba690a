import pytest

from hardodt.streams import bundled_electricity


@pytest.fixture(scope="session")
def elec():
    return bundled_electricity()
