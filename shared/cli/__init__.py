"""The ``conveyor`` command line."""

from __future__ import annotations

import typer

from shared.cli.demo import demo_cmd
from shared.cli.jobs_cmds import jobs_app
from shared.cli.processes import down_cmd, serve_cmd, up_cmd
from shared.cli.registry_cmds import models_app, webhooks_app, workflows_app
from shared.cli.stack import stack_app
from shared.cli.staging_cmds import staging_app
from shared.cli.workspaces import workspace_app

app = typer.Typer(help="Conveyor: self-hosted batch processing of computer-vision Workflows.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(stack_app, name="stack")
app.add_typer(workspace_app, name="workspace")
app.add_typer(staging_app, name="data-staging")
app.add_typer(jobs_app, name="batch-processing")
app.add_typer(workflows_app, name="workflows")
app.add_typer(models_app, name="models")
app.add_typer(webhooks_app, name="webhooks")
app.command("serve")(serve_cmd)
app.command("up")(up_cmd)
app.command("down")(down_cmd)
app.command("demo")(demo_cmd)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
