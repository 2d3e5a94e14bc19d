"""deploy/compose.yaml: services, wiring, health checks, variables, search attributes."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.deploy_support import (
    COMPOSE_FILE,
    DEPLOY_README,
    REPO_ROOT,
    compose,
    compose_search_attributes,
    compose_variables,
    contract_search_attributes,
    services,
    unescape_compose,
)

APP_SERVICES = ("worker", "api")
ONE_SHOTS = ("register-search-attributes", "migrate")


def _healthcheck(name: str) -> dict[str, object]:
    check = services()[name].get("healthcheck")
    assert check, f"{name} has no healthcheck"
    assert not check.get("disable"), f"{name}'s healthcheck is disabled"
    assert check.get("test"), f"{name}'s healthcheck has no test"
    return check


def _env(name: str) -> dict[str, str]:
    env = services()[name].get("environment") or {}
    assert isinstance(env, dict), f"{name}: write environment as a mapping"
    return {k: "" if v is None else str(v) for k, v in env.items()}


def test_the_expected_services_exist() -> None:
    assert set(services()) >= {
        "postgresql",
        "temporal",
        "temporal-ui",
        "register-search-attributes",
        "migrate",
        "worker",
        "api",
    }


def test_every_service_has_an_image_or_a_build() -> None:
    for name, service in services().items():
        assert service.get("image") or service.get("build"), f"{name}: no image and no build"


def test_depends_on_targets_exist_with_valid_conditions() -> None:
    conditions = {"service_started", "service_healthy", "service_completed_successfully"}
    for name, service in services().items():
        depends = service.get("depends_on") or {}
        assert isinstance(depends, dict), f"{name}: use the long depends_on form with conditions"
        for target, spec in depends.items():
            assert target in services(), f"{name} depends on unknown service {target!r}"
            assert target != name
            condition = spec.get("condition")
            assert condition in conditions, f"{name} -> {target}: condition {condition!r}"
            if condition == "service_healthy":
                _healthcheck(target)
            if condition == "service_completed_successfully":
                assert services()[target].get("restart") in ("no", None), (
                    f"{target} is a one-shot: it must not restart"
                )


def test_start_order_postgres_then_temporal_then_one_shots_then_app() -> None:
    def cond(service: str, target: str) -> str:
        return services()[service]["depends_on"][target]["condition"]

    assert cond("temporal", "postgresql") == "service_healthy"
    assert cond("temporal-ui", "temporal") == "service_healthy"
    assert cond("register-search-attributes", "temporal") == "service_healthy"
    assert cond("migrate", "postgresql") == "service_healthy"
    for app in APP_SERVICES:
        assert cond(app, "temporal") == "service_healthy"
        for job in ONE_SHOTS:
            assert cond(app, job) == "service_completed_successfully", f"{app} -> {job}"


def test_every_variable_has_a_default_or_is_documented() -> None:
    readme = DEPLOY_README.read_text()
    variables = compose_variables()
    assert variables, "compose.yaml uses no ${VAR} at all?"
    for match in variables:
        name, op = match["name"], match["op"]
        has_default = op in (":-", "-")
        assert has_default or f"`{name}`" in readme, (
            f"${{{name}}} has no default and deploy/README.md does not document it"
        )


def test_every_variable_is_listed_in_the_readme_table() -> None:
    """Defaults are not enough for operators: each knob is described too."""
    readme = DEPLOY_README.read_text()
    for name in {m["name"] for m in compose_variables()}:
        assert f"| `{name}` |" in readme, f"deploy/README.md's variable table lacks {name}"


def test_postgresql_is_16_with_a_healthcheck_and_a_volume() -> None:
    pg = services()["postgresql"]
    assert pg["image"].split(":")[0] == "postgres"
    assert pg["image"].split(":")[1].startswith("16")
    assert "pg_isready" in str(_healthcheck("postgresql")["test"])
    assert any(str(v).endswith(":/var/lib/postgresql/data") for v in pg.get("volumes", []))
    for volume in pg.get("volumes", []):
        source = str(volume).split(":")[0]
        if not source.startswith((".", "/")):
            assert source in (compose().get("volumes") or {}), f"undeclared volume {source}"


def test_temporal_auto_setup_is_wired_to_postgresql() -> None:
    temporal = services()["temporal"]
    assert temporal["image"].startswith("temporalio/auto-setup:")
    env = _env("temporal")
    pg_env = _env("postgresql")
    assert env["DB"] == "postgres12"
    assert env["DB_PORT"] == "5432"
    assert env["POSTGRES_SEEDS"] == "postgresql"
    assert env["POSTGRES_USER"] == pg_env["POSTGRES_USER"]
    assert env["POSTGRES_PWD"] == pg_env["POSTGRES_PASSWORD"]
    assert env["DEFAULT_NAMESPACE"] == _env("worker")["TEMPORAL_NAMESPACE"]
    assert any(str(p).endswith(":7233") for p in temporal.get("ports", []))
    assert "temporal:7233" in str(_healthcheck("temporal")["test"])


def test_web_ui_points_at_temporal() -> None:
    ui = services()["temporal-ui"]
    assert ui["image"].startswith("temporalio/ui:")
    assert _env("temporal-ui")["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert any(str(p).endswith(":8080") for p in ui.get("ports", []))


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_share_the_image_and_the_environment(name: str) -> None:
    service = services()[name]
    build = service["build"]
    context = (COMPOSE_FILE.parent / build["context"]).resolve()
    assert context == REPO_ROOT
    assert (context / build["dockerfile"]).resolve() == REPO_ROOT / "deploy" / "Dockerfile"
    env = _env(name)
    assert env["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert env["TEMPORAL_NAMESPACE"]
    url = urlsplit(env["DATABASE_URL"])
    assert url.scheme == "postgresql+psycopg"
    assert url.hostname == "postgresql" and url.port == 5432
    assert env["SENDGRID_API_KEY"] == "${SENDGRID_API_KEY:-}"
    assert env["CSFLOW_ENV"] == "production"
    assert env["CSFLOW_METRICS_PORT"] == "9464"
    # An empty TEMPORAL_API_KEY or TEMPORAL_TLS would switch the client to TLS: never pass them.
    assert "TEMPORAL_API_KEY" not in env and "TEMPORAL_TLS" not in env


def test_the_migration_job_uses_the_same_database() -> None:
    assert _env("migrate")["DATABASE_URL"] == _env("worker")["DATABASE_URL"]
    assert services()["migrate"]["entrypoint"] == ["python", "-m", "crm.migrate"]
    assert (REPO_ROOT / "crm" / "migrate.py").exists()


def test_worker_runs_two_replicas_with_a_metrics_healthcheck() -> None:
    worker = services()["worker"]
    assert worker["command"] == ["worker"]
    assert worker["deploy"]["replicas"] == 2
    assert "container_name" not in worker, "container_name prevents replicas"
    assert not worker.get("ports"), "fixed host ports prevent replicas"
    assert "9464/metrics" in str(_healthcheck("worker")["test"])


def test_api_serves_port_8000_with_a_readiness_healthcheck() -> None:
    api = services()["api"]
    assert api["command"] == ["api"]
    assert any(str(p).endswith(":8000") for p in api["ports"])
    assert "8000/readyz" in str(_healthcheck("api")["test"])


def test_search_attributes_registered_are_the_contract() -> None:
    assert compose_search_attributes() == contract_search_attributes()


def test_search_attributes_registered_are_the_workflow_keys() -> None:
    if not (REPO_ROOT / "workflows" / "search_attributes.py").exists():
        pytest.skip("workflows/search_attributes.py does not exist yet")
    from temporalio.common import SearchAttributeKey

    import workflows.search_attributes as module

    keys = {
        value.name: value.indexed_value_type
        for value in vars(module).values()
        if isinstance(value, SearchAttributeKey)
    }
    assert keys, "workflows/search_attributes.py defines no SearchAttributeKey"
    declared = _declared_types()
    assert declared == keys


def _declared_types() -> dict[str, int]:
    return {name: _indexed_value_type(kind) for name, kind in compose_search_attributes().items()}


def _indexed_value_type(kind: str) -> int:
    from temporalio.api.enums.v1 import IndexedValueType

    return IndexedValueType.Value(
        "INDEXED_VALUE_TYPE_" + {"KeywordList": "KEYWORD_LIST"}.get(kind, kind.upper())
    )


def test_search_attributes_registered_match_the_worker_setup() -> None:
    from starter.worker_process import SEARCH_ATTRIBUTES

    assert _declared_types() == dict(SEARCH_ATTRIBUTES)


FAKE_TEMPORAL_CLI = """\
#!/bin/sh
# Stand-in for `temporal operator search-attribute list|create`, state in $FAKE_STATE.
touch "$FAKE_STATE"
echo "$*" >> "$FAKE_STATE.calls"
case "$3" in
  list) echo "Name Type"; cat "$FAKE_STATE" ;;
  create)
    name=""; type=""
    while [ $# -gt 0 ]; do
      case "$1" in --name) name="$2"; shift ;; --type) type="$2"; shift ;; esac
      shift
    done
    if grep -qw "$name" "$FAKE_STATE"; then echo "already exists" >&2; exit 1; fi
    echo "$name $type" >> "$FAKE_STATE" ;;
  *) exit 2 ;;
esac
"""


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_registration_script_creates_missing_attributes_once(tmp_path: Path) -> None:
    """Runs the job's shell script (as the container would see it) against a fake CLI, twice."""
    service = services()["register-search-attributes"]
    assert service["image"].startswith("temporalio/admin-tools:")
    assert service["entrypoint"] == ["/bin/sh", "-c"]
    script = unescape_compose(service["command"][0])
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "temporal"
    fake.write_text(FAKE_TEMPORAL_CLI)
    fake.chmod(0o755)
    state = tmp_path / "attributes"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "FAKE_STATE": str(state),
        "TEMPORAL_ADDRESS": "temporal:7233",
        "TEMPORAL_NAMESPACE": "default",
        "SEARCH_ATTRIBUTES": _env("register-search-attributes")["SEARCH_ATTRIBUTES"],
    }
    for _ in range(2):
        done = subprocess.run(
            ["sh", "-c", script], env=env, capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0, textwrap.indent(done.stdout + done.stderr, "  ")
    registered = dict(line.split() for line in state.read_text().splitlines())
    assert registered == contract_search_attributes()
    creates = [c for c in Path(f"{state}.calls").read_text().splitlines() if " create " in c]
    assert len(creates) == len(registered), "the second run created attributes again"
    assert all("--namespace default" in c and "--address temporal:7233" in c for c in creates)
