from hypothesis import given
from hypothesis import strategies as st

from domain.api_keys import KEY_ID_LENGTH, generate_key, hash_secret, parse_key, secret_matches


def test_generated_key_parses_back_to_its_id_and_matching_secret() -> None:
    new = generate_key()
    parsed = parse_key(new.plaintext)
    assert parsed is not None
    assert parsed.key_id == new.key_id
    assert len(parsed.key_id) == KEY_ID_LENGTH
    assert secret_matches(parsed.secret, new.secret_hash)


def test_only_the_hash_of_the_secret_is_derived_never_the_secret_itself() -> None:
    new = generate_key()
    parsed = parse_key(new.plaintext)
    assert parsed is not None
    assert parsed.secret not in new.secret_hash
    assert new.secret_hash == hash_secret(parsed.secret)


def test_two_generated_keys_differ() -> None:
    assert generate_key().plaintext != generate_key().plaintext


@given(st.text(max_size=80))
def test_arbitrary_text_is_never_mistaken_for_a_valid_key(text: str) -> None:
    parsed = parse_key(text)
    if parsed is not None:
        assert text.startswith("oms_")
        assert len(parsed.key_id) == KEY_ID_LENGTH
        assert not secret_matches(parsed.secret, generate_key().secret_hash)


def test_a_tampered_secret_does_not_match() -> None:
    new = generate_key()
    parsed = parse_key(new.plaintext)
    assert parsed is not None
    assert not secret_matches(parsed.secret + "x", new.secret_hash)


def test_malformed_keys_are_refused() -> None:
    for text in [
        "",
        "oms",
        "oms_",
        "oms_short_secret",
        "xyz_0123456789ab_secret",
        "oms_0123456789ab_",
    ]:
        assert parse_key(text) is None, text
