"""The ``conveyor`` command line."""

from __future__ import annotations

import typer

from shared.cli.demo import demo_cmd
from shared.cli.processes import down_cmd, serve_cmd, up_cmd
from shared.cli.stack import stack_app
from shared.cli.workspaces import workspace_app

app = typer.Typer(help="Conveyor: self-hosted batch processing of computer-vision Workflows.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(stack_app, name="stack")
app.add_typer(workspace_app, name="workspace")
app.command("serve")(serve_cmd)
app.command("up")(up_cmd)
app.command("down")(down_cmd)
app.command("demo")(demo_cmd)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
