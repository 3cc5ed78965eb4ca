"""Every command's --help, read in an 80-column terminal, shows every option's names in full (rich's help
table once cut them to ``--workflow-para…``)."""

from typing import Any

import typer
from typer.testing import CliRunner

from deploy.local.cli import app


def _commands(command: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every command under ``command`` (Typer's own click: groups have ``list_commands``)."""
    found = [(path, command)]
    if hasattr(command, "list_commands"):
        for name in command.list_commands(None):
            found += _commands(command.get_command(None, name), (*path, name))
    return found


def test_every_option_name_is_whole_in_an_80_column_help() -> None:
    runner = CliRunner()
    commands = _commands(typer.main.get_command(app))
    assert len(commands) > 40
    for path, command in commands:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"}, terminal_width=80)
        assert result.exit_code == 0, (path, result.output)
        assert all(len(line) <= 80 for line in result.output.splitlines()), (path, result.output)
        names = [name for param in command.params if param.param_type_name == "option"
                 for name in (*param.opts, *param.secondary_opts)]
        missing = [name for name in names if name not in result.output]
        assert not missing, (path, missing)
