from __future__ import annotations

import subprocess
import sys
import time

from hf_custom.cli.main import main


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hf_custom", *args], capture_output=True, text=True, env=env
    )


def test_version_and_help() -> None:
    assert main(["--version"]) == 0
    assert main(["--help"]) == 0


def test_usage_error_exits_2() -> None:
    assert main(["--no-such-option"]) == 2
    assert main(["no-such-command"]) == 2


def test_help_is_fast_and_imports_nothing_heavy() -> None:
    code = (
        "import sys, time; t=time.perf_counter();"
        "from hf_custom.cli.main import main;"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    rc = main(['--help'])\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'safetensors.torch', 'numpy',"
        " 'rich', 'huggingface_hub') if m in sys.modules)\n"
        "heavy += sorted(m for m in sys.modules if m.startswith('hf_custom.cli.')"
        " and m not in ('hf_custom.cli.main', 'hf_custom.cli.output'))\n"
        "print(rc, heavy, time.perf_counter()-t)"
    )
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    rc, heavy, _ = out.stdout.strip().split(" ", 2)
    assert rc == "0"
    assert heavy == "[]", out.stdout
    assert wall < 3.0  # generous for loaded CI; typical is ~0.2 s


def test_command_summaries_match_the_commands() -> None:
    """``--help`` lists commands from SUMMARIES without importing them: same text as theirs."""
    import click

    from hf_custom.cli.main import COMMANDS, SUMMARIES, LazyGroup

    assert set(SUMMARIES) == set(COMMANDS)
    for name in COMMANDS:
        command = LazyGroup._load(name)
        assert command is not None
        for limit in (30, 45, 70, 1000):
            short = click.Command(name, help=SUMMARIES[name]).get_short_help_str(limit)
            assert short == command.get_short_help_str(limit), name


def test_python_dash_m_entry_point() -> None:
    proc = run("--version")
    assert proc.returncode == 0
    assert "hf-custom" in proc.stdout


def test_api_functions_survive_importing_their_modules() -> None:
    """`hf_custom.publish(...)` etc. stay functions even after the implementing modules load."""
    code = (
        "import hf_custom, importlib\n"
        "for m in ('publishing', 'diagnosis', 'verification', 'wrapping', 'weights', 'staging'):\n"
        "    importlib.import_module('hf_custom.' + m)\n"
        "names = ('publish', 'stage', 'doctor', 'convert', 'verify', 'wrap')\n"
        "print(all(callable(getattr(hf_custom, n)) and not isinstance(getattr(hf_custom, n),"
        " type(hf_custom)) for n in names))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True", out.stderr
