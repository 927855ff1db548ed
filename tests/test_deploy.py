"""The deployment files: they parse, reference files that exist, and say what the docs promise.

No docker daemon, no cluster, no network: the files are read as YAML/text, and the configs the
containers would see are rebuilt in a temporary directory (as the mounts would lay them out) and
loaded with the service's own loaders.
"""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from monitor import config as config_module
from monitor.config import load_config, parse_listen
from monitor.metrics import REGISTRY, StoreCollector
from monitor.rules.loader import load_rules
from monitor.store import open_store
from monitor.stories.events import EventSettings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "kubernetes"
COMPOSE = DEPLOY / "docker-compose.yml"
UNIT = DEPLOY / "systemd" / "monitor.service"
EXAMPLE = DEPLOY / "monitor.example.yaml"
DOCKERFILE = ROOT / "Dockerfile"
METRICS_PORT = 9108


def load_yaml(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def load_all(path: Path) -> list[Any]:
    return [d for d in YAML(typ="safe", pure=True).load_all(path.read_text(encoding="utf-8")) if d is not None]


def all_config_keys() -> Iterator[str]:
    """Every key the config file accepts, as `key` or `section.key`."""
    yield from config_module.TOP_KEYS
    for section, keys in (
        ("slack", config_module.SLACK_KEYS),
        ("metrics", config_module.METRICS_KEYS),
        ("http", config_module.HTTP_KEYS),
        ("extract", config_module.EXTRACT_KEYS),
    ):
        yield from (f"{section}.{key}" for key in keys)


def copy_rules(target: Path) -> None:
    shutil.copytree(ROOT / "rules", target)


# The example config -----------------------------------------------------------------------------


def test_example_config_loads_with_the_repository_rules_and_feeds() -> None:
    config = load_config(EXAMPLE, env={})
    assert config.rules.resolve() == (ROOT / "rules").resolve()
    assert config.feeds_path is not None and config.feeds_path.resolve() == (DEPLOY / "feeds.example.yaml").resolve()
    assert config.feeds, "the example's feeds file gave no feeds"
    assert load_rules(config.rules).rules
    assert config.defaults_used == ()


def test_example_config_sets_every_key() -> None:
    data = load_yaml(EXAMPLE)
    missing = []
    for key in all_config_keys():
        section, _, name = key.rpartition(".")
        holder = data.get(section) if section else data
        if not isinstance(holder, dict) or name not in holder:
            missing.append(key)
    assert not missing, f"deploy/monitor.example.yaml lacks {missing}"


def test_example_config_groups_stories_with_the_measured_constants() -> None:
    # A deployment that copies the example must group reports as docs/benchmarks.md measured, not by the
    # constants of an earlier release.
    config = load_config(EXAMPLE, env={})
    assert config.stories.events == EventSettings()


def test_configuration_doc_names_every_key_and_env_override() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = [key for key in all_config_keys() if f"`{key}`" not in text]
    assert not missing, f"docs/configuration.md does not document {missing}"
    for name in ("REDIS_URL", "SLACK_BOT_TOKEN", "SLACK_WEBHOOK_URL", "SLACK_API_URL", "MONITOR_CONFIG"):
        assert name in text


def test_operations_doc_lists_every_metric() -> None:
    names = set()
    for family in REGISTRY.collect():
        names.add(f"{family.name}_total" if family.type == "counter" else family.name)
    store = open_store("memory:")
    try:
        names |= {family.name for family in StoreCollector(store).collect()}
    finally:
        store.close()
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    missing = sorted(n for n in names if n not in text)
    assert not missing, f"docs/operations.md does not list {missing}"


# The Dockerfile -----------------------------------------------------------------------------------


def dockerfile_lines() -> list[str]:
    """Instructions with their continuation lines joined."""
    joined, current = [], ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("#") and not current:
            continue
        current += line.rstrip("\\").rstrip() + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            if current.strip():
                joined.append(current.strip())
            current = ""
    return joined


def dockerfile_copies() -> list[tuple[list[str], str]]:
    copies = []
    for line in dockerfile_lines():
        words = shlex.split(line)
        if words[0].upper() == "COPY" and not any(w.startswith("--from") for w in words):
            args = [w for w in words[1:] if not w.startswith("--")]
            copies.append((args[:-1], args[-1]))
    return copies


def test_dockerfile_copies_files_that_exist_and_are_not_dockerignored() -> None:
    ignored = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    copies = dockerfile_copies()
    assert copies
    for sources, _ in copies:
        for source in sources:
            assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"
            assert source not in ignored and source.split("/")[0] not in ignored, f"{source} is in .dockerignore"


def image_config_text() -> str:
    """The config the Dockerfile writes to /etc/monitor/monitor.yaml (RUN printf '%s\\n' 'line' ...)."""
    for line in dockerfile_lines():
        if line.startswith("RUN printf") and "/etc/monitor/monitor.yaml" in line:
            words = shlex.split(line.removeprefix("RUN "))
            return "\n".join(words[2 : words.index(">")]) + "\n"
    raise AssertionError("the Dockerfile writes no /etc/monitor/monitor.yaml")


def test_image_config_loads_in_the_image_layout(tmp_path: Path) -> None:
    etc = tmp_path / "etc" / "monitor"
    targets = {target: sources for sources, target in dockerfile_copies()}
    assert targets["/etc/monitor/rules"] == ["rules"]
    etc.mkdir(parents=True)
    copy_rules(etc / "rules")
    shutil.copy(ROOT / targets["/etc/monitor/feeds.yaml"][0], etc / "feeds.yaml")
    (etc / "monitor.yaml").write_text(image_config_text(), encoding="utf-8")
    config = load_config(etc / "monitor.yaml", env={})
    assert config.rules == etc / "rules"
    assert config.feeds_path == etc / "feeds.yaml" and config.feeds
    assert load_rules(config.rules).rules
    # The store must be writable by the non-root user: its home, not /etc/monitor.
    assert config.store == "sqlite:/var/lib/monitor/monitor.db"
    # Probes and Prometheus reach the metrics from outside the container, on the exposed port.
    assert config.metrics_listen == ("0.0.0.0", METRICS_PORT)
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert f"EXPOSE {METRICS_PORT}" in text
    assert f"127.0.0.1:{METRICS_PORT}/healthz" in text
    assert "ENV MONITOR_CONFIG=/etc/monitor/monitor.yaml" in text
    assert re.search(r"^USER (?!root)\w+", text, re.M)


# docker compose ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> Any:
    return load_yaml(COMPOSE)


def test_compose_runs_monitor_and_redis_with_aof(compose: Any) -> None:
    services = compose["services"]
    assert {"monitor", "redis"} <= set(services)
    redis = services["redis"]
    assert re.match(r"redis:(7|8)", redis["image"])
    command = " ".join(redis["command"]) if isinstance(redis["command"], list) else redis["command"]
    assert "--appendonly yes" in command
    assert re.search(r"--appendfsync (everysec|always)", command)
    data = [v for v in redis["volumes"] if v.split(":")[1] == "/data"]
    assert data, "redis keeps its AOF in /data: it needs a volume there"
    assert data[0].split(":")[0] in compose["volumes"], "the redis volume is not a declared named volume"
    assert "healthcheck" in redis


def test_compose_monitor_mounts_config_and_rules_read_only(compose: Any) -> None:
    monitor = compose["services"]["monitor"]
    config_path = monitor["environment"]["MONITOR_CONFIG"]
    assert any(c["target"] == config_path and c["source"] in compose["configs"] for c in monitor["configs"])
    mounts = {}
    for volume in monitor["volumes"]:
        source, target, mode = volume.split(":")
        assert mode == "ro", f"{volume} is not read-only"
        mounts[target] = source
        assert (COMPOSE.parent / source).exists(), f"compose mounts {source}, which does not exist"
    assert "/etc/monitor/rules" in mounts
    build = monitor["build"]
    assert (COMPOSE.parent / build["context"] / build["dockerfile"]).is_file()
    for env_file in monitor.get("env_file", []):
        assert env_file["required"] is False or (COMPOSE.parent / env_file["path"]).exists()


def test_compose_config_loads_in_the_container_layout(compose: Any, tmp_path: Path) -> None:
    monitor = compose["services"]["monitor"]
    etc = tmp_path / "etc" / "monitor"
    etc.mkdir(parents=True)
    for volume in monitor["volumes"]:
        source, target, _ = volume.split(":")
        local = etc / Path(target).relative_to("/etc/monitor")
        if (COMPOSE.parent / source).is_dir():
            shutil.copytree(COMPOSE.parent / source, local)
        else:
            shutil.copy(COMPOSE.parent / source, local)
    (etc / "monitor.yaml").write_text(compose["configs"]["monitor_config"]["content"], encoding="utf-8")
    config = load_config(etc / "monitor.yaml", env={"REDIS_URL": monitor["environment"]["REDIS_URL"]})
    assert config.rules == etc / "rules" and load_rules(config.rules).rules
    assert config.feeds_path == etc / "feeds.yaml" and config.feeds
    assert config.store.startswith("redis://redis:")
    assert config.metrics_listen == ("0.0.0.0", METRICS_PORT)
    healthcheck = " ".join(monitor["healthcheck"]["test"])
    assert f":{METRICS_PORT}/healthz" in healthcheck
    grace = int(monitor["stop_grace_period"].removesuffix("s"))
    assert timedelta(seconds=grace) > config.shutdown_grace


def test_compose_monitor_can_be_scaled(compose: Any) -> None:
    monitor = compose["services"]["monitor"]
    assert "container_name" not in monitor, "a fixed container_name breaks --scale monitor=N"
    for port in monitor.get("ports", []):
        if isinstance(port, dict):
            assert "published" not in port or "-" in str(port["published"])
        else:
            parts = str(port).split(":")
            assert len(parts) == 1 or parts[-2] == "" or "-" in parts[-2], f"port {port} binds one host port"


# systemd -------------------------------------------------------------------------------------------


def unit_settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def test_systemd_unit_is_hardened() -> None:
    unit = unit_settings()
    expected = {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "Restart": "on-failure",
        "CapabilityBoundingSet": "",
        "StateDirectory": "monitor",
    }
    for key, value in expected.items():
        assert unit.get(key) == [value], f"{key}={value} expected, got {unit.get(key)}"
    assert unit.get("DynamicUser") == ["yes"] or unit.get("User", ["root"]) != ["root"]
    assert set(unit["RestrictAddressFamilies"][0].split()) == {"AF_INET", "AF_INET6", "AF_UNIX"}
    assert "@system-service" in unit["SystemCallFilter"]


def test_systemd_unit_runs_reloads_and_stops_the_service() -> None:
    unit = unit_settings()
    command = shlex.split(unit["ExecStart"][0])
    assert command[1] == "run" and command[0].endswith("/monitor")
    assert "-HUP" in unit["ExecReload"][0] and "$MAINPID" in unit["ExecReload"][0]
    stop = int(unit["TimeoutStopSec"][0].removesuffix("s"))
    assert timedelta(seconds=stop) > config_module.Config().shutdown_grace
    assert unit["EnvironmentFile"][0].lstrip("-").startswith("/")
    # The state directory is where an sqlite: store with a relative path, or the working directory, lands.
    assert unit["WorkingDirectory"] == [f"/var/lib/{unit['StateDirectory'][0]}"]


# Kubernetes ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def manifests() -> dict[tuple[str, str], Any]:
    found = {}
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in load_all(path):
            assert {"apiVersion", "kind", "metadata"} <= set(doc), f"{path.name} is not a Kubernetes object"
            assert "namespace" not in doc["metadata"], f"{path.name} fixes a namespace"
            found[(doc["kind"], doc["metadata"]["name"])] = doc
    return found


def pod_spec(manifests: dict[tuple[str, str], Any]) -> Any:
    return manifests[("Deployment", "monitor")]["spec"]["template"]["spec"]


def container(manifests: dict[tuple[str, str], Any]) -> Any:
    containers = pod_spec(manifests)["containers"]
    assert len(containers) == 1
    return containers[0]


def test_kustomization_lists_existing_manifests_but_not_the_secret_example() -> None:
    resources = load_yaml(K8S / "kustomization.yaml")["resources"]
    for resource in resources:
        assert (K8S / resource).is_file()
    assert "secret.example.yaml" not in resources
    assert {"deployment.yaml", "service.yaml", "configmap.yaml", "configmap-rules.yaml"} <= set(resources)


def test_deployment_probes_hit_health_endpoints_on_the_metrics_port(manifests: dict[tuple[str, str], Any]) -> None:
    deployment = manifests[("Deployment", "monitor")]
    assert deployment["spec"]["replicas"] >= 2
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    main = container(manifests)
    ports = {p["name"]: p["containerPort"] for p in main["ports"]}
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = main[probe]["httpGet"]
        assert get["path"] == path
        port = ports[get["port"]] if isinstance(get["port"], str) else get["port"]
        assert port == METRICS_PORT


def test_metrics_service_selects_the_pods_and_targets_the_metrics_port(manifests: dict[tuple[str, str], Any]) -> None:
    service = manifests[("Service", "monitor-metrics")]
    labels = manifests[("Deployment", "monitor")]["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    names = {p["name"] for p in container(manifests)["ports"]}
    for port in service["spec"]["ports"]:
        assert port["targetPort"] in names or port["targetPort"] == METRICS_PORT


def test_deployment_secret_references_exist(manifests: dict[tuple[str, str], Any]) -> None:
    refs = [
        env["valueFrom"]["secretKeyRef"]
        for env in container(manifests)["env"]
        if "secretKeyRef" in env.get("valueFrom", {})
    ]
    assert refs, "the Slack token should come from a Secret"
    for ref in refs:
        secret = manifests[("Secret", ref["name"])]
        assert ref["key"] in secret.get("stringData", {}) | secret.get("data", {})
    token = manifests[("Secret", refs[0]["name"])]["stringData"]["SLACK_BOT_TOKEN"]
    assert "REPLACE" in token.upper(), "the example Secret must hold an obvious placeholder"
    names = {env["name"] for env in container(manifests)["env"]}
    assert {"REDIS_URL", "SLACK_BOT_TOKEN"} <= names


def test_deployment_is_non_root_with_a_read_only_root_and_a_writable_tmp(
    manifests: dict[tuple[str, str], Any],
) -> None:
    spec = pod_spec(manifests)
    main = container(manifests)
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert main["securityContext"]["readOnlyRootFilesystem"] is True
    assert main["securityContext"]["allowPrivilegeEscalation"] is False
    volumes = {v["name"]: v for v in spec["volumes"]}
    tmp = [m for m in main["volumeMounts"] if m["mountPath"] == "/tmp"]
    assert tmp and "emptyDir" in volumes[tmp[0]["name"]]
    for mount in main["volumeMounts"]:
        assert mount["name"] in volumes
    assert "cpu" in main["resources"]["requests"] and "memory" in main["resources"]["limits"]


def config_items(manifests: dict[tuple[str, str], Any]) -> Iterator[tuple[str, str, str]]:
    """(ConfigMap name, key, path) of every item of the volume mounted on /etc/monitor."""
    spec = pod_spec(manifests)
    mount = next(m for m in container(manifests)["volumeMounts"] if m["mountPath"] == "/etc/monitor")
    volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
    for source in volume["projected"]["sources"]:
        for item in source["configMap"]["items"]:
            yield source["configMap"]["name"], item["key"], item["path"]


def test_every_configmap_item_exists_and_every_key_is_mounted(manifests: dict[tuple[str, str], Any]) -> None:
    items = list(config_items(manifests))
    for name, key, path in items:
        assert key in manifests[("ConfigMap", name)]["data"], f"item {key} of ConfigMap {name} does not exist"
        assert not path.startswith("/") and ".." not in path.split("/")
    mounted = {(name, key) for name, key, _ in items}
    for (kind, name), doc in manifests.items():
        if kind == "ConfigMap":
            for key in doc["data"]:
                assert "/" not in key
                assert (name, key) in mounted, f"ConfigMap {name} key {key} is not mounted by the Deployment"


def test_rules_configmap_holds_every_rules_file(manifests: dict[tuple[str, str], Any]) -> None:
    paths = {path for name, _, path in config_items(manifests) if path.startswith("rules/")}
    repository = {f"rules/{p.relative_to(ROOT / 'rules').as_posix()}" for p in (ROOT / "rules").rglob("*.y*ml")}
    assert paths == repository


def kubelet_volume(root: Path, files: dict[str, str]) -> None:
    """Write files as the kubelet's atomic writer does: a hidden timestamped directory, `..data`
    pointing at it, and one symlink per top-level name."""
    data = root / "..2024_01_01_00_00_00.000000001"
    for path, content in files.items():
        (data / path).parent.mkdir(parents=True, exist_ok=True)
        (data / path).write_text(content, encoding="utf-8")
    (root / "..data").symlink_to(data.name)
    for top in {p.split("/")[0] for p in files}:
        (root / top).symlink_to(f"..data/{top}")


def test_kubernetes_config_loads_in_the_projected_volume(manifests: dict[tuple[str, str], Any], tmp_path: Path) -> None:
    etc = tmp_path / "etc" / "monitor"
    etc.mkdir(parents=True)
    files = {path: manifests[("ConfigMap", name)]["data"][key] for name, key, path in config_items(manifests)}
    kubelet_volume(etc, files)
    main = container(manifests)
    env = {e["name"]: e["value"] for e in main["env"] if "value" in e}
    config_path = Path(env["MONITOR_CONFIG"])
    assert config_path.parent == Path("/etc/monitor")
    config = load_config(etc / config_path.name, env=env)
    assert config.rules == etc / "rules"
    ruleset = load_rules(config.rules)
    assert {r.id for r in ruleset.rules} == {r.id for r in load_rules(ROOT / "rules").rules}
    assert config.feeds_path == etc / "feeds.yaml" and config.feeds
    assert config.store == env["REDIS_URL"]
    listen = config.metrics_listen
    assert listen is not None and listen[0] in ("0.0.0.0", "::") and listen[1] == METRICS_PORT
    assert parse_listen(f"0.0.0.0:{METRICS_PORT}") == listen
    grace = pod_spec(manifests)["terminationGracePeriodSeconds"]
    assert timedelta(seconds=grace) > config.shutdown_grace
    assert "--config" not in main["args"] or main["args"][main["args"].index("--config") + 1] == str(config_path)
