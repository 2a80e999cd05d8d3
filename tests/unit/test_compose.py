"""Static checks of the container deployment: docker-compose.yml, Dockerfile, .dockerignore, .env.example.

docker-compose.yml is validated against the official Compose Specification JSON schema
(tests/data/compose-spec.json, origin in tests/data/README.md), then its behaviour is checked:
loopback-only ports, health-gated start order, service wiring, no committed credentials and an
object-locked evidence bucket.
"""

from __future__ import annotations

import copy
import json
import re
import shlex
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import pytest
import yaml
from jsonschema.validators import validator_for

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
SCHEMA_FILE = ROOT / "tests" / "data" / "compose-spec.json"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENV_EXAMPLE = ROOT / ".env.example"

EVIDENCE_BUCKET = "fieldwatch-evidence"
BACKING_SERVICES = ("postgres", "redis", "minio")
LOOPBACK_IPS = {"127.0.0.1", "::1"}
# The wildcard address, as test data and as the api's in-container listen address (not a bind here).
ANY_ADDRESS = "0.0.0.0"  # noqa: S104
# Environment keys whose value is a credential. A credential may only ever come from a
# required variable (${NAME:?message}), never from a literal or a default.
CREDENTIAL_KEY = re.compile(r"PASSWORD|SECRET|TOKEN|ACCESS_KEY|ROOT_USER", re.IGNORECASE)
REQUIRED_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]*\}")
# Well-known default credentials that must never appear in the compose file.
KNOWN_DEFAULT_CREDENTIALS = ("minioadmin", "changeme", "postgres:postgres")


# --------------------------------------------------------------------------------------------
# Compose variable interpolation (the subset of the Compose Specification used here)
# --------------------------------------------------------------------------------------------


class MissingRequiredVariable(LookupError):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


_TOKEN = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[^}]*)\}|(?P<named>[A-Za-z_][A-Za-z0-9_]*)|(?P<invalid>))"
)
_BRACED = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>.*))?", re.DOTALL)


def _references(text: str) -> Iterator[tuple[str, str | None, str]]:
    """Yield (name, operator, argument) for every variable reference in one string."""
    for match in _TOKEN.finditer(text):
        if match["escaped"]:
            continue
        if match["named"]:
            yield match["named"], None, ""
            continue
        braced = match["braced"]
        parsed = _BRACED.fullmatch(braced) if braced is not None else None
        if parsed is None:
            raise ValueError(f"invalid interpolation in {text!r}")
        yield parsed["name"], parsed["op"], parsed["arg"] or ""


def _interpolate_str(text: str, env: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        ((name, op, arg),) = list(_references(match[0]))
        value = env.get(name)
        is_set = value is not None
        is_nonempty = bool(value)
        if op in (":?", "?") and not (is_nonempty if op == ":?" else is_set):
            raise MissingRequiredVariable(name, arg)
        if op in (":-", "-") and not (is_nonempty if op == ":-" else is_set):
            return arg
        if op in (":+", "+"):
            return arg if (is_nonempty if op == ":+" else is_set) else ""
        return value or ""

    return _TOKEN.sub(replace, text)


def interpolate(node: Any, env: Mapping[str, str]) -> Any:
    """Resolve variables as `docker compose` does: in values (not keys), `$$` is a literal `$`."""
    if isinstance(node, str):
        return _interpolate_str(node, env)
    if isinstance(node, dict):
        return {key: interpolate(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate(item, env) for item in node]
    return node


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def all_references(doc: Any) -> list[tuple[str, str | None, str]]:
    return [ref for text in _strings(doc) for ref in _references(text)]


def sentinel_env(doc: Any) -> dict[str, str]:
    """A value for every variable the file references, recognisable in the rendered output."""
    return {name: f"sentinel-{name.lower().replace('_', '-')}" for name, _, _ in all_references(doc)}


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) for item in env)
        return {key: (value[0] if value else "") for key, *value in pairs}
    return {key: "" if value is None else str(value) for key, value in env.items()}


def published_host_ips(service: Mapping[str, Any]) -> list[str | None]:
    """The host address of every port the service publishes (None: all interfaces)."""
    ips: list[str | None] = []
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            ips.append(port.get("host_ip"))
            continue
        spec = str(port).split("/", 1)[0]
        if spec.startswith("["):
            ips.append(spec[1 : spec.index("]")])
            continue
        parts = spec.split(":")
        ips.append(parts[0] if len(parts) == 3 else None)
    return ips


def command_text(service: Mapping[str, Any]) -> str:
    command = service.get("command") or ""
    return "\n".join(command) if isinstance(command, list) else command


def mc_invocations(service: Mapping[str, Any]) -> list[list[str]]:
    """The argv of every `mc` call in a shell script command, one per line."""
    calls = []
    for line in command_text(service).splitlines():
        argv = shlex.split(line)
        if "mc" in argv:
            calls.append(argv[argv.index("mc") :])
    return calls


def resolve_validator_class(schema: Mapping[str, Any]) -> type:
    """The jsonschema validator class for the draft the schema itself declares.

    json-schema.org meta-schema ids are registered in their canonical `http://...#` form, while
    the Compose schema declares `https://json-schema.org/draft-07/schema`; normalise the scheme
    and fragment so the declared draft is used rather than jsonschema's latest-draft fallback.
    """
    declared = schema["$schema"]
    parts = urlsplit(declared)
    if parts.netloc == "json-schema.org":
        declared = urlunsplit(("http", parts.netloc, parts.path, "", ""))
    cls = validator_for({"$schema": declared}, default=None)
    assert cls is not None, f"no jsonschema validator for declared draft {schema['$schema']!r}"
    assert cls.ID_OF(cls.META_SCHEMA).rstrip("#") == declared.rstrip("#")
    return cls


# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    doc = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


@pytest.fixture(scope="module")
def rendered(raw: dict[str, Any]) -> dict[str, Any]:
    """docker-compose.yml as compose resolves it once every variable is set."""
    return interpolate(raw, sentinel_env(raw))


@pytest.fixture(scope="module")
def defaults_env() -> dict[str, str]:
    """Only the required variables set: every optional one falls back to its default."""
    return {"POSTGRES_PASSWORD": "pg-pw", "MINIO_ROOT_USER": "minio-user", "MINIO_ROOT_PASSWORD": "minio-pw"}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> Any:
    cls = resolve_validator_class(schema)
    cls.check_schema(schema)
    return cls(schema)


# --------------------------------------------------------------------------------------------
# Schema validation
# --------------------------------------------------------------------------------------------


def test_schema_is_the_compose_specification(schema: dict[str, Any]) -> None:
    assert schema["title"] == "Compose Specification"
    assert schema["$id"] == "compose_spec.json"
    assert {"service", "network", "volume"} <= set(schema["definitions"])


def test_compose_file_is_valid(raw: dict[str, Any], rendered: dict[str, Any], validator: Any) -> None:
    for doc in (raw, rendered):
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]
        assert errors == []


def _with_unknown_service_key(doc: dict[str, Any]) -> None:
    doc["services"]["api"]["restart_policy"] = "always"


def _with_unknown_dependency_condition(doc: dict[str, Any]) -> None:
    doc["services"]["api"]["depends_on"]["postgres"]["condition"] = "service_ready"


def _with_unknown_top_level_key(doc: dict[str, Any]) -> None:
    doc["service"] = doc["services"]


def _with_unknown_healthcheck_key(doc: dict[str, Any]) -> None:
    doc["services"]["postgres"]["healthcheck"]["retry"] = 3


@pytest.mark.parametrize(
    ("mutate", "expected_fragment"),
    [
        (_with_unknown_service_key, "restart_policy"),
        (_with_unknown_dependency_condition, "service_ready"),
        (_with_unknown_top_level_key, "'service'"),
        (_with_unknown_healthcheck_key, "'retry'"),
    ],
    ids=[
        "unknown-service-key",
        "bad-depends-on-condition",
        "unknown-top-level-key",
        "unknown-healthcheck-key",
    ],
)
def test_validator_rejects_invalid_compose(
    raw: dict[str, Any], validator: Any, mutate: Any, expected_fragment: str
) -> None:
    broken = copy.deepcopy(raw)
    mutate(broken)
    errors = list(validator.iter_errors(broken))
    assert errors, "the schema accepted an invalid compose document"
    messages = " | ".join(
        [e.message for e in errors] + [sub.message for e in errors for sub in e.context or []]
    )
    assert expected_fragment in messages


def test_no_obsolete_version_key(raw: dict[str, Any]) -> None:
    assert "version" not in raw


# --------------------------------------------------------------------------------------------
# Behaviour
# --------------------------------------------------------------------------------------------


def test_expected_services(raw: dict[str, Any]) -> None:
    assert set(raw["services"]) == {"api", "postgres", "redis", "minio", "minio-init"}
    assert raw["services"]["api"]["build"] in (".", {"context": "."})
    assert raw["services"]["postgres"]["image"].startswith("postgres:16")
    assert raw["services"]["redis"]["image"].startswith("redis:7")
    assert raw["services"]["minio"]["image"].startswith("minio/minio")
    assert raw["services"]["minio-init"]["image"].startswith("minio/mc")


@pytest.mark.parametrize(
    ("ports", "expected"),
    [
        (["127.0.0.1:8000:8000"], ["127.0.0.1"]),
        (["[::1]:8000:8000/tcp"], ["::1"]),
        (["8000:8000"], [None]),
        (["8000"], [None]),
        ([f"{ANY_ADDRESS}:8000:8000"], [ANY_ADDRESS]),
        ([{"target": 8000, "published": "8000"}], [None]),
        ([{"target": 8000, "host_ip": "127.0.0.1"}], ["127.0.0.1"]),
    ],
)
def test_published_host_ip_parsing(ports: list[Any], expected: list[str | None]) -> None:
    assert published_host_ips({"ports": ports}) == expected


def test_published_ports_bind_to_loopback_only(rendered: dict[str, Any]) -> None:
    publishing = {}
    for name, service in rendered["services"].items():
        assert service.get("network_mode") != "host", f"{name} uses the host network"
        ips = published_host_ips(service)
        if ips:
            publishing[name] = ips
    assert "api" in publishing
    offenders = {name: ips for name, ips in publishing.items() if not set(ips) <= LOOPBACK_IPS}
    assert offenders == {}
    assert "127.0.0.1:8000:8000" in rendered["services"]["api"]["ports"]


def test_api_waits_for_healthy_backing_services(raw: dict[str, Any]) -> None:
    services = raw["services"]
    depends_on = services["api"]["depends_on"]
    assert isinstance(depends_on, dict)
    for name in BACKING_SERVICES:
        assert depends_on[name]["condition"] == "service_healthy"
        # service_healthy can only ever be reached by a service that has a healthcheck.
        healthcheck = services[name].get("healthcheck")
        assert healthcheck and not healthcheck.get("disable", False), f"{name} has no healthcheck"
        assert healthcheck["test"] not in (["NONE"], "NONE")
    assert depends_on["minio-init"]["condition"] == "service_completed_successfully"
    assert services["minio-init"]["depends_on"]["minio"]["condition"] == "service_healthy"
    assert services["minio-init"].get("restart", "no") == "no"


def test_healthchecks_probe_the_right_thing(raw: dict[str, Any]) -> None:
    services = raw["services"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "redis-cli ping" in " ".join(services["redis"]["healthcheck"]["test"])
    assert services["minio"]["healthcheck"]["test"] == ["CMD", "mc", "ready", "local"]


def test_database_url_points_at_postgres_service(rendered: dict[str, Any]) -> None:
    api_env = environment(rendered["services"]["api"])
    pg_env = environment(rendered["services"]["postgres"])
    url = urlsplit(api_env["FIELDWATCH_DATABASE_URL"])
    assert url.scheme == "postgresql"
    assert url.hostname == "postgres" and url.hostname in rendered["services"]
    assert url.port == 5432
    assert url.username == pg_env["POSTGRES_USER"]
    assert url.password == pg_env["POSTGRES_PASSWORD"] == "sentinel-postgres-password"
    assert url.path == f"/{pg_env['POSTGRES_DB']}"


def test_media_url_points_at_minio_evidence_bucket(rendered: dict[str, Any]) -> None:
    api_env = environment(rendered["services"]["api"])
    minio_env = environment(rendered["services"]["minio"])
    url = urlsplit(api_env["FIELDWATCH_MEDIA_URL"])
    assert url.scheme == "s3"
    assert url.hostname == "minio" and url.hostname in rendered["services"]
    assert url.port == 9000
    assert url.username == minio_env["MINIO_ROOT_USER"] == "sentinel-minio-root-user"
    assert url.password == minio_env["MINIO_ROOT_PASSWORD"] == "sentinel-minio-root-password"
    assert url.path == f"/{EVIDENCE_BUCKET}"
    assert parse_qs(url.query) == {"secure": ["false"]}


def test_redis_url_points_at_redis_service(rendered: dict[str, Any]) -> None:
    url = urlsplit(environment(rendered["services"]["api"])["FIELDWATCH_REDIS_URL"])
    assert url.scheme == "redis"
    assert url.hostname == "redis" and url.hostname in rendered["services"]
    assert url.port == 6379
    assert url.path == "/0"


def test_data_dir_is_a_persistent_named_volume(raw: dict[str, Any]) -> None:
    api = raw["services"]["api"]
    data_dir = environment(api)["FIELDWATCH_DATA_DIR"]
    assert data_dir == "/data"
    mounts = {}
    for volume in api["volumes"]:
        if isinstance(volume, dict):
            mounts[volume["target"]] = (volume.get("type", "volume"), volume.get("source"))
        else:
            source, target = volume.split(":")[:2]
            mounts[target] = ("volume" if not source.startswith((".", "/", "~")) else "bind", source)
    kind, source = mounts[data_dir]
    assert kind == "volume" and source in raw["volumes"], "FIELDWATCH_DATA_DIR must live on a named volume"


@pytest.mark.parametrize(
    ("service", "target"), [("postgres", "/var/lib/postgresql/data"), ("minio", "/data"), ("redis", "/data")]
)
def test_stateful_services_use_named_volumes(raw: dict[str, Any], service: str, target: str) -> None:
    sources = {}
    for volume in raw["services"][service]["volumes"]:
        source, mount_point = volume.split(":")[:2]
        sources[mount_point] = source
    assert sources[target] in raw["volumes"]


def test_credentials_are_required_variables_not_literals(raw: dict[str, Any]) -> None:
    env = sentinel_env(raw)
    for name, service in raw["services"].items():
        for key, value in environment(service).items():
            if CREDENTIAL_KEY.search(key):
                assert REQUIRED_REFERENCE.fullmatch(value), f"{name}.{key} must be ${{VAR:?message}}"
            if "://" in value:
                # Rendered with a sentinel for every variable: any credential embedded in a
                # URL must come out as a sentinel, i.e. it was a variable, not a literal.
                url = urlsplit(_interpolate_str(value, env))
                for part in (url.username, url.password):
                    assert part is None or part.startswith("sentinel-"), f"literal credential in {name}.{key}"
    # No secret-looking variable may carry a default, which would then be committed.
    for var, op, _ in all_references(raw):
        if CREDENTIAL_KEY.search(var):
            assert op == ":?", f"${{{var}}} must use the required ':?' form, not {op!r}"


@pytest.mark.parametrize("variable", ["POSTGRES_PASSWORD", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"])
def test_missing_credential_stops_compose(
    raw: dict[str, Any], defaults_env: dict[str, str], variable: str
) -> None:
    env = {k: v for k, v in defaults_env.items() if k != variable}
    with pytest.raises(MissingRequiredVariable) as excinfo:
        interpolate(raw, env)
    assert excinfo.value.name == variable
    with pytest.raises(MissingRequiredVariable):
        interpolate(raw, {**env, variable: ""})


def test_no_known_default_credentials_in_file() -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8").lower()
    for literal in KNOWN_DEFAULT_CREDENTIALS:
        assert literal not in text


def test_minio_server_settings(raw: dict[str, Any]) -> None:
    minio = raw["services"]["minio"]
    assert shlex.split(command_text(minio)) == ["server", "/data", "--console-address", ":9001"]
    env = environment(minio)
    # MinIO has no AbortIncompleteMultipartUpload lifecycle action; it expires stale uploads itself.
    assert env["MINIO_API_STALE_UPLOADS_EXPIRY"]


def test_minio_init_creates_object_locked_bucket(raw: dict[str, Any], defaults_env: dict[str, str]) -> None:
    init = interpolate(raw["services"]["minio-init"], defaults_env)
    assert init["entrypoint"] == ["/bin/sh", "-c"]
    assert command_text(init).lstrip().startswith("set -eu"), "a failing mc step must fail the job"
    lines = mc_invocations(init)
    target = f"local/{EVIDENCE_BUCKET}"

    make_bucket = [i for i, argv in enumerate(lines) if argv[:2] == ["mc", "mb"]]
    assert len(make_bucket) == 1
    mb = lines[make_bucket[0]]
    assert "--with-lock" in mb and "--ignore-existing" in mb and mb[-1] == target

    retention = [i for i, argv in enumerate(lines) if argv[:3] == ["mc", "retention", "set"]]
    assert len(retention) == 1 and retention[0] > make_bucket[0]
    argv = lines[retention[0]]
    assert "--default" in argv and argv[-1] == target
    mode, validity = [a for a in argv[3:-1] if not a.startswith("--")]
    assert mode.upper() in {"GOVERNANCE", "COMPLIANCE"}
    assert re.fullmatch(r"[1-9][0-9]*[dy]", validity)
    assert (mode, validity) == ("COMPLIANCE", "3650d")
    # The api requires exactly that lock of the bucket (it refuses to start on another).
    api = environment(interpolate(raw["services"]["api"], defaults_env))
    assert (api["FIELDWATCH_EVIDENCE_LOCK_MODE"], api["FIELDWATCH_EVIDENCE_LOCK_DAYS"] + "d") == (
        mode,
        validity,
    )

    alias = next(argv for argv in lines if argv[:3] == ["mc", "alias", "set"])
    assert alias[3:5] == ["local", "http://minio:9000"]
    assert alias[5:7] == ["${MINIO_ROOT_USER}", "${MINIO_ROOT_PASSWORD}"], "credentials come from the env"


def test_env_example_documents_every_variable_without_secrets(raw: dict[str, Any]) -> None:
    assert ENV_EXAMPLE.is_file()
    example = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            example[key.strip()] = value.strip()
    referenced = {name for name, _, _ in all_references(raw)}
    assert referenced <= set(example), f"undocumented: {sorted(referenced - set(example))}"
    for key, value in example.items():
        if CREDENTIAL_KEY.search(key):
            assert value == "", f".env.example must not carry a value for {key}"


# --------------------------------------------------------------------------------------------
# Dockerfile and build context
# --------------------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8")
    logical: list[str] = []
    current = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        logical.append(current + stripped)
        current = ""
    result = []
    for instruction in logical:
        keyword, _, rest = instruction.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def test_dockerfile_runtime_image() -> None:
    stage = final_stage()
    assert stage[0] == ("FROM", "python:3.11-slim")
    keywords = dict(stage)
    assert keywords["EXPOSE"] == "8000"
    assert json.loads(keywords["CMD"]) == ["fieldwatch", "serve", "--host", ANY_ADDRESS, "--port", "8000"]
    assert "/healthz" in keywords["HEALTHCHECK"]
    assert any(k == "RUN" and "apt-get install" in v and "fonts-noto-cjk" in v for k, v in stage)
    assert any(k == "ENV" and "FIELDWATCH_DATA_DIR=/data" in v for k, v in stage)


def test_dockerfile_runs_as_non_root() -> None:
    users = [value for keyword, value in final_stage() if keyword == "USER"]
    assert users, "the runtime stage must set USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")


def test_dockerfile_installs_the_project() -> None:
    runs = " ".join(value for keyword, value in dockerfile_instructions() if keyword == "RUN")
    assert re.search(r"pip install [\"']?\.(\[[a-z,]+\])?[\"']?", runs)


def test_dockerignore_keeps_secrets_out_of_the_build_context() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*", "the build context should be an allowlist"
    included = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    assert included.isdisjoint({".env", ".git", ".venv", "var", "tests", "*"})
    assert {"**/.env", "**/__pycache__"} <= set(patterns)
