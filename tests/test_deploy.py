"""deploy/: what can be checked without a container engine or helm.

The files must agree with the code: settings variables are real Settings fields with valid values, service
commands name modules and flags that exist, every metric in alerts and the dashboard is exported, ports
and mounted paths line up between compose, Helm values and the Prometheus/Grafana config, and the
Dockerfile copies what the build needs.
"""

from __future__ import annotations

import fnmatch
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import prometheus_client as prom
import pytest
import typer.main
import yaml
from pydantic import BaseModel
from wisetrader.cli import app
from wisetrader.settings import Settings

ROOT = Path(__file__).parent.parent
DEPLOY = ROOT / "deploy"
CHART = DEPLOY / "helm" / "wisetrader"
COMPOSE_FILE = DEPLOY / "compose.yaml"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))
TEMPLATES = sorted((CHART / "templates").iterdir())
# Helm templates are Go templates, not YAML; everything else under deploy/ must parse.
YAML_FILES = sorted(
    p for p in [*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")] if CHART / "templates" not in p.parents
)
DEPLOY_TEXTS = [
    p for p in DEPLOY.rglob("*") if p.is_file() and p.suffix in {".yaml", ".yml", ".json", ".tpl", ""}
]
ENV_VAR = re.compile(r"\bWISETRADER_[A-Z0-9_]+")
METRIC = re.compile(r"\bwisetrader_[a-z0-9_]+")
SUBST = re.compile(r"\$\{[A-Z0-9_]+:-([^}]*)\}")  # compose ${VAR:-default}


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def compose() -> dict[str, Any]:
    return load(COMPOSE_FILE)  # type: ignore[no-any-return]


def image_services() -> dict[str, dict[str, Any]]:
    """Compose services built from the wisetrader image."""
    return {
        n: s for n, s in compose()["services"].items() if str(s.get("image", "")).startswith("wisetrader:")
    }


def port_of(address: str) -> int:
    return int(address.rsplit(":", 1)[1].split("/")[0])


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_yaml_file_parses(path: Path) -> None:
    assert isinstance(load(path), dict)


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboards_parse(path: Path) -> None:
    assert json.loads(path.read_text())["panels"]


def _field(model: type[BaseModel], parts: list[str]) -> bool:
    """Does WISETRADER_A__B name a field (nested models use ``__``)?"""
    field = model.model_fields.get(parts[0].lower())
    if field is None:
        return False
    if len(parts) == 1:
        return True
    nested = field.annotation
    return isinstance(nested, type) and issubclass(nested, BaseModel) and _field(nested, parts[1:])


def test_every_wisetrader_variable_is_a_settings_field() -> None:
    used = {m for p in DEPLOY_TEXTS for m in ENV_VAR.findall(p.read_text())}
    assert {"WISETRADER_BUS", "WISETRADER_KAFKA_BOOTSTRAP", "WISETRADER_STORE_DSN"} <= used
    # WISETRADER_ACCOUNT_<NAME>_API_KEY etc. are accounts' API keys (engine/credentials.py), not settings.
    used = {v for v in used if not v.startswith("WISETRADER_ACCOUNT_")}
    unknown = sorted(v for v in used if not _field(Settings, v.removeprefix("WISETRADER_").split("__")))
    assert not unknown, f"not fields of wisetrader.settings.Settings: {unknown}"


def test_compose_environment_is_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    services = compose()["services"]
    for name, service in image_services().items():
        for key, value in service["environment"].items():
            monkeypatch.setenv(key, SUBST.sub(r"\1", str(value)))
        settings = Settings()  # validates every value (types, literals, bounds)
        assert settings.bus == "kafka", name
        kafka_host, kafka_port = settings.kafka_bootstrap.rsplit(":", 1)
        advertised = services[kafka_host]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
        assert f"PLAINTEXT://{kafka_host}:{kafka_port}" in advertised
        dsn = re.fullmatch(r"http://(\w+):([^@]+)@(\w+):8123", settings.store_dsn)
        assert dsn, settings.store_dsn
        user, password, host = dsn.groups()
        clickhouse = services[host]["environment"]
        assert clickhouse["CLICKHOUSE_USER"] == user
        assert SUBST.sub(r"\1", clickhouse["CLICKHOUSE_PASSWORD"]) == password
        if settings.api.database_url:
            pg = re.fullmatch(
                r"postgresql\+asyncpg://(\w+):([^@]+)@(\w+):5432/(\w+)", settings.api.database_url
            )
            assert pg, settings.api.database_url
            postgres = services[pg.group(3)]["environment"]
            assert (postgres["POSTGRES_USER"], postgres["POSTGRES_DB"]) == (pg.group(1), pg.group(4))
            assert SUBST.sub(r"\1", postgres["POSTGRES_PASSWORD"]) == pg.group(2)


def _commands() -> list[list[str]]:
    """Every container command in compose, the Helm templates and the Dockerfile, as argv lists."""
    commands = [list(map(str, s["command"])) for s in image_services().values()]
    texts = [t.read_text() for t in TEMPLATES] + [(DEPLOY / "Dockerfile").read_text()]
    for text in texts:
        for line in re.findall(r"(?:command|args|CMD):?\s*(\[.*\])", text):
            commands.append(json.loads(re.sub(r"\{\{\s*\.Values\.\S+\s*\}\}", "0", line)))
    return commands


def test_every_command_names_a_service_module_or_cli_command_and_its_flags() -> None:
    commands = _commands()
    for service in ("services.writer", "services.api", "services.streamer"):
        assert sum(c[:3] == ["python", "-m", service] for c in commands) == 2, service  # compose and Helm
    cli_commands = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    for argv in commands:
        if argv[0] == "wisetrader":
            assert argv[1] == "--help" or argv[1] in cli_commands, argv
            continue
        assert argv[:2] == ["python", "-m"] and argv[2].startswith("services."), argv
        module = argv[2]
        assert (ROOT / "services" / f"{module.removeprefix('services.')}.py").is_file(), argv
        flags = [a for a in argv[3:] if a.startswith("--")]
        if flags:  # only modules taking options answer --help
            help_text = subprocess.run(
                [sys.executable, "-m", module, "--help"], capture_output=True, text=True, cwd=ROOT, check=True
            ).stdout
            assert all(flag in help_text for flag in flags), (module, flags)


def _exported() -> dict[str, set[str]]:
    """Sample name -> label names of every metric the package and the services define."""
    sys.path.insert(0, str(ROOT))
    sources = [*(ROOT / "python").rglob("*.py"), *(ROOT / "services").glob("*.py")]
    exported: dict[str, set[str]] = {}
    for path in sources:
        if "prometheus_client" not in path.read_text():
            continue
        base = ROOT / "python" if ROOT / "python" in path.parents else ROOT
        module = importlib.import_module(".".join(path.relative_to(base).with_suffix("").parts))
        for obj in vars(module).values():
            if isinstance(obj, prom.metrics.MetricWrapperBase):
                suffixes = {"counter": ["_total"], "gauge": [""], "histogram": ["_bucket", "_sum", "_count"]}
                for suffix in suffixes.get(obj._type, ["_sum", "_count"]):
                    exported[obj._name + suffix] = set(obj._labelnames)
    return exported


def _queries() -> list[tuple[str, str]]:
    """(PromQL expression, text its labels are used in) of every alert rule and dashboard panel."""
    queries = [
        (rule["expr"], json.dumps(rule.get("annotations", {})))
        for group in load(ALERTS)["groups"]
        for rule in group["rules"]
    ]
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            queries += [(t["expr"], t.get("legendFormat", "")) for t in panel["targets"]]
    return queries


def test_alerts_and_dashboards_use_only_exported_metrics_and_their_labels() -> None:
    exported = _exported()
    assert "wisetrader_writer_lag" in exported
    queries = _queries()
    used = {m for expr, _ in queries for m in METRIC.findall(expr)}
    assert used, "no wisetrader metric in alerts or dashboards"
    assert used <= set(exported), f"not exported by the code: {sorted(used - set(exported))}"
    for expr, usage in queries:
        allowed = {"job", "instance"}.union(*(exported[m] for m in METRIC.findall(expr)))
        grouped = {x.strip() for g in re.findall(r"\bby \(([^)]*)\)", expr) for x in g.split(",")}
        labels = grouped | set(re.findall(r"\{\{\s*\$?(?:labels\.)?(\w+)\s*\}\}", usage)) - {"value"}
        assert labels <= allowed, (expr, labels - allowed)


def test_ports_agree_between_compose_helm_and_prometheus() -> None:
    writer = image_services()["writer"]
    port = int(writer["command"][writer["command"].index("--metrics-port") + 1])
    assert port_of(writer["environment"]["HEALTHCHECK_URL"].rsplit("/", 1)[0]) == port
    assert load(CHART / "values.yaml")["writer"]["metricsPort"] == port
    jobs = {j["job_name"]: j for j in load(DEPLOY / "prometheus" / "prometheus.yml")["scrape_configs"]}
    assert jobs["wisetrader-writer"]["static_configs"][0]["targets"] == [f"writer:{port}"]
    api = image_services()["api"]
    api_port = int(api["environment"]["WISETRADER_API__PORT"])
    assert port_of(api["ports"][0]) == api_port
    assert port_of(api["environment"]["HEALTHCHECK_URL"].split("/health")[0]) == api_port
    assert load(CHART / "values.yaml")["api"]["port"] == api_port
    assert jobs["wisetrader-api"]["static_configs"][0]["targets"] == [f"api:{api_port}"]
    streamer = image_services()["streamer"]
    streamer_port = int(streamer["command"][streamer["command"].index("--metrics-port") + 1])
    assert port_of(streamer["environment"]["HEALTHCHECK_URL"].rsplit("/", 1)[0]) == streamer_port
    assert load(CHART / "values.yaml")["streamer"]["metricsPort"] == streamer_port
    assert jobs["wisetrader-streamer"]["static_configs"][0]["targets"] == [f"streamer:{streamer_port}"]
    grafana = DEPLOY / "grafana" / "provisioning"
    datasource = load(grafana / "datasources" / "prometheus.yml")["datasources"][0]
    prometheus_port = port_of(compose()["services"]["prometheus"]["ports"][0])  # host:port:container-port
    assert datasource["url"] == f"http://prometheus:{prometheus_port}"


def _container_path(service: str, path: str) -> Path:
    """Map a path inside a compose container to the file under deploy/ bind-mounted there."""
    for volume in compose()["services"][service]["volumes"]:
        source, target = volume.split(":")[:2]
        if source.startswith(".") and (path == target or path.startswith(target + "/")):
            return DEPLOY / source / Path(path).relative_to(target)
    raise AssertionError(f"{path} is not mounted into {service}")


def test_compose_references_resolve() -> None:
    services = compose()["services"]
    for name, service in services.items():
        assert set(service.get("depends_on", {})) <= set(services), name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert (DEPLOY / source).exists() if source.startswith(".") else source in compose()["volumes"]
    prometheus = load(DEPLOY / "prometheus" / "prometheus.yml")
    for rule_file in prometheus["rule_files"]:
        assert _container_path("prometheus", rule_file).is_file()
    provider = load(DEPLOY / "grafana" / "provisioning" / "dashboards" / "wisetrader.yml")["providers"][0]
    assert set(_container_path("grafana", provider["options"]["path"]).glob("*.json")) == set(DASHBOARDS)


def test_helm_templates_only_use_defined_values() -> None:
    values = load(CHART / "values.yaml")
    assert load(CHART / "Chart.yaml")["name"] == CHART.name
    for template in TEMPLATES:
        for ref in re.findall(r"\.Values\.([\w.]+)", template.read_text()):
            node = values
            for part in ref.split("."):
                assert isinstance(node, dict) and part in node, f"{template.name}: .Values.{ref}"
                node = node[part]


def test_dockerfile_copies_what_the_build_needs() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    ignored = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines() if p.strip()]
    ignored = [p for p in ignored if not p.startswith("#")]
    copied = set()
    for line in re.findall(r"^COPY (?!--from)(.+)$", dockerfile, re.MULTILINE):
        *sources, _target = line.split()
        for source in sources:
            assert (ROOT / source).exists(), source
            assert not any(fnmatch.fnmatch(source, p) for p in ignored), f"{source} is in .dockerignore"
            copied.add(source)
    pyproject = (ROOT / "pyproject.toml").read_text()
    maturin = re.search(r'python-source = "(\w+)"[\s\S]*manifest-path = "(\w+)/', pyproject)
    readme = re.search(r'readme = "([^"]+)"', pyproject)
    assert maturin and readme
    needed = {*maturin.groups(), readme.group(1), "pyproject.toml", "Cargo.toml", "Cargo.lock", "services"}
    assert needed <= copied, needed - copied
    user = re.search(r"useradd .*--uid (\d+)", dockerfile)
    assert user and f"runAsUser: {user.group(1)}" in (CHART / "templates" / "writer.yaml").read_text()


def test_api_probes_and_scrape_path_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wisetrader.api.app import create_app

    monkeypatch.chdir(tmp_path)  # the app creates its embedded master key under ./var
    paths = set(create_app().openapi()["paths"])
    api = image_services()["api"]
    probed = {"/" + api["environment"]["HEALTHCHECK_URL"].split("/", 3)[3], "/metrics"}
    probed |= set(re.findall(r"httpGet: \{ path: (\S+),", (CHART / "templates" / "api.yaml").read_text()))
    assert len(probed) == 3 and probed <= paths, probed - paths


def test_streamer_run_configs_in_compose_and_helm_are_valid() -> None:
    from wisetrader.engine.config import RunConfig, load_config, resolve

    command = image_services()["streamer"]["command"]
    path = _container_path("streamer", command[command.index("--config") + 1])
    plan = resolve(load_config(path), environ={})  # runs as is: no keys needed (simulator accounts)
    assert plan.bots
    helm = RunConfig.model_validate(yaml.safe_load(load(CHART / "values.yaml")["streamer"]["config"]))
    assert resolve(helm, environ={}).bots and helm.shutdown.orders == "cancel"
    template = (CHART / "templates" / "streamer.yaml").read_text()
    assert "replicas: 1" in template and "type: Recreate" in template  # never two engines at once
    assert '"--config", "/etc/wisetrader/run.yaml"' in template and "mountPath: /etc/wisetrader," in template
