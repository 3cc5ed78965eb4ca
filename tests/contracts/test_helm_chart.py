"""The Helm chart (``deploy/helm/conveyor``) rendered as ``helm template`` renders it (``tests/fixtures/helm.py``):
its values checked by its own ``values.schema.json``, every manifest by the Kubernetes 1.37 schemas (strict) or
KEDA's, every value taking effect, and the chart agreeing with the code (ports, settings, topics, groups)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from shared.config import DEFAULT_PORTS
from shared.events import Topic, topic_name
from shared.events.topics import REGISTRY
from tests.contracts.test_deploy_files import SCALED_OBJECT
from tests.contracts.test_settings_documented import FRAGMENTS, SERVICES, variables
from tests.fixtures.helm import CHART, Rendered, RenderError, build_renderer, render

pytestmark = pytest.mark.contracts

SCHEMA = json.loads((CHART / "values.schema.json").read_text())
SECRETS = {"postgresql": {"existingSecret": "conveyor-db"}, "signingSecret": {"existingSecret": "conveyor-signing"}}
EVERYTHING = {
    **SECRETS,
    "image": {"registry": "ghcr.io/acme", "tag": "1.2.3", "pullPolicy": "Always"},
    "imagePullSecrets": [{"name": "regcred"}],
    "kafka": {"bootstrapServers": "kafka-0.kafka:9092,kafka-1.kafka:9092", "topicPrefix": "tenant7",
              "replicationFactor": 3},
    "s3": {"endpointUrl": "http://minio.minio.svc:9000", "existingSecret": "conveyor-s3"},
    "metricsToken": {"existingSecret": "conveyor-metrics"},
    "publicUrl": "https://batch.acme.test",
    "extraEnv": {"SCHEDULER_IMAGES_PER_TASK": "64", "NOTIFIER_MAX_ATTEMPTS": 12},
    "ingest": {"replicas": 3}, "gateway": {"replicas": 4},
    "workers": {"cpu": {"replicas": 5, "autoscaling": {"enabled": False}},
                "gpu": {"enabled": True, "concurrency": 2, "autoscaling": {"minReplicas": 0, "maxReplicas": 2}}},
    "ingress": {"className": "nginx", "host": "batch.acme.test", "tlsSecretName": "batch-tls"},
}


@pytest.fixture(scope="module")
def renderer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_renderer(tmp_path_factory.mktemp("helm"))


def chart(renderer: Path, tmp_path: Path, values: dict[str, Any], **kw: str) -> Rendered:
    rendered = render(renderer, tmp_path, values, **kw)
    jsonschema.validate(rendered.values, SCHEMA)  # what `helm install` checks before it renders
    for manifest in rendered.manifests:
        if manifest["kind"] == "ScaledObject":
            jsonschema.validate(manifest, SCALED_OBJECT)
        else:
            kubernetes_validate.validate(manifest, "1.37.0", strict=True)
    return rendered


def env_of(deployment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e for e in container["env"]}


@pytest.mark.parametrize("values", [SECRETS, EVERYTHING], ids=["fewest-values", "every-value"])
def test_the_chart_renders_valid_manifests_that_agree_with_the_code(renderer: Path, tmp_path: Path,
                                                                     values: dict[str, Any]) -> None:
    rendered = chart(renderer, tmp_path, values)
    prefix = rendered.values["kafka"]["topicPrefix"]
    deployments, services = rendered.of_kind("Deployment"), rendered.of_kind("Service")
    (config,) = rendered.of_kind("ConfigMap").values()
    assert rendered.of_kind("Secret") == {}  # credentials only from the Secrets the values name
    read_by_code = set().union(*(variables(c) for c in SERVICES + FRAGMENTS))
    assert set(config["data"]) - read_by_code == set()
    for name, dep in deployments.items():
        component = name.removeprefix("conveyor-")
        port = DEFAULT_PORTS[component.removesuffix("-cpu").removesuffix("-gpu")]
        (container,) = dep["spec"]["template"]["spec"]["containers"]
        assert container["ports"][0]["containerPort"] == port
        assert set(env_of(dep)) - read_by_code == set()
        assert services[name]["spec"]["ports"][0]["port"] == port
        assert services[name]["spec"]["selector"].items() <= dep["spec"]["template"]["metadata"]["labels"].items()
    for key, url in config["data"].items():
        if key.startswith("CONVEYOR_UPSTREAM_"):  # the gateway finds each service at its Service
            service = key.removeprefix("CONVEYOR_UPSTREAM_").lower()
            target = f"conveyor-{service}-cpu" if service == "worker" else f"conveyor-{service}"
            assert url == f"http://{target}.conveyor.svc:{services[target]['spec']['ports'][0]['port']}"
    for name, scaled in rendered.of_kind("ScaledObject").items():
        machine = name.removeprefix("conveyor-worker-")
        topic = Topic.TASKS_GPU if machine == "gpu" else Topic.TASKS_CPU
        (trigger,) = scaled["spec"]["triggers"]
        assert scaled["spec"]["scaleTargetRef"]["name"] in deployments
        assert trigger["metadata"]["topic"] == topic_name(prefix, topic)
        assert trigger["metadata"]["consumerGroup"] == f"{prefix}.workers-{machine}"  # worker_svc.subscribers
        assert scaled["spec"]["maxReplicaCount"] <= REGISTRY[topic].partitions
        assert trigger["metadata"]["bootstrapServers"] == config["data"]["KAFKA_BOOTSTRAP_SERVERS"]


def test_every_value_takes_effect(renderer: Path, tmp_path: Path) -> None:
    rendered = chart(renderer, tmp_path, EVERYTHING)
    deployments = rendered.of_kind("Deployment")
    (config,) = rendered.of_kind("ConfigMap").values()
    assert set(deployments) == {f"conveyor-{c}" for c in ("ingest", "scheduler", "export", "notifier", "gateway",
                                                          "worker-cpu", "worker-gpu")}
    for name, dep in deployments.items():
        pod = dep["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        image = "worker-gpu" if name.endswith("-gpu") else name.removeprefix("conveyor-").removesuffix("-cpu")
        assert container["image"] == f"ghcr.io/acme/conveyor/{image}:1.2.3"
        assert container["imagePullPolicy"] == "Always" and pod["imagePullSecrets"] == [{"name": "regcred"}]
        env = env_of(dep)
        assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": "conveyor-db", "key": "database-url"}
        assert env["CONVEYOR_SIGNING_SECRET"]["valueFrom"]["secretKeyRef"]["name"] == "conveyor-signing"
        assert env["AWS_ACCESS_KEY_ID"]["valueFrom"]["secretKeyRef"] == {"name": "conveyor-s3", "key": "access-key-id"}
        assert env["CONVEYOR_METRICS_TOKEN"]["valueFrom"]["secretKeyRef"]["name"] == "conveyor-metrics"
    assert deployments["conveyor-ingest"]["spec"]["replicas"] == 3
    assert deployments["conveyor-gateway"]["spec"]["replicas"] == 4
    assert deployments["conveyor-worker-cpu"]["spec"]["replicas"] == 5  # no autoscaling: the count given
    assert "replicas" not in deployments["conveyor-worker-gpu"]["spec"]  # KEDA's to set
    assert set(rendered.of_kind("ScaledObject")) == {"conveyor-worker-gpu"}
    gpu = deployments["conveyor-worker-gpu"]["spec"]["template"]["spec"]
    assert gpu["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert gpu["nodeSelector"] and gpu["tolerations"][0]["key"] == "nvidia.com/gpu"
    assert env_of(deployments["conveyor-worker-gpu"])["WORKER_MACHINE_TYPE"]["value"] == "gpu"
    assert env_of(deployments["conveyor-worker-gpu"])["WORKER_CONCURRENCY"]["value"] == "2"
    assert rendered.of_kind("ScaledObject")["conveyor-worker-gpu"]["spec"]["maxReplicaCount"] == 2
    assert config["data"] | {"KAFKA_REPLICATION_FACTOR": "3", "KAFKA_TOPIC_PREFIX": "tenant7",
                             "S3_ENDPOINT_URL": "http://minio.minio.svc:9000", "CONVEYOR_PUBLIC_URL":
                             "https://batch.acme.test", "SCHEDULER_IMAGES_PER_TASK": "64",
                             "NOTIFIER_MAX_ATTEMPTS": "12"} == config["data"]
    (ingress,) = rendered.of_kind("Ingress").values()
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"hosts": ["batch.acme.test"], "secretName": "batch-tls"}]
    assert ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == "conveyor-gateway"


def test_a_release_of_another_name_and_namespace_names_everything_after_it(renderer: Path, tmp_path: Path) -> None:
    rendered = chart(renderer, tmp_path, SECRETS, release="batch", namespace="vision")
    assert all(m["metadata"]["name"].startswith("batch") and m["metadata"]["namespace"] == "vision"
               for m in rendered.manifests)
    (config,) = rendered.of_kind("ConfigMap").values()
    assert config["data"]["CONVEYOR_UPSTREAM_SCHEDULER"] == "http://batch-scheduler.vision.svc:8102"


@pytest.mark.parametrize("missing", ["postgresql", "signingSecret"])
def test_a_release_without_its_secrets_is_refused_saying_which(renderer: Path, tmp_path: Path, missing: str) -> None:
    values = {k: v for k, v in SECRETS.items() if k != missing}
    with pytest.raises(RenderError, match=f"{missing}.existingSecret: name the Secret"):
        render(renderer, tmp_path, values)


@pytest.mark.parametrize(("path", "value"), [
    (("workers", "cpu", "autoscaling", "maxReplicas"), 7),  # beyond a task topic's 6 partitions
    (("kafka", "replicationFactor"), 0),
    (("publicUrl",), "batch.acme.test"),
    (("extraEnv",), {"lower_case": "x"}),
    (("ingres",), {"enabled": False}),  # a misspelt key
])
def test_the_schema_refuses_values_that_would_not_work(renderer: Path, tmp_path: Path, path: tuple[str, ...],
                                                       value: Any) -> None:
    values = copy.deepcopy(SECRETS)
    node: dict[str, Any] = values
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    merged = render(renderer, tmp_path, values).values
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(merged, SCHEMA)
