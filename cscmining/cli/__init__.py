"""The command line: a thin skin over the library, one library call per command.

Errors the library raises on purpose (`CscMiningError`) become one line on stderr and exit
code 2; anything else is a bug and is reported the same way unless ``--debug`` asks for the
traceback. Tracebacks never show local variables: they could hold a child's data.
"""

from __future__ import annotations

import importlib
import sys

import click
from rich.console import Console
from rich.markup import escape

from .. import __version__
from ..errors import CscMiningError
from .context import AppContext

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
#: stopped by Ctrl-C: 128 + SIGINT, as a shell reports a process the signal ended
EXIT_INTERRUPTED = 130


#: command -> the module that defines it; a module is imported only when one of its
#: commands runs, so `cscmining ingest` does not pay for pm4py, graphviz or jinja2
LAZY_COMMANDS = {
    "ingest": "ingest", "map": "map", "bottlenecks": "map", "variants": "analyse",
    "stuck": "analyse", "timescales": "analyse", "compare": "compare", "report": "report",
    "samples": "samples", "demo": "demo", "keygen": "privacy",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in LAZY_COMMANDS:
            importlib.import_module(f"{__name__}.{LAZY_COMMANDS[cmd_name]}")
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="cscmining")
@click.option("--debug", is_flag=True, help="Show the Python traceback of an unexpected error.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars or notes on stderr.")
@click.pass_context
def cli(ctx: click.Context, debug: bool, quiet: bool) -> None:
    """Process maps of children's journeys through social care, from the statutory returns."""
    ctx.obj = AppContext(debug=debug, quiet=quiet)


def _register() -> None:
    """Import every command module (for tests and tools that walk `cli.commands`)."""
    for module in sorted(set(LAZY_COMMANDS.values())):
        importlib.import_module(f"{__name__}.{module}")


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; turn errors into one clear line and an exit code."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="cscmining", standalone_mode=False)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):  # click turns Ctrl-C into Abort
            _print_error("interrupted")
            sys.exit(EXIT_INTERRUPTED)
        Console(stderr=True).print("Aborted.")
        sys.exit(EXIT_ERROR)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except CscMiningError as exc:
        if debug:
            raise
        _print_error(str(exc))
        sys.exit(exc.exit_code)
    except Exception as exc:  # a bug: say so without dumping data-bearing locals
        if debug:
            raise
        _print_error(
            f"internal error ({exc.__class__.__name__}); rerun with --debug and report it "
            "(the traceback shows no data values)"
        )
        sys.exit(EXIT_ERROR)


def _print_error(message: str) -> None:
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    console.print(f"[bold red]error:[/] {escape(message)}", markup=True, emoji=False)
