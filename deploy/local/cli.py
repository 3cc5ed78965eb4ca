"""The ``conveyor`` command: the API commands plus the local deployment's (``up``, ``down``, ``serve``,
``stack``, ``demo``). Before any command runs, the local deployment's addresses and key (``CONVEYOR_HOME``)
become the defaults of what the environment does not set, so the API commands work against ``conveyor up``
without options."""

from __future__ import annotations

import os

import typer

from deploy.admin import operator_commands
from deploy.local.demo import demo_cmd
from deploy.local.home import home, load_stack_env
from deploy.local.processes import down_cmd, public_url, serve_cmd, up_cmd
from deploy.local.stack_cmds import stack_app

app = operator_commands()
app.add_typer(stack_app, name="stack")
app.command("serve")(serve_cmd)
app.command("up")(up_cmd)
app.command("down")(down_cmd)
app.command("demo")(demo_cmd)


@app.callback()
def local_defaults(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand == "workspace":  # the admin commands reach the local stack's database
        load_stack_env()
    os.environ.setdefault("API_BASE_URL", public_url())
    key_file = home() / "api_key"
    if not (os.environ.get("CONVEYOR_API_KEY") or os.environ.get("ROBOFLOW_API_KEY")) and key_file.exists():
        os.environ["CONVEYOR_API_KEY"] = key_file.read_text().strip()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
