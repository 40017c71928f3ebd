"""Fixtures of the privacy tests: users created through the real service (tests/users)."""

from tests.users.conftest import make_user  # noqa: F401 - the fixture
