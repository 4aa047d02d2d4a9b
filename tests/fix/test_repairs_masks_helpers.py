"""HFC204 for an optional helper module: a package file (a fused kernel) that imports an absent
dependency at module level, while every other file imports that helper optionally. Its import
goes into try/except ImportError (raise): check_imports stops requiring it, the run-time
behaviour is the same. An importer that requires the helper keeps the finding, named."""

from __future__ import annotations

from pathlib import Path

import pytest

from hf_custom.diagnosis import doctor
from hf_custom.fixing import plan_fixes
from tests.checks.repo import CONFIG, CONFIGURATION, MODELING, write_repo

KERNEL = (
    "import math\n"
    "import hfc_absent_kernel_lib as kl  # the fused kernel's compiler\n"
    "import hfc_absent_kernel_lib.language as kll\n\n\n"
    "def fast_attention(q, k, v):\n"
    "    return kl.run(kll, q, k, v, math.sqrt(q.shape[-1]))\n"
)
GUARDED = (
    "import torch\n"
    "try:\n"
    "    from .kernels_toy import fast_attention\n"
    "except:  # noqa: E722  (a bare except, as in the wild)\n"
    "    fast_attention = None\n"
)


def _files(modeling: str) -> dict[str, bytes]:
    return {"modeling_toy.py": modeling.encode(), "configuration_toy.py": CONFIGURATION.encode()}


def _hfc204(tmp_path: Path, files: dict[str, bytes]) -> list[str]:
    report = doctor(write_repo(tmp_path, files), select=["HFC204"])
    return [f"{f.path}:{f.line}" for f in report.findings if f.id == "HFC204"]


def test_helper_imported_only_optionally_fails_then_passes(tmp_path: Path) -> None:
    lazy = (
        "def attend(q, k, v):\n"
        "    from .kernels_toy import fast_attention\n"
        "    return fast_attention(q, k, v)\n"
    )
    files = _files(MODELING.replace("import torch\n", GUARDED, 1))
    files["kernels_toy.py"] = KERNEL.encode()
    files["attention_toy.py"] = lazy.encode()
    assert _hfc204(tmp_path / "before", files)  # check_imports would refuse the load
    plan = plan_fixes(files, config=CONFIG, rules={"HFC204"})
    assert not plan.unrepaired, plan.unrepaired
    assert [(r.path, r.line) for r in plan.repairs] == [
        ("kernels_toy.py", 2),
        ("kernels_toy.py", 3),
    ]
    assert "attention_toy.py:2" in plan.repairs[0].change
    assert "modeling_toy.py:3" in plan.repairs[0].change
    fixed = {**files, **{c.path: c.after for c in plan.changes}}
    text = fixed["kernels_toy.py"].decode()
    assert (
        "try:\n    import hfc_absent_kernel_lib as kl  # the fused kernel's compiler\n"
        "except ImportError:  # optional: every importer of this module guards it (hf-custom fix)\n"
        "    raise\n" in text
    )
    assert _hfc204(tmp_path / "after", fixed) == []
    assert not plan_fixes(fixed, config=CONFIG).changes  # idempotent
    # run time: importing the helper raises the same ImportError as before the repair
    ns: dict[str, object] = {}
    with pytest.raises(ImportError, match="hfc_absent_kernel_lib"):
        exec(compile(text, "kernels_toy.py", "exec"), ns)


@pytest.mark.parametrize(
    ("importer", "why"),
    [
        ("import torch\nfrom .kernels_toy import fast_attention\n", "at module level"),
        (
            "import torch\ntry:\n    from .kernels_toy import fast_attention\n"
            "except ValueError:\n    fast_attention = None\n",
            "lets ImportError out",
        ),
    ],
)
def test_helper_required_by_an_importer_is_left_named(importer: str, why: str) -> None:
    files = _files(MODELING.replace("import torch\n", importer, 1))
    files["kernels_toy.py"] = KERNEL.encode()
    plan = plan_fixes(files, config=CONFIG, rules={"HFC204"})
    assert not plan.changes
    causes = {u.cause for u in plan.unrepaired if u.path == "kernels_toy.py"}
    assert causes and all("modeling_toy.py:" in c and why in c for c in causes), causes


def test_entry_file_import_stays_a_requirement() -> None:
    text = MODELING.replace("import torch\n", "import torch\nimport hfc_absent_kernel_lib\n", 1)
    plan = plan_fixes(_files(text), config=CONFIG, rules={"HFC204"})
    assert not plan.changes and [u.path for u in plan.unrepaired] == ["modeling_toy.py"]
