"""deploy/README.md and deploy/k8s/README.md document real settings and the required topics."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from temporalio.envconfig import ClientConfigProfile

from tests.support.deploy_support import (
    DEPLOY_README,
    K8S_README,
    compose_variables,
    contract_search_attributes,
    services,
)

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def _readmes() -> str:
    return DEPLOY_README.read_text() + "\n" + K8S_README.read_text()


def _documented_temporal_variables() -> set[str]:
    """TEMPORAL_* names the READMEs mention, minus compose's own knobs (image tags, ports)."""
    names = set(re.findall(r"\bTEMPORAL_[A-Z0-9_]*[A-Z0-9]", _readmes()))
    app_environment = set(services()["worker"]["environment"])
    names -= {m["name"] for m in compose_variables()} - app_environment
    return names - {"TEMPORAL_GRPC_META"}  # the prefix, checked on its own


def _load(env: dict[str, str], tmp_path: Path) -> ClientConfigProfile:
    # An empty config directory: no ~/.config/temporalio/temporal.toml leaks into the test.
    return ClientConfigProfile.load(
        override_env_vars={"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path), **env}
    )


def _sample(name: str, tmp_path: Path) -> dict[str, str]:
    if name == "TEMPORAL_CONFIG_FILE":
        config = tmp_path / "temporal.toml"
        config.write_text('[profile.default]\naddress = "from-file:7233"\n')
        return {name: str(config)}
    if name == "TEMPORAL_PROFILE":
        config = tmp_path / "profiles.toml"
        config.write_text(
            '[profile.default]\naddress = "a:7233"\n[profile.other]\naddress = "b:7233"\n'
        )
        return {"TEMPORAL_CONFIG_FILE": str(config), name: "other"}
    if name in ("TEMPORAL_TLS", "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION"):
        return {name: "true"}
    if name.endswith("_DATA"):
        return {name: PEM}
    if name.endswith("_PATH"):
        return {name: str(tmp_path / "file.pem")}
    return {name: "sample-value"}


def test_documented_temporal_variables_are_read_by_the_sdk(tmp_path: Path) -> None:
    names = _documented_temporal_variables()
    assert {"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY"} <= names
    assert {"TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_TLS_CLIENT_KEY_PATH"} <= names
    baseline = _load({}, tmp_path)
    for name in sorted(names):
        env = _sample(name, tmp_path)
        if name == "TEMPORAL_PROFILE":
            base = _load({"TEMPORAL_CONFIG_FILE": env["TEMPORAL_CONFIG_FILE"]}, tmp_path)
            assert _load(env, tmp_path) != base, f"{name} has no effect"
            continue
        assert _load(env, tmp_path) != baseline, f"{name} is documented but the SDK ignores it"


def test_grpc_meta_prefix_is_real(tmp_path: Path) -> None:
    assert "TEMPORAL_GRPC_META_" in _readmes()
    profile = _load({"TEMPORAL_GRPC_META_X_TENANT": "acme"}, tmp_path)
    assert dict(profile.grpc_meta) == {"x-tenant": "acme"}


def test_empty_api_key_turns_tls_on_as_documented(tmp_path: Path) -> None:
    config = _load({"TEMPORAL_ADDRESS": "t:7233", "TEMPORAL_API_KEY": ""}, tmp_path)
    assert config.to_client_connect_config().get("tls"), "the README warning is stale"
    assert "empty" in DEPLOY_README.read_text().lower()


def test_toml_profile_example_loads_strictly(tmp_path: Path) -> None:
    blocks = re.findall(r"```toml\n(.*?)```", DEPLOY_README.read_text(), re.DOTALL)
    assert blocks, "deploy/README.md has no TOML profile example"
    config = tmp_path / "temporal.toml"
    config.write_text(blocks[0])
    profile = ClientConfigProfile.load(
        profile="cloud", config_source=config, config_file_strict=True, disable_env=True
    )
    assert profile.address and profile.namespace
    assert profile.tls is not None and profile.tls.client_cert and profile.tls.client_private_key


@pytest.mark.parametrize(
    "topic",
    [
        "docker build -f deploy/Dockerfile -t csflow .",
        "docker compose -f deploy/compose.yaml up",
        "temporal operator search-attribute create",
        "workflow.patched",
        "workflow.deprecate_patch",
        "Replayer",
        "replay",
        "Worker Versioning",
        "pg_dump",
        "temporal_visibility",
        "TEMPORAL_API_KEY",
        "TEMPORAL_TLS_CLIENT_CERT_PATH",
        "TEMPORAL_CONFIG_FILE",
        "TEMPORAL_PROFILE",
        "--scale worker=",
        "HorizontalPodAutoscaler",
    ],
)
def test_readme_covers(topic: str) -> None:
    assert topic in _readmes(), f"the deploy READMEs do not mention {topic!r}"


def test_backups_cover_the_temporal_and_csflow_databases() -> None:
    text = DEPLOY_README.read_text()
    loop = re.search(r"for db in ([\w ]+); do\s+docker compose .*?pg_dump", text, re.DOTALL)
    assert loop, "no pg_dump loop over the databases"
    assert set(loop[1].split()) == {"temporal", "temporal_visibility", "csflow"}


def test_readme_names_the_contract_search_attributes() -> None:
    text = DEPLOY_README.read_text()
    for name, kind in contract_search_attributes().items():
        assert re.search(rf"`{name}`\s+{kind}\b", text), f"deploy/README.md lacks `{name}` {kind}"
