"""deploy/: the Kubernetes manifests validate against the Kubernetes 1.37 schemas (strict), the compose file
against docker-compose's own schema, and all of them agree with the code (ports, topics, groups, settings)."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from deploy.local.processes import SERVICES
from shared.config import DEFAULT_PORTS, REPO_ROOT
from shared.events import Topic, topic_name
from shared.events.topics import REGISTRY

K8S = REPO_ROOT / "deploy" / "k8s"
COMPOSE = REPO_ROOT / "deploy" / "compose" / "docker-compose.yml"
PORTS = DEFAULT_PORTS
# the part of KEDA's ScaledObject CRD these manifests use (KEDA's CRDs are not in the Kubernetes schemas)
SCALED_OBJECT = {
    "type": "object", "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "keda.sh/v1alpha1"}, "kind": {"const": "ScaledObject"},
        "metadata": {"type": "object", "required": ["name", "namespace"]},
        "spec": {"type": "object", "additionalProperties": False, "required": ["scaleTargetRef", "triggers"],
                 "properties": {
                     "scaleTargetRef": {"type": "object", "required": ["name"], "additionalProperties": False,
                                        "properties": {"name": {"type": "string"}, "kind": {"type": "string"},
                                                       "apiVersion": {"type": "string"}}},
                     "minReplicaCount": {"type": "integer", "minimum": 0},
                     "maxReplicaCount": {"type": "integer", "minimum": 1},
                     "pollingInterval": {"type": "integer"}, "cooldownPeriod": {"type": "integer"},
                     "triggers": {"type": "array", "minItems": 1, "items": {
                         "type": "object", "required": ["type", "metadata"],
                         "properties": {"type": {"const": "kafka"}, "metadata": {
                             "type": "object", "additionalProperties": {"type": "string"},
                             "required": ["bootstrapServers", "consumerGroup", "topic", "lagThreshold"]}}}}}}},
}


def manifests() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(p.name for p in K8S.glob("*.yaml")
                                                        if p.name != "kustomization.yaml")
    return [doc for name in kustomization["resources"] for doc in yaml.safe_load_all((K8S / name).read_text())]


def test_kubernetes_manifests_validate_strictly() -> None:
    docs = manifests()
    for doc in docs:
        if doc["kind"] == "ScaledObject":
            jsonschema.validate(doc, SCALED_OBJECT)
        else:
            kubernetes_validate.validate(doc, "1.37.0", strict=True)
    assert {d["kind"] for d in docs} >= {"Deployment", "Service", "ConfigMap", "Secret", "ScaledObject", "Ingress"}


def test_kubernetes_manifests_agree_with_the_code() -> None:
    docs = manifests()
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    config = {d["metadata"]["name"] for d in docs if d["kind"] in ("ConfigMap", "Secret")}
    assert set(deployments) == {*SERVICES, "gateway"} - {"worker"} | {"worker-cpu", "worker-gpu"}
    for name, dep in deployments.items():
        (container,) = dep["spec"]["template"]["spec"]["containers"]
        assert container["ports"][0]["containerPort"] == PORTS[name.removesuffix("-cpu").removesuffix("-gpu")]
        assert {ref.get("configMapRef", ref.get("secretRef"))["name"] for ref in container["envFrom"]} <= config
        assert dep["spec"]["selector"]["matchLabels"].items() <= dep["spec"]["template"]["metadata"]["labels"].items()
    for svc in (d for d in docs if d["kind"] == "Service"):
        assert any(svc["spec"]["selector"].items() <= dep["spec"]["template"]["metadata"]["labels"].items()
                   for dep in deployments.values()), svc["metadata"]["name"]
    gpu = deployments["worker-gpu"]["spec"]["template"]["spec"]
    assert gpu["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1 and gpu["nodeSelector"]
    assert {"name": "WORKER_MACHINE_TYPE", "value": "gpu"} in gpu["containers"][0]["env"]
    for scaled in (d for d in docs if d["kind"] == "ScaledObject"):
        target = scaled["spec"]["scaleTargetRef"]["name"]
        machine = target.removeprefix("worker-")
        assert target in deployments
        (trigger,) = scaled["spec"]["triggers"]
        topic = Topic.TASKS_GPU if machine == "gpu" else Topic.TASKS_CPU
        assert trigger["metadata"]["topic"] == topic_name("conveyor", topic)
        assert trigger["metadata"]["consumerGroup"] == f"conveyor.workers-{machine}"  # worker_svc.subscribers
        assert scaled["spec"]["maxReplicaCount"] <= REGISTRY[topic].partitions  # idle consumers beyond that


@pytest.mark.parametrize("image", [*PORTS, "worker-gpu"])
def test_each_service_image_serves_its_service_on_its_port(image: str) -> None:
    dockerfile = (REPO_ROOT / "deploy" / "docker" / image / "Dockerfile").read_text()
    service = image.removesuffix("-gpu")
    module = "deploy.gateway" if service == "gateway" else f"{service}_svc"
    listen = "CONVEYOR_GATEWAY" if service == "gateway" else service.upper()
    assert f'CMD ["python", "-m", "{module}"]' in dockerfile
    assert f"ENV {listen}_HOST=0.0.0.0 {listen}_PORT={PORTS[service]}" in dockerfile
    assert f"EXPOSE {PORTS[service]}" in dockerfile
    base = (REPO_ROOT / "deploy" / "docker" / "Dockerfile.base").read_text()
    for source in re.findall(r"^COPY (\S+) ", base, re.MULTILINE):
        assert (REPO_ROOT / source).exists(), source
