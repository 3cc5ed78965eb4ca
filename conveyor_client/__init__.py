"""Conveyor's client: ``ConveyorClient`` (conveyor_client.client) for scripts, and the API commands of the
``conveyor`` command line built on it. It needs none of the services: it speaks their HTTP API and checks webhook
signatures with the published contract (shared.events, shared.webhooks). Everything here is configured by the
environment or options; the operators' workspace commands are added by ``deploy.admin``, the local deployment's
(``up``, ``serve``, ``stack``, ``demo``) by ``deploy.local.cli``."""

from __future__ import annotations

import typer

from conveyor_client.common import command_group
from conveyor_client.jobs_cmds import jobs_app
from conveyor_client.registry_cmds import models_app, webhooks_app, workflows_app
from conveyor_client.staging_cmds import staging_app
from conveyor_client.workspaces import workspace_app


def api_commands() -> typer.Typer:
    app = command_group(help="Conveyor: self-hosted batch processing of computer-vision Workflows.",
                        pretty_exceptions_enable=False)
    app.add_typer(workspace_app, name="workspace")
    app.add_typer(staging_app, name="data-staging")
    app.add_typer(jobs_app, name="batch-processing")
    app.add_typer(workflows_app, name="workflows")
    app.add_typer(models_app, name="models")
    app.add_typer(webhooks_app, name="webhooks")
    return app
