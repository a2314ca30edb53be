import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidInput
from domain.roles import Role
from domain.tenants import validate_tenant_slug


def test_only_viewer_cannot_write() -> None:
    assert {role for role in Role if not role.can_write} == {Role.VIEWER}


@pytest.mark.parametrize("slug", ["demo", "acme-eu", "a", "x1", "a" * 63])
def test_valid_tenant_slugs_pass(slug: str) -> None:
    assert validate_tenant_slug(slug) == slug


@pytest.mark.parametrize("slug", ["", "Demo", "-acme", "acme-", "a b", "a_b", "a" * 64, "ü"])
def test_invalid_tenant_slugs_name_the_field(slug: str) -> None:
    with pytest.raises(InvalidInput) as error:
        validate_tenant_slug(slug)
    assert error.value.field == "tenant"


@given(st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True))
def test_every_lowercase_hyphenated_slug_is_accepted(slug: str) -> None:
    assert validate_tenant_slug(slug) == slug
