"""``hf-custom`` entry point: parse, dispatch, and map errors to exit codes.

Exit codes: 0 ok, 1 findings or refusal, 2 usage or input error, 3 bug, 130 interrupted.
Nothing heavy is imported here: ``hf-custom --help`` must stay well under a second.
"""

from __future__ import annotations

import errno
import importlib
import importlib.util
import os
import sys
import traceback
from collections.abc import Sequence

import click

from hf_custom._version import __version__
from hf_custom.errors import HFCustomError, InputError

# name -> "module:attribute" of the click command; imported only when used or listed.
COMMANDS: dict[str, str] = {
    "publish": "hf_custom.cli.publish:publish",
    "convert": "hf_custom.cli.convert:convert",
    "doctor": "hf_custom.cli.doctor:doctor",
    "envs": "hf_custom.cli.envs:envs",
    "explain": "hf_custom.cli.doctor:explain",
    "fix": "hf_custom.cli.fix:fix",
    "hook": "hf_custom.cli.hook:hook",
    "hub": "hf_custom.cli.hub:hub",
    "wrap": "hf_custom.cli.wrap:wrap",
}


#: name -> the command's one-line help, as its docstring gives it: ``--help`` lists the
#: commands from here without importing them (tests/cli/test_main.py keeps it in sync).
SUMMARIES: dict[str, str] = {
    "convert": "Convert weights (pytorch_model.bin, .pt/.ckpt, safetensors) to sharded safetensors.",
    "doctor": "Diagnose a checkpoint folder or a repo id (static: the model's code is never run).",
    "envs": "The cached environments (one transformers version each) used by --transformers.",
    "explain": "Explain a rule: what it checks, why it matters, an example and the fix.",
    "fix": "Repair a checkpoint's custom code for the installed transformers, in a copy.",
    "hook": "Git hooks that run `hf-custom doctor` before a push (or a commit) and block on errors.",
    "hub": "The embedded Hub-compatible server (offline default, upload tests, release rehearsals).",
    "publish": "Publish the checkpoint folder SRC so that AutoModel*.from_pretrained(..., "
    "trust_remote_code=True) works: package the code, normalise config.json, convert the "
    "weights, write tokenizer files and a model card, verify the result loads, then upload in "
    "one commit.",
    "wrap": "Turn a plain PyTorch module into a Hugging Face custom-code checkpoint folder.",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if self._available(name))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._load(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from :data:`SUMMARIES`, shortened as click would: no import."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for name in names:
            summary = SUMMARIES.get(name)
            if summary is None:  # a command without a summary: ask the command itself
                command = self._load(name)
                if command is None or command.hidden:
                    continue
                rows.append((name, command.get_short_help_str(limit)))
            else:
                rows.append((name, click.Command(name, help=summary).get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    @staticmethod
    def _available(name: str) -> bool:
        """Whether the command's module exists (found, not imported)."""
        module_name = COMMANDS[name].split(":")[0]
        return importlib.util.find_spec(module_name) is not None

    @staticmethod
    def _load(name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # command not built in this version
                return None
            raise
        command = getattr(module, attr)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="hf-custom")
def cli() -> None:
    """Publish custom-code PyTorch models to the Hugging Face Hub, proven to load first.

    \b
    hf-custom publish ./ckpt --repo-id you/model   stage, convert, verify, upload
    hf-custom doctor you/model                      diagnose a repo or a folder
    hf-custom explain HFC101                        what a finding means and how to fix it
    """


_ENVIRONMENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})


def _debug() -> bool:
    return os.environ.get("HF_DEBUG", "").strip().lower() not in ("", "0", "false", "no")


def _report_error(exc: HFCustomError, *, exit_code: int | None = None) -> None:
    from hf_custom.cli.output import (
        error_console,
        error_json,
        escape,
        findings_console,
        render_findings,
    )

    code = exc.exit_code if exit_code is None else exit_code
    error_json(
        kind=type(exc).__name__,
        message=exc.message,
        exit_code=code,
        path=exc.path,
        hint=exc.hint,
        findings=[f.to_json() for f in exc.findings],
    )
    if exc.findings:
        render_findings(exc.findings, findings_console())  # where every command puts them
    console = error_console()
    console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, markup=True)
    if exc.hint:
        console.print(f"[bold]hint:[/] {escape(exc.hint)}", highlight=False)


def _fail(kind: str, message: str, code: int) -> int:
    from hf_custom.cli.output import error_json

    error_json(kind=kind, message=message, exit_code=code)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (never raises, but for SystemExit from click)."""
    from hf_custom.cli.output import STATE, format_in_argv

    args = list(sys.argv[1:] if argv is None else argv)
    # until click has parsed --format: an early usage error still gets its JSON document
    STATE.mode = "json" if format_in_argv(args) == "json" else "human"
    STATE.printed_json = False
    try:
        cli.main(args=args, prog_name="hf-custom", standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("interrupted", err=True)
        return _fail("interrupted", "interrupted", 130)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return _fail("usage", exc.format_message(), 2)  # usage error
    except HFCustomError as exc:
        if _debug():
            traceback.print_exc()
        _report_error(exc)
        return exc.exit_code
    except ResultCode as rc:
        return _fail("result", "the command failed", rc.code)
    except BrokenPipeError:
        return 1
    except OSError as exc:
        if exc.errno not in _ENVIRONMENT_ERRNOS:
            return _report_bug()
        # the machine, not hf-custom: disk full, quota, read-only file system (exit 2)
        _report_error(
            InputError(
                f"{exc.strerror or exc}",
                path=exc.filename if isinstance(exc.filename, str) else None,
                hint="free some space (or choose another --out / TMPDIR) and run again",
            ),
            exit_code=2,
        )
        return 2
    except Exception:
        return _report_bug()
    return 0


class ResultCode(Exception):
    """Raised by a command to finish with a non-zero exit code after printing its result."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _report_bug() -> int:
    import tempfile

    from hf_custom.cli.output import error_json

    text = traceback.format_exc()
    log: str | None = None
    if _debug():
        sys.stderr.write(text)
    else:
        fd, log = tempfile.mkstemp(prefix="hf-custom-crash-", suffix=".log")
        with os.fdopen(fd, "w") as fh:
            fh.write(f"hf-custom {__version__}\n{text}")
        sys.stderr.write(
            f"hf-custom hit a bug: {sys.exc_info()[1]!r}\n"
            f"The traceback is in {log}; run with HF_DEBUG=1 to see it here.\n"
            "Please report it with that file attached.\n"
        )
    error_json(kind="bug", message=repr(sys.exc_info()[1]), exit_code=3, log=log)
    return 3


def entry() -> None:  # pragma: no cover - trivial
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    entry()
