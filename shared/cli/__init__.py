"""The API commands of the ``conveyor`` command line (and the workspace admin commands, which reach the
database named by ``DATABASE_URL``). Everything here is configured by the environment or options; the
local deployment's commands (``up``, ``serve``, ``stack``, ``demo``) are added by ``deploy.local.cli``."""

from __future__ import annotations

import typer

from shared.cli.common import command_group
from shared.cli.jobs_cmds import jobs_app
from shared.cli.registry_cmds import models_app, webhooks_app, workflows_app
from shared.cli.staging_cmds import staging_app
from shared.cli.workspaces import workspace_app


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
