"""Forks of transformers' own models: package-relative imports rewritten to `transformers.`."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib.metadata import version
from pathlib import Path

import pytest

from hf_custom.errors import InputError
from hf_custom.staging.code import plan_code, write_code

FORK = """\
from ... import initialization as init
from ...modeling_utils import (
    PreTrainedModel,
)
from ...activations import ACT2FN
from ..llama.configuration_llama import LlamaConfig
from .configuration_llama import LlamaConfig as Copied


class MyLlamaModel(PreTrainedModel):
    config_class = LlamaConfig
"""


def write(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(textwrap.dedent(text))
    return root


def test_fork_imports_rewritten_to_absolute_transformers_imports(tmp_path: Path) -> None:
    src = write(tmp_path / "ck", {"modeling_mything.py": FORK})
    plan = plan_code(src)
    text = plan.files["modeling_mything.py"]
    assert "from transformers import initialization as init" in text
    assert "from transformers.modeling_utils import (\n    PreTrainedModel,\n)" in text
    assert "from transformers.activations import ACT2FN" in text
    assert "from transformers.models.llama.configuration_llama import LlamaConfig\n" in text
    # not copied, but a module of the forked transformers model that defines the name
    assert "from transformers.models.llama.configuration_llama import LlamaConfig as Copied" in text
    assert "from ." not in text
    assert [(r.line, r.new.split(" import")[0]) for r in plan.rewrites] == [
        (1, "from transformers"),
        (2, "from transformers.modeling_utils"),
        (5, "from transformers.activations"),
        (6, "from transformers.models.llama.configuration_llama"),
        (7, "from transformers.models.llama.configuration_llama"),
    ]
    assert {f.id for f in plan.findings} == {"HFC211"}
    assert all(f.severity.name == "WARNING" for f in plan.findings)
    assert plan.core_imports == ("transformers",)
    assert "transformers" not in plan.requirements


def test_rewritten_fork_imports_for_real(tmp_path: Path) -> None:
    src = write(tmp_path / "ck", {"modeling_mything.py": FORK})
    out = tmp_path / "staged"
    write_code(plan_code(src), out)
    code = f"import sys; sys.path.insert(0, {str(out)!r}); import modeling_mything as m; print(m.MyLlamaModel.config_class.__name__)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "LlamaConfig"


def test_fork_import_of_a_module_transformers_lacks_is_refused_naming_it(tmp_path: Path) -> None:
    src = write(
        tmp_path / "ck",
        {
            "modeling_mything.py": "from ...modeling_utils import PreTrainedModel\n"
            "from ...modeling_attn_mask_utils import _prepare_4d_causal_attention_mask\n"
        },
    )
    with pytest.raises(InputError) as exc:
        plan_code(src)
    (f,) = exc.value.findings
    assert (f.id, f.line) == ("HFC209", 2)
    assert "transformers.modeling_attn_mask_utils" in f.message
    assert version("transformers") in f.message


@pytest.mark.parametrize(
    "files",
    [
        # not a fork: nothing it imports from above is a transformers module
        {"modeling_x.py": "from ..shared import f\n"},
        # a fork, but the sibling names a class transformers' module does not define
        {
            "modeling_x.py": "from ...activations import ACT2FN\nfrom .configuration_llama import MyCfg\n"
        },
    ],
)
def test_imports_that_are_not_transformers_modules_still_refused(
    tmp_path: Path, files: dict[str, str]
) -> None:
    src = write(tmp_path / "ck", files)
    try:
        plan = plan_code(src)
        found = {f.id for f in plan.findings}
    except InputError as exc:
        found = {f.id for f in exc.findings}
    assert found & {"HFC209", "HFC201"}
    assert "transformers.models.shared" not in str(found)


LAZY = """\
from transformers.integrations.deepspeed import is_deepspeed_zero3_enabled


def build(weight):
    if is_deepspeed_zero3_enabled():
        import not_installed_pkg_zz

        with not_installed_pkg_zz.gather(weight):
            return weight
    return weight
"""


def test_conditional_lazy_import_is_shielded_from_check_imports(tmp_path: Path) -> None:
    src = write(tmp_path / "ck", {"modeling_x.py": LAZY})
    plan = plan_code(src)
    text = plan.files["modeling_x.py"]
    assert (
        "        try:\n            import not_installed_pkg_zz\n"
        "        except ImportError:\n            raise\n" in text
    )
    assert [(f.id, f.severity.name) for f in plan.findings] == [("HFC204", "WARNING")]
    assert plan.requirements == () and plan.optional_requirements == ("not_installed_pkg_zz",)
    out = tmp_path / "staged"
    write_code(plan, out)
    # transformers' own check now lets the module load; the function behaves as before
    code = (
        "from transformers.dynamic_module_utils import check_imports; "
        f"print(check_imports({str(out / 'modeling_x.py')!r}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-500:]


def test_unconditional_import_in_function_still_an_error(tmp_path: Path) -> None:
    src = write(tmp_path / "ck", {"modeling_x.py": "def f():\n    import not_installed_pkg_zz\n"})
    plan = plan_code(src)
    assert [(f.id, f.severity.name) for f in plan.findings] == [("HFC204", "ERROR")]


def test_code_root_at_site_packages_vendors_nothing_installed(tmp_path: Path) -> None:
    import time

    import torch

    site = Path(torch.__file__).resolve().parents[1]  # the site-packages torch lives in
    src = write(
        tmp_path / "ck",
        {
            "modeling_x.py": "import torch\nimport numpy\n"
            "from transformers.modeling_utils import PreTrainedModel\n"
            "from ...activations import ACT2FN\n"
        },
    )
    start = time.perf_counter()
    plan = plan_code(src, code_root=site)
    assert time.perf_counter() - start < 30
    assert set(plan.files) == {"modeling_x.py"}
    assert plan.core_imports == ("torch", "transformers")
    assert "numpy" in plan.requirements
