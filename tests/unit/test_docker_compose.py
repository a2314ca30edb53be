"""docker-compose.yml cannot run here (no Docker engine): check it statically
against the settings, the search attributes and the README."""

import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from settings import Settings, env_var_names
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    return dict(env) if isinstance(env, dict) else dict(item.split("=", 1) for item in env)


def test_every_part_of_the_production_shape_is_there(compose: dict[str, Any]) -> None:
    assert {
        "postgres",
        "temporal",
        "temporal-ui",
        "migrate",
        "schedules",
        "api",
        "worker",
    } <= compose["services"].keys()


def test_two_worker_replicas(compose: dict[str, Any]) -> None:
    assert compose["services"]["worker"]["deploy"]["replicas"] == 2


def test_images_are_pinned(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if "image" in service:
            image = service["image"]
            assert ":" in image and not image.endswith(":latest"), name


def test_service_env_vars_are_settings_the_code_reads(compose: dict[str, Any]) -> None:
    known = env_var_names()
    for name in ("migrate", "schedules", "api", "worker"):
        env = _environment(compose["services"][name])
        oms_vars = {key for key in env if key.startswith("OMS_")}
        assert oms_vars, name
        assert oms_vars <= known, f"{name}: unknown {oms_vars - known}"
        Settings.model_validate(
            {key.removeprefix("OMS_").lower(): value for key, value in env.items()}
        )


def test_ports_match_the_settings_and_the_readme(compose: dict[str, Any]) -> None:
    services = compose["services"]
    readme = (ROOT / "README.md").read_text()
    defaults = Settings()
    expected = {
        "api": f"{defaults.api_port}:8000",
        "temporal": "7233:7233",
        "temporal-ui": f"{defaults.temporal_ui_port}:8080",
    }
    for service, mapping in expected.items():
        assert mapping in services[service]["ports"], service
        assert f"localhost:{mapping.split(':')[0]}" in readme, service


def test_compose_registers_every_search_attribute(compose: dict[str, Any]) -> None:
    script = " ".join(compose["services"]["temporal-setup"]["command"])
    for key in SEARCH_ATTRIBUTES:
        assert key.name in script


def test_the_image_builds_from_files_that_exist() -> None:
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source


def test_temporal_flags_runs_whose_workflow_task_keeps_failing(compose: dict[str, Any]) -> None:
    # The stuck-runs schedule finds such runs by TemporalReportedProblems, which the
    # server sets only with this dynamic config (cli/embedded.py sets it for oms dev).
    from cli.embedded import STUCK_RUN_FLAG

    temporal = compose["services"]["temporal"]
    config_path = _environment(temporal)["DYNAMIC_CONFIG_FILE_PATH"]
    [mount] = [v for v in temporal["volumes"] if v.split(":")[1].endswith(config_path)]
    config = yaml.safe_load((ROOT / mount.split(":")[0]).read_text())
    key, value = STUCK_RUN_FLAG.split("=")
    assert config[key] == [{"value": int(value)}]


def test_the_image_copies_every_package_the_project_installs() -> None:
    # A package left out builds an image whose worker or API fails at import.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = {
        source
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.startswith("COPY ")
        for source in line.split()[1:-1]
    }
    assert packages <= copied, packages - copied


def _settings_of(service: dict[str, Any]) -> Settings:
    env = _environment(service)
    return Settings.model_validate(
        {key.removeprefix("OMS_").lower(): value for key, value in env.items()}
    )


def test_a_one_shot_service_creates_the_schedules_the_workers_serve(
    compose: dict[str, Any],
) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    services = compose["services"]
    schedules, worker = services["schedules"], services["worker"]
    assert schedules["command"] == ["oms", "schedules"]
    assert CliRunner().invoke(app, ["schedules", "--help"]).exit_code == 0
    assert schedules["build"] == worker["build"]  # the worker's image: its definitions
    assert schedules["restart"] == "on-failure"  # until Temporal takes them; then done
    assert schedules["depends_on"]["temporal"]["condition"] == "service_healthy"
    # The schedules start workflows on the task queue the workers poll, in their namespace.
    mine, theirs = _settings_of(schedules), _settings_of(worker)
    for name in ("temporal_address", "temporal_namespace", "temporal_task_queue"):
        assert getattr(mine, name) == getattr(theirs, name), name
