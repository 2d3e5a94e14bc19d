"""deploy/k8s: manifests parse, reference only what exists, and wire worker, API, HPA and PDB."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.deploy_support import (
    DEPLOY_README,
    DOCUMENTED_SECRETS,
    K8S,
    K8S_EXAMPLES,
    K8S_README,
    Manifest,
    applied_manifests,
    container,
    contract_search_attributes,
    dockerfile_instructions,
    k8s_readme_search_attributes,
    kustomization,
    manifest_files,
    manifests,
    one,
    pod_spec,
    probe_port,
)

WORKER_LABELS = {"app.kubernetes.io/name": "csflow", "app.kubernetes.io/component": "worker"}
API_LABELS = {"app.kubernetes.io/name": "csflow", "app.kubernetes.io/component": "api"}
SECRET_KEYS = {
    "DATABASE_URL",
    "SENDGRID_API_KEY",
    "TEMPORAL_API_KEY",
    # Read by the API only (domain/settings.py), all optional.
    "CSFLOW_API_TOKENS",
    "CSFLOW_REPLY_SECRET",
    "CSFLOW_SUPPORT_WEBHOOK_SECRET",
    "CSFLOW_INBOUND_USER",
    "CSFLOW_INBOUND_PASSWORD",
    "CSFLOW_INBOUND_PATH_SECRET",
    "SENDGRID_WEBHOOK_PUBLIC_KEY",
    "CSFLOW_CONSOLE_SECRET",
    # Worker and API, the same value, optional: signs one-click unsubscribe links.
    "CSFLOW_UNSUBSCRIBE_SECRET",
}
REQUIRED_SECRET_KEYS = {"DATABASE_URL", "SENDGRID_API_KEY"}
WORKLOAD_KINDS = {"Deployment", "Job", "StatefulSet", "DaemonSet"}


def _workloads(items: list[Manifest]) -> list[Manifest]:
    return [m for m in items if m.kind in WORKLOAD_KINDS]


def _all_manifests() -> list[Manifest]:
    return [m for path in manifest_files() for m in manifests(path)]


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: p.name)
def test_every_manifest_parses_into_named_objects(path: Path) -> None:
    docs = manifests(path)
    assert docs, f"{path.name} is empty"
    for m in docs:
        assert m.doc.get("apiVersion"), f"{m}: no apiVersion"
        assert m.doc.get("kind"), f"{m}: no kind"
        assert m.doc.get("metadata", {}).get("name"), f"{m}: no metadata.name"


def test_kustomization_lists_every_manifest_but_the_examples() -> None:
    resources = kustomization()["resources"]
    assert len(resources) == len(set(resources))
    for resource in resources:
        assert (K8S / resource).is_file(), f"kustomization lists missing {resource}"
    listed = set(resources)
    for example in K8S_EXAMPLES:
        assert (K8S / example).is_file(), f"{example} is documented but missing"
        assert example not in listed, f"{example} is an example and must not be applied"
    assert listed == {p.name for p in manifest_files()} - K8S_EXAMPLES


def test_everything_lands_in_the_csflow_namespace() -> None:
    namespaces = [m for m in applied_manifests() if m.kind == "Namespace"]
    assert [m.name for m in namespaces] == [kustomization()["namespace"]]
    for m in applied_manifests():
        ns = m.doc["metadata"].get("namespace")
        assert ns in (None, kustomization()["namespace"]), f"{m} targets namespace {ns}"


def test_no_secret_is_applied() -> None:
    for m in applied_manifests():
        assert m.kind != "Secret", f"{m}: Secrets are created out of band, never committed"


def test_configmap_carries_the_temporal_connection() -> None:
    data = one("ConfigMap", "csflow-config")["data"]
    assert {"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "CSFLOW_ENV"} <= set(data)
    assert data["CSFLOW_ENV"] == "production"
    assert str(data.get("CSFLOW_METRICS_PORT", "9464")) == "9464"
    for key, value in data.items():
        assert isinstance(value, str), f"ConfigMap value {key} must be a string, got {value!r}"
    assert not SECRET_KEYS & set(data), "secrets belong in csflow-secrets, not the ConfigMap"


def _references(workload: dict[str, Any]) -> tuple[set[str], set[tuple[str, str, bool]]]:
    """ConfigMaps named, and (secret, key or '*', optional) referenced by a pod template."""
    spec = pod_spec(workload)
    config_maps: set[str] = set()
    secrets: set[tuple[str, str, bool]] = set()
    for c in spec.get("initContainers", []) + spec["containers"]:
        for source in c.get("envFrom", []):
            if "configMapRef" in source:
                config_maps.add(source["configMapRef"]["name"])
            if "secretRef" in source:
                ref = source["secretRef"]
                secrets.add((ref["name"], "*", bool(ref.get("optional"))))
        for var in c.get("env", []):
            source = var.get("valueFrom", {})
            if "configMapKeyRef" in source:
                config_maps.add(source["configMapKeyRef"]["name"])
            if "secretKeyRef" in source:
                ref = source["secretKeyRef"]
                secrets.add((ref["name"], ref["key"], bool(ref.get("optional"))))
    for volume in spec.get("volumes", []):
        if "configMap" in volume:
            config_maps.add(volume["configMap"]["name"])
        if "secret" in volume:
            ref = volume["secret"]
            secrets.add((ref["secretName"], "*", bool(ref.get("optional"))))
    return config_maps, secrets


def test_workloads_reference_only_existing_config_maps_and_documented_secrets() -> None:
    config_maps = {m.name for m in applied_manifests() if m.kind == "ConfigMap"}
    example = next(m for m in manifests(K8S / "secret.example.yaml") if m.kind == "Secret")
    example_keys = set(example.doc.get("stringData") or example.doc.get("data") or {})
    assert example.name == "csflow-secrets"
    assert example_keys == SECRET_KEYS
    for m in _workloads(applied_manifests()):
        used_maps, used_secrets = _references(m.doc)
        assert used_maps <= config_maps, f"{m} names unknown ConfigMaps {used_maps - config_maps}"
        for name, key, optional in used_secrets:
            assert name == "csflow-secrets", f"{m} names undocumented Secret {name}"
            assert key in example_keys, f"{m} reads {key} which secret.example.yaml lacks"
            if key not in REQUIRED_SECRET_KEYS:
                assert optional, f"{m}: {key} is optional in the documented Secret"


def test_configmap_key_refs_exist() -> None:
    data = one("ConfigMap", "csflow-config")["data"]
    for m in _workloads(applied_manifests()):
        for c in pod_spec(m.doc)["containers"]:
            for var in c.get("env", []):
                ref = var.get("valueFrom", {}).get("configMapKeyRef")
                if ref:
                    assert ref["key"] in data, f"{m}: {ref['key']} not in csflow-config"


def test_documented_secrets_are_documented() -> None:
    docs = DEPLOY_README.read_text() + K8S_README.read_text()
    for name in DOCUMENTED_SECRETS:
        assert f"`{name}`" in docs, f"Secret {name} is not documented"
    for key in SECRET_KEYS:
        assert f"`{key}`" in K8S_README.read_text()


def test_selectors_match_their_pod_templates() -> None:
    for m in _workloads(applied_manifests()):
        if m.kind == "Job":
            continue
        selector = m.doc["spec"]["selector"]["matchLabels"]
        labels = m.doc["spec"]["template"]["metadata"]["labels"]
        assert selector and _selects(selector, labels), f"{m}: selector does not match template"


def _security(workload: dict[str, Any], name: str) -> None:
    pod = pod_spec(workload).get("securityContext", {})
    c = container(workload, name).get("securityContext", {})
    assert pod.get("runAsNonRoot") is True or c.get("runAsNonRoot") is True
    uid = c.get("runAsUser", pod.get("runAsUser"))
    assert uid is not None and uid != 0
    image_user = next(i for i in dockerfile_instructions() if i.keyword == "USER").args
    assert str(uid) == image_user.split(":")[0], "runAsUser differs from the image's USER"
    assert c.get("allowPrivilegeEscalation") is False
    assert "ALL" in c.get("capabilities", {}).get("drop", [])


def _resources(workload: dict[str, Any], name: str) -> None:
    resources = container(workload, name).get("resources", {})
    assert {"cpu", "memory"} <= set(resources.get("requests", {})), "requests for HPA/scheduling"
    assert "memory" in resources.get("limits", {})


def test_worker_deployment() -> None:
    worker = one("Deployment", "csflow-worker")
    assert worker["spec"]["replicas"] == 2
    assert _selects(WORKER_LABELS, worker["spec"]["template"]["metadata"]["labels"])
    c = container(worker, "worker")
    assert c["image"] == "csflow"
    assert c.get("args") == ["worker"] and "command" not in c, "runs the image's `csflow worker`"
    assert 9464 in [p["containerPort"] for p in c["ports"]]
    for probe in ("readinessProbe", "livenessProbe"):
        spec = c.get(probe)
        assert spec, f"worker has no {probe}"
        if "exec" not in spec:
            assert probe_port(c, spec) == 9464
            assert spec["httpGet"]["path"] == "/metrics"
    _resources(worker, "worker")
    _security(worker, "worker")
    assert pod_spec(worker).get("terminationGracePeriodSeconds", 30) >= 30


def test_api_deployment_and_service() -> None:
    api = one("Deployment", "csflow-api")
    labels = api["spec"]["template"]["metadata"]["labels"]
    assert _selects(API_LABELS, labels)
    c = container(api, "api")
    assert c["image"] == "csflow"
    assert c.get("args") == ["api"] and "command" not in c
    assert 8000 in [p["containerPort"] for p in c["ports"]]
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert probe_port(c, c["readinessProbe"]) == 8000
    assert probe_port(c, c["livenessProbe"]) == 8000
    _resources(api, "api")
    _security(api, "api")

    service = one("Service", "csflow-api")
    selector = service["spec"]["selector"]
    assert _selects(selector, labels)
    worker_labels = one("Deployment", "csflow-worker")["spec"]["template"]["metadata"]["labels"]
    assert not _selects(selector, worker_labels), "the API Service must not select workers"
    for port in service["spec"]["ports"]:
        assert probe_port(c, {"httpGet": {"port": port["targetPort"]}}) == 8000


def test_hpa_scales_the_worker_deployment_on_cpu() -> None:
    hpas = [m for m in applied_manifests() if m.kind == "HorizontalPodAutoscaler"]
    assert len(hpas) == 1
    hpa = hpas[0].doc
    assert hpa["apiVersion"] == "autoscaling/v2"
    target = hpa["spec"]["scaleTargetRef"]
    assert target == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "csflow-worker"}
    assert 2 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    cpu = [
        metric
        for metric in hpa["spec"]["metrics"]
        if metric["type"] == "Resource" and metric["resource"]["name"] == "cpu"
    ]
    assert cpu and cpu[0]["resource"]["target"]["type"] == "Utilization"


def test_pdb_selects_exactly_the_workers() -> None:
    pdbs = [m for m in applied_manifests() if m.kind == "PodDisruptionBudget"]
    assert len(pdbs) == 1
    pdb = pdbs[0].doc
    assert pdb["apiVersion"] == "policy/v1"
    selector = pdb["spec"]["selector"]["matchLabels"]
    worker = one("Deployment", "csflow-worker")
    assert _selects(selector, worker["spec"]["template"]["metadata"]["labels"])
    api = one("Deployment", "csflow-api")
    assert not _selects(selector, api["spec"]["template"]["metadata"]["labels"])
    min_available = pdb["spec"].get("minAvailable")
    assert isinstance(min_available, int) and min_available < worker["spec"]["replicas"], (
        "minAvailable must leave room to evict a worker"
    )


def test_migration_job_runs_the_alembic_upgrade() -> None:
    job = one("Job", "csflow-migrate")
    c = container(job, "migrate")
    assert c["command"] == ["python", "-m", "crm.migrate"]
    _security(job, "migrate")


def test_the_image_name_is_set_by_kustomize() -> None:
    names = {image["name"] for image in kustomization().get("images", [])}
    for m in _workloads(applied_manifests()):
        for c in pod_spec(m.doc)["containers"]:
            assert c["image"] in names, f"{m}: image {c['image']} is not kustomize-managed"


def test_k8s_readme_documents_the_contract_search_attributes() -> None:
    assert k8s_readme_search_attributes() == contract_search_attributes()


def test_mtls_patch_targets_existing_containers_with_real_envconfig_variables() -> None:
    from temporalio.envconfig import ClientConfigProfile

    patch = manifests(K8S / "mtls-patch.example.yaml")
    assert patch
    for m in patch:
        workload = one(m.kind, m.name)
        for c in pod_spec(m.doc)["containers"]:
            container(workload, c["name"])
            env = {v["name"]: v["value"] for v in c["env"]}
            profile = ClientConfigProfile.load(
                disable_file=True, override_env_vars={"TEMPORAL_ADDRESS": "x:7233", **env}
            )
            assert profile.tls is not None
            assert str(profile.tls.client_cert) == env["TEMPORAL_TLS_CLIENT_CERT_PATH"]
            assert str(profile.tls.client_private_key) == env["TEMPORAL_TLS_CLIENT_KEY_PATH"]
            mounts = {v["mountPath"] for v in c["volumeMounts"]}
            assert all(any(p.startswith(f"{mp}/") for mp in mounts) for p in env.values())
        volumes = [v for v in pod_spec(m.doc)["volumes"] if "secret" in v]
        assert {v["secret"]["secretName"] for v in volumes} <= DOCUMENTED_SECRETS


def _kubectl_kustomize(directory: Path) -> str:
    done = subprocess.run(
        ["kubectl", "kustomize", str(directory)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kustomize_builds_with_and_without_the_mtls_patch(tmp_path: Path) -> None:
    import yaml

    built = [d for d in yaml.safe_load_all(_kubectl_kustomize(K8S)) if d]
    assert {(d["kind"], d["metadata"]["name"]) for d in built} == {
        (m.kind, m.name) for m in applied_manifests()
    }
    images = {
        c["image"]
        for d in built
        if d["kind"] in WORKLOAD_KINDS
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert len(images) == 1 and "csflow" in next(iter(images))

    # kustomize loads patches only from inside the overlay's root: build a copy in tmp_path.
    shutil.copytree(K8S, tmp_path / "k8s")
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    shutil.copy(K8S / "mtls-patch.example.yaml", overlay / "mtls-patch.example.yaml")
    (overlay / "kustomization.yaml").write_text(
        "resources:\n  - ../k8s\npatches:\n  - path: mtls-patch.example.yaml\n"
    )
    patched = [d for d in yaml.safe_load_all(_kubectl_kustomize(overlay)) if d]
    for d in patched:
        if d["kind"] == "Deployment":
            spec = d["spec"]["template"]["spec"]
            assert "temporal-tls" in {v["name"] for v in spec["volumes"]}
            env = {v["name"] for v in spec["containers"][0]["env"]}
            assert {"TEMPORAL_TLS_CLIENT_CERT_PATH", "DATABASE_URL"} <= env
