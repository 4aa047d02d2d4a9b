"""Benchmark: verification of a tiny model against one `import torch, transformers`.

    python benchmarks/verify.py                      # the tiny test model and a Llama fork
    python benchmarks/verify.py --model tiny --rounds 5

Builds the models in a temporary folder (the tiny custom-code model of tests/verify, and a
fork of transformers' Llama with every head: tests/verify/fork_models.py), then alternates, for
``--rounds`` rounds, a fresh ``python -c "import torch, transformers"`` and
``hf_custom.verification.verify`` of each model (one child process that imports torch and
transformers once and verifies each AutoClass in a fork of itself). Prints the medians, the
ratio verify / import (target: <= 2) and the seconds of each AutoClass of the last round.
It also times what publish does, class inspection (the ``keys`` step) then verification:
in two children (``separate``: before v0.2 round 2) and in one warm child (``shared``:
``hf_custom.verification.shared_child``, what publish does now). ``--json`` prints one JSON
document instead.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "verify"))


def time_import() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch, transformers"], check=True)
    return time.perf_counter() - start


def build(root: Path, which: list[str]) -> dict[str, Path]:
    out: dict[str, Path] = {}
    if "tiny" in which:
        from verify_factory import make_model_dir

        out["tiny"] = make_model_dir(root / "tiny")
    if "llama-fork" in which:
        from fork_models import make_fork

        out["llama-fork"] = make_fork(root / "llama-fork", "llama")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=["tiny", "llama-fork", "all"], default="all")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    from hf_custom.verification import expected_state_keys, shared_child, verify

    which = ["tiny", "llama-fork"] if args.model == "all" else [args.model]
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp:
        models = build(Path(tmp), which)
        imports: list[float] = []
        runs: dict[str, list[float]] = {m: [] for m in models}
        separate: dict[str, list[float]] = {m: [] for m in models}
        shared: dict[str, list[float]] = {m: [] for m in models}
        last: dict[str, Any] = {}
        for _ in range(args.rounds):
            imports.append(time_import())
            for name, folder in models.items():
                report = verify(folder, timeout=900)
                runs[name].append(report.seconds)
                last[name] = report
                refs = _model_refs(folder)
                start = time.perf_counter()
                expected_state_keys(folder, refs, timeout=900)
                verify(folder, timeout=900)
                separate[name].append(time.perf_counter() - start)
                start = time.perf_counter()
                with shared_child():
                    expected_state_keys(folder, refs, timeout=900)
                    verify(folder, timeout=900)
                shared[name].append(time.perf_counter() - start)
    base = statistics.median(imports)
    result: dict[str, Any] = {"import_torch_transformers_s": round(base, 3), "models": {}}
    for name, times in runs.items():
        rep = last[name]
        med = statistics.median(times)
        result["models"][name] = {
            "verify_s": round(med, 3),
            "ratio_to_import": round(med / base, 2),
            "ok": rep.ok,
            "child_import_s": rep.environment.get("import_seconds"),
            "per_auto_class_s": {r.auto_class: r.seconds for r in rep.rows},
            "inspect_and_verify_separate_s": round(statistics.median(separate[name]), 3),
            "inspect_and_verify_shared_s": round(statistics.median(shared[name]), 3),
            "shared_ratio_to_import": round(statistics.median(shared[name]) / base, 2),
        }
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
        return 0
    print(f"import torch, transformers (fresh python): median {base:.2f} s of {args.rounds}")
    for name, data in result["models"].items():
        print(
            f"verify {name}: median {data['verify_s']:.2f} s = {data['ratio_to_import']:.2f}x "
            f"the import (target <= 2x); ok={data['ok']}; the child's own imports "
            f"{data['child_import_s']} s"
        )
        for auto_class, seconds in data["per_auto_class_s"].items():
            print(f"    {auto_class:40} {seconds:6.2f} s")
        print(
            f"inspect + verify {name}: two children {data['inspect_and_verify_separate_s']:.2f} s,"
            f" one warm child {data['inspect_and_verify_shared_s']:.2f} s = "
            f"{data['shared_ratio_to_import']:.2f}x the import"
        )
    return 0


def _model_refs(folder: Path) -> list[str]:
    auto_map = json.loads((folder / "config.json").read_text())["auto_map"]
    return sorted({str(v) for k, v in auto_map.items() if k.startswith("AutoModel")})


if __name__ == "__main__":
    sys.exit(main())
