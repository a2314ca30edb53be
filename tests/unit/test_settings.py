from pathlib import Path

import pytest
from pydantic import ValidationError

from settings import DEFAULT_DATABASE_URL, Settings, env_var_names


def test_defaults_point_at_the_embedded_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in env_var_names():
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.temporal_address == "localhost:7233"
    assert (settings.api_port, settings.temporal_ui_port, settings.postgres_port) == (
        8000,
        8233,
        5433,
    )
    assert not settings.temporal_uses_tls


def test_environment_variables_override_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_API_PORT", "9001")
    monkeypatch.setenv("OMS_TEMPORAL_ADDRESS", "temporal.internal:7233")
    monkeypatch.setenv("OMS_TEMPORAL_API_KEY", "secret-key")
    settings = Settings()
    assert settings.api_port == 9001
    assert settings.temporal_address == "temporal.internal:7233"
    assert settings.temporal_uses_tls
    assert "secret-key" not in repr(settings)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("database_url", "mysql://x@y/z", "postgresql+psycopg://"),
        ("database_url", "postgresql://u@h/d", "postgresql+psycopg://"),
        ("temporal_address", "localhost", "host:port"),
        ("temporal_address", "localhost:99999", "host:port"),
        ("temporal_address", ":7233", "host:port"),
        ("api_port", 0, "greater than or equal to 1"),
        ("api_port", 70000, "less than or equal to 65535"),
        ("temporal_task_queue", "  ", "must not be empty"),
        ("database_pool_size", 0, "greater than or equal to 1"),
    ],
)
def test_invalid_values_are_refused_naming_the_field(
    field: str, value: object, message: str
) -> None:
    with pytest.raises(ValidationError) as error:
        Settings(**{field: value})  # type: ignore[arg-type]
    errors = error.value.errors()
    assert errors[0]["loc"] == (field,)
    assert message in errors[0]["msg"]


def test_a_port_that_is_not_a_number_in_the_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OMS_API_PORT", "eighty")
    with pytest.raises(ValidationError, match="api_port"):
        Settings()


def test_tls_certificate_needs_its_key_and_tls_on(tmp_path: Path) -> None:
    cert = tmp_path / "client.pem"
    with pytest.raises(ValidationError, match="go together"):
        Settings(temporal_tls=True, temporal_tls_cert=cert)
    with pytest.raises(ValidationError, match="needs OMS_TEMPORAL_TLS=true"):
        Settings(temporal_tls_cert=cert, temporal_tls_key=tmp_path / "client.key")
    ok = Settings(temporal_tls=True, temporal_tls_cert=cert, temporal_tls_key=tmp_path / "k")
    assert ok.temporal_uses_tls


def test_env_var_names_are_the_prefixed_field_names() -> None:
    names = env_var_names()
    assert "OMS_DATABASE_URL" in names
    assert "OMS_TEMPORAL_TASK_QUEUE" in names
    assert all(name.startswith("OMS_") for name in names)
    assert len(names) == len(Settings.model_fields)
