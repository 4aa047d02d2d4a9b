from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import wrap_sources as modules  # noqa: E402

SOURCES = {
    "encoder": {"layers.py": modules.ENCODER_LAYERS, "encoder.py": modules.ENCODER},
    "decoder": {"decoder.py": modules.DECODER},
    "configured": {"args.py": modules.CONFIGURED_ARGS, "mixer.py": modules.CONFIGURED},
}


@pytest.fixture
def research(tmp_path: Path) -> Callable[[str], Path]:
    """Write one of the research modules into a fresh folder; return the folder."""

    def write(kind: str, files: dict[str, str] | None = None) -> Path:
        folder = tmp_path / f"research_{kind}"
        folder.mkdir()
        for name, text in (files or SOURCES[kind]).items():
            (folder / name).write_text(text)
        return folder

    return write
