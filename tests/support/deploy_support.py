"""Loaders shared by the deploy/ tests: compose file, Kubernetes manifests, docs, Dockerfile."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML is a dev dependency: pip install -e '.[dev]'")

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE_FILE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
DEPLOY_README = DEPLOY / "README.md"
K8S_README = K8S / "README.md"
CONTRACTS = REPO_ROOT / "docs" / "contracts.md"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"

# Files under deploy/k8s that are documentation, not part of what `kubectl apply -k` applies.
K8S_EXAMPLES = {"secret.example.yaml", "mtls-patch.example.yaml"}
# Secrets the manifests may name: created out of band and documented, never committed.
DOCUMENTED_SECRETS = {"csflow-secrets", "csflow-temporal-tls"}

SEARCH_ATTRIBUTE_TYPES = ("KeywordList", "Keyword", "Text", "Int", "Double", "Bool", "Datetime")

# `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?err}`, `${NAME?err}`; not `$${...}`.
COMPOSE_VARIABLE = re.compile(
    r"(?<!\$)\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?+])?(?P<rest>[^}]*)\}"
)


@cache
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict), "compose.yaml is not a mapping"
    return data


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return []


def compose_variables() -> list[re.Match[str]]:
    """Every `${VAR}` Compose interpolates: in parsed values and keys, so comments don't count."""
    return [m for s in _strings(compose()) for m in COMPOSE_VARIABLE.finditer(s)]


def unescape_compose(value: str) -> str:
    """What the container sees of a compose string: `$$` is a literal `$`."""
    return value.replace("$$", "$")


@dataclass(frozen=True)
class Manifest:
    path: Path
    doc: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.doc.get("kind"))

    @property
    def name(self) -> str:
        return str(self.doc.get("metadata", {}).get("name"))

    def __repr__(self) -> str:  # readable pytest ids and messages
        return f"{self.path.name}:{self.kind}/{self.name}"


def manifest_files() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


@cache
def kustomization() -> dict[str, Any]:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())


@cache
def _load_manifests(path: Path) -> tuple[Manifest, ...]:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    return tuple(Manifest(path, d) for d in docs)


def manifests(path: Path) -> list[Manifest]:
    return list(_load_manifests(path))


def applied_manifests() -> list[Manifest]:
    """Everything `kubectl apply -k deploy/k8s` creates (the kustomization's resources)."""
    found: list[Manifest] = []
    for resource in kustomization()["resources"]:
        found.extend(manifests(K8S / resource))
    return found


def one(kind: str, name: str) -> dict[str, Any]:
    matches = [m.doc for m in applied_manifests() if m.kind == kind and m.name == name]
    assert len(matches) == 1, f"expected one {kind}/{name} in the kustomization, got {len(matches)}"
    return matches[0]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def container(workload: dict[str, Any], name: str) -> dict[str, Any]:
    by_name = {c["name"]: c for c in pod_spec(workload)["containers"]}
    assert name in by_name, f"no container {name!r} (have {sorted(by_name)})"
    return by_name[name]


def probe_port(c: dict[str, Any], probe: dict[str, Any]) -> int:
    """The container port an httpGet/tcpSocket probe targets (named ports resolved)."""
    handler = probe.get("httpGet") or probe.get("tcpSocket")
    assert handler is not None, f"not an HTTP/TCP probe: {probe}"
    port = handler["port"]
    if isinstance(port, int):
        return port
    named = {p["name"]: p["containerPort"] for p in c.get("ports", []) if "name" in p}
    assert port in named, f"probe port {port!r} names no container port ({named})"
    return int(named[port])


def contract_search_attributes() -> dict[str, str]:
    """`docs/contracts.md`'s search attribute section: name -> type."""
    text = CONTRACTS.read_text()
    heading = re.search(r"^##\s+Search attributes.*$", text, re.MULTILINE)
    assert heading, "docs/contracts.md has no '## Search attributes' section"
    section = text[heading.end() :]
    following = re.search(r"^##\s", section, re.MULTILINE)
    if following:
        section = section[: following.start()]
    types = "|".join(SEARCH_ATTRIBUTE_TYPES)
    found = dict(re.findall(rf"`(\w+)`\s+({types})\b", section))
    assert found, "no `Name` Type pairs in docs/contracts.md's search attribute section"
    return found


def compose_search_attributes() -> dict[str, str]:
    """The NAME=Type pairs the compose registration job creates."""
    env = services()["register-search-attributes"]["environment"]
    pairs = str(env["SEARCH_ATTRIBUTES"]).split()
    return dict(pair.split("=", 1) for pair in pairs)


def k8s_readme_search_attributes() -> dict[str, str]:
    """The `| `Name` | Type |` table rows of deploy/k8s/README.md."""
    types = "|".join(SEARCH_ATTRIBUTE_TYPES)
    return dict(re.findall(rf"^\|\s*`(\w+)`\s*\|\s*({types})\s*\|", K8S_README.read_text(), re.M))


@dataclass(frozen=True)
class Instruction:
    stage: int
    keyword: str
    args: str

    def words(self) -> list[str]:
        return shlex.split(self.args)


def dockerfile_instructions() -> list[Instruction]:
    """Dockerfile instructions with continuations joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    if pending:
        logical.append(pending)
    result: list[Instruction] = []
    stage = -1
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        result.append(Instruction(stage, keyword, args.strip()))
    return result
