"""``conveyor workflows ...``, ``conveyor models ...`` and ``conveyor webhooks ...``: the workflow and model
registries, and the workspace's webhook deliveries and signing secret."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from conveyor_client.common import ApiKey, ApiUrl, JsonOut, api, command_group, console, emit, err

workflows_app = command_group(help="Workflow definitions (Roboflow Workflows JSON).")
models_app = command_group(help="ONNX models the workflows can use.")
webhooks_app = command_group(help="This workspace's webhooks: deliveries, dead letters, the signing secret.")


@webhooks_app.command("secret")
def webhook_secret(rotate: bool = typer.Option(False, "--rotate", help="make a new one (the old one keeps "
                                                                       "signing beside it for a grace period)"),
                   api_key: str | None = ApiKey, api_url: str | None = ApiUrl, as_json: bool = JsonOut) -> None:
    """Show (or rotate) the whsec_ secret receivers verify webhooks with."""
    with api(api_key, api_url) as client:
        answer = client.rotate_webhook_secret() if rotate else client.webhook_secret()

    def render(a: dict[str, object]) -> None:
        console.print(a["secret"])
        if a.get("previousSecretValidUntil"):
            console.print(f"the previous secret also signs until {a['previousSecretValidUntil']}")

    emit(answer, as_json, render)


@webhooks_app.command("deliveries")
def list_deliveries(status: str | None = typer.Option(None, "--status", help="pending, delivering, delivered, "
                                                                             "failed or dead"),
                    job_id: str | None = typer.Option(None, "--job-id", "-j"),
                    batch_id: str | None = typer.Option(None, "--batch-id", "-b"),
                    api_key: str | None = ApiKey, api_url: str | None = ApiUrl, as_json: bool = JsonOut) -> None:
    """Webhook deliveries, newest first: where each went, its status and attempts."""
    with api(api_key, api_url) as client:
        found = client.deliveries(status, job_id, batch_id)

    def render(items: list[dict[str, object]]) -> None:
        table = Table("subject", "url", "status", "attempts", "last result")
        for d in items:
            last = d.get("lastError") or d.get("lastStatusCode") or ""
            table.add_row(f"{d['subjectKind']} {d['subjectId']}", str(d["url"]), str(d["status"]),
                          f"{d['attempts']}/{d['maxAttempts']}", str(last))
        console.print(table)

    emit(found, as_json, render)


@webhooks_app.command("redeliver")
def redeliver(status: str = typer.Option("dead", "--status", help="dead (every attempt failed) or failed "
                                                                 "(refused by the receiver)"),
              job_id: str | None = typer.Option(None, "--job-id", "-j"),
              batch_id: str | None = typer.Option(None, "--batch-id", "-b"),
              api_key: str | None = ApiKey, api_url: str | None = ApiUrl) -> None:
    """Send again every dead (or failed) delivery, of the workspace or of one job or batch."""
    with api(api_key, api_url) as client:
        count = client.redeliver(status, job_id, batch_id)
    console.print(f"{count} deliveries sent again")


@workflows_app.command("put")
def put_workflow(workflow_id: str = typer.Argument(...), file: Path = typer.Option(..., "--file", "-f",
                 help="JSON with the definition, or {'specification': ...}"),
                 api_key: str | None = ApiKey, api_url: str | None = ApiUrl) -> None:
    """Create or replace a workflow (validated: unknown or blocked blocks are refused)."""
    try:
        definition = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        err.print(f"[red]cannot read {file}: {exc}[/]")
        raise typer.Exit(2) from None
    with api(api_key, api_url) as client:
        client.put_workflow(workflow_id, definition.get("specification", definition))
    console.print(f"workflow {workflow_id} saved")


@workflows_app.command("list")
def list_workflows(api_key: str | None = ApiKey, api_url: str | None = ApiUrl, as_json: bool = JsonOut) -> None:
    with api(api_key, api_url) as client:
        found = client.workflows()

    def render(items: list[dict[str, str]]) -> None:
        table = Table("workflow id", "steps", "updated")
        for w in items:
            spec = json.loads(w["config"])["specification"]
            table.add_row(w["id"], ", ".join(s["type"].split("/")[-1] for s in spec.get("steps", [])),
                          w["updatedAt"][:19])
        console.print(table)

    emit(found, as_json, render)


@workflows_app.command("show")
def show_workflow(workflow_id: str = typer.Argument(...), api_key: str | None = ApiKey,
                  api_url: str | None = ApiUrl) -> None:
    with api(api_key, api_url) as client:
        found = client.workflow(workflow_id)
    typer.echo(json.dumps(json.loads(found["config"])["specification"], indent=2))


@models_app.command("put")
def put_model(model_id: str = typer.Argument(...), file: Path = typer.Option(..., "--file", "-f"),
              task: str = typer.Option("object-detection", help="object-detection, instance-segmentation, "
                                       "keypoint-detection, classification or multi-label-classification"),
              class_names: str = typer.Option(..., "--class-names", help="comma-separated, in output order"),
              keypoint_names: str = typer.Option("", "--keypoint-names",
                                                 help="keypoint-detection: comma-separated, in output order"),
              api_key: str | None = ApiKey, api_url: str | None = ApiUrl) -> None:
    """Register an ONNX model (YOLOv8/YOLO11 [N,4+C,A], -seg and -pose, or boxes/scores detectors; [N,C]
    classifiers)."""
    names = [n.strip() for n in class_names.split(",") if n.strip()]
    keypoints = [n.strip() for n in keypoint_names.split(",") if n.strip()]
    with api(api_key, api_url) as client:
        info = client.put_model(model_id, file, task, names, keypoints or None)
    console.print(f"model {info['modelId']} registered ({info['layout']}, input {info['inputSize']})")


@models_app.command("list")
def list_models(api_key: str | None = ApiKey, api_url: str | None = ApiUrl, as_json: bool = JsonOut) -> None:
    with api(api_key, api_url) as client:
        found = client.models()

    def render(items: list[dict[str, object]]) -> None:
        table = Table("model id", "task", "layout", "classes", "input", "shared")
        for m in items:
            table.add_row(str(m["modelId"]), str(m["task"]), str(m["layout"]), str(len(m["classNames"])),  # type: ignore[arg-type]
                          str(m["inputSize"]), "yes" if m["shared"] else "")
        console.print(table)

    emit(found, as_json, render)


@models_app.command("show")
def show_model(model_id: str = typer.Argument(...), api_key: str | None = ApiKey, api_url: str | None = ApiUrl) -> None:
    with api(api_key, api_url) as client:
        typer.echo(json.dumps(client.model(model_id), indent=2))


@models_app.command("alias")
def alias_model(alias: str = typer.Argument(..., help="the model id a workflow names, e.g. yolov8n-640"),
                model_id: str | None = typer.Argument(None, help="the registered model it means"),
                remove: bool = typer.Option(False, "--remove", help="delete the alias"),
                api_key: str | None = ApiKey, api_url: str | None = ApiUrl) -> None:
    """Map a model id of a workflow copied from Roboflow to a registered model, so it runs without editing."""
    with api(api_key, api_url) as client:
        if remove:
            gone = client.delete_model_alias(alias)
            console.print(f"alias {alias} removed" if gone else f"no alias {alias}")
            return
        if model_id is None:
            err.print("[red]name the registered model the alias means (or --remove)[/]")
            raise typer.Exit(2)
        client.put_model_alias(alias, model_id)
    console.print(f"workflows naming {alias} now run model {model_id}")


@models_app.command("aliases")
def list_aliases(api_key: str | None = ApiKey, api_url: str | None = ApiUrl, as_json: bool = JsonOut) -> None:
    with api(api_key, api_url) as client:
        found = client.model_aliases()

    def render(items: list[dict[str, str]]) -> None:
        table = Table("alias", "model id")
        for a in items:
            table.add_row(a["alias"], a["modelId"])
        console.print(table)

    emit(found, as_json, render)
