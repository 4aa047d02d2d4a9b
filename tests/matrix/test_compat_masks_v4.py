"""hf_custom_compat's mask helpers (AttentionMaskConverter and the _prepare_4d_* functions of
v4's modeling_attn_mask_utils) against the REAL transformers 4.57 ones: every dtype, batch,
query length, past length, sliding window and mask kind of the child script's grid."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).parent
COMPAT = HERE.parents[1] / "hf_custom" / "fixing" / "hf_custom_compat.py"


@pytest.mark.slow
def test_mask_helpers_equal_v4(v4_targets) -> None:  # type: ignore[no-untyped-def]
    v4 = next(t for t in v4_targets if not t.installed)
    assert v4.python is not None
    proc = subprocess.run(
        [v4.python, str(HERE / "compat_masks_child.py"), str(COMPAT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    line = next((x for x in proc.stdout.splitlines() if x.startswith("HFC-RESULT ")), None)
    assert line is not None, proc.stderr[-2000:]
    result = json.loads(line[len("HFC-RESULT ") :])
    assert len(result) > 2000  # the whole grid ran
    assert all(result.values()), sorted(k for k, ok in result.items() if not ok)[:20]
