"""Benchmark: the first build of a transformers v4 environment, and a warm matrix run.

    python benchmarks/envs.py                         # 4.57, installer as hf-custom picks it
    python benchmarks/envs.py --version 4.57.6 --installer pip --json

Everything runs in a temporary HF_HOME, with the installer's download cache in a fresh
temporary folder for every build (so each build downloads what it needs: a *first* build).

1. First build: ``hf_custom.envs.ensure_env(VERSION)`` against the baseline measured in the
   same run, a plain ``python -m venv`` plus the same installer's
   ``install transformers==VERSION`` (what anyone would do by hand). Then the same call again
   (the cache reused: no rebuild).
2. Warm matrix run of the examples (``examples/ltgbert`` and ``examples/tinylm``, trained for a
   few steps and staged): ``verify_matrix`` with VERSION and the installed transformers, against
   one ``verify`` under the installed transformers (the single-version run it replaces).

Prints the seconds and the ratios (first build / plain install, matrix / single verify).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ("ltgbert", "tinylm")


def _fresh_caches(tmp: Path) -> None:
    """Point pip's and uv's download caches at a new empty folder (a cold first build)."""
    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=tmp))
    os.environ["PIP_CACHE_DIR"] = str(cache / "pip")
    os.environ["UV_CACHE_DIR"] = str(cache / "uv")


def plain_install(tmp: Path, version: str, *, installer: str) -> float:
    """``python -m venv`` + ``install transformers==version``: the by-hand baseline."""
    from hf_custom.envs import find_uv

    _fresh_caches(tmp)
    venv = tmp / f"plain-{installer}"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    req = f"transformers=={version}"
    if installer == "uv":
        uv = find_uv()
        assert uv is not None
        cmd = [uv, "pip", "install", "-q", "--python", python, req]
    else:
        cmd = [sys.executable, "-m", "pip", "--python", python, "install", "-q",
               "--progress-bar", "off", req]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def first_build(tmp: Path, version: str, *, installer: str) -> dict[str, Any]:
    from hf_custom.envs import ensure_env, envs_root, list_envs

    _fresh_caches(tmp)
    root = envs_root()
    start = time.perf_counter()
    env, built = ensure_env(version, root=root, installer=installer)
    first = time.perf_counter() - start
    start = time.perf_counter()
    again, rebuilt = ensure_env(version, root=root, installer=installer)
    reuse = time.perf_counter() - start
    assert built and not rebuilt and again == env and len(list_envs(root=root)) == 1
    return {"first_build_s": first, "reuse_s": reuse, "env": env.to_json()}


def stage_examples(tmp: Path, steps: int) -> dict[str, Path]:
    from hf_custom.staging import stage

    out = {}
    for name in EXAMPLES:
        ckpt = tmp / f"{name}-checkpoint"
        script = ROOT / "examples" / name / "make_checkpoint.py"
        subprocess.run(
            [sys.executable, str(script), "--out", str(ckpt), "--steps", str(steps)],
            check=True,
            capture_output=True,
        )
        out[name] = stage(ckpt, out=tmp / f"{name}-staged").out
    return out


def matrix_runs(staged: dict[str, Path], version: str) -> dict[str, Any]:
    from hf_custom.envs import parse_specs, resolve_targets
    from hf_custom.verification import verify
    from hf_custom.verification.matrix import verify_matrix

    start = time.perf_counter()
    targets = resolve_targets(parse_specs([version, "installed"]))
    resolve = time.perf_counter() - start
    assert not any(t.built for t in targets), "the environment should be cached (warm run)"
    out: dict[str, Any] = {"resolve_targets_s": resolve, "models": {}}
    for name, folder in staged.items():
        start = time.perf_counter()
        single = verify(folder, timeout=900)
        single_s = time.perf_counter() - start
        start = time.perf_counter()
        matrix = verify_matrix(folder, targets, timeout=900)
        matrix_s = time.perf_counter() - start
        out["models"][name] = {
            "single_verify_s": single_s,
            "matrix_s": matrix_s,
            "matrix_versions": list(matrix.versions),
            "ratio_matrix_to_single": matrix_s / single_s,
            "single_ok": single.ok,
            "failed_versions": list(matrix.failed),
        }
    return out


def _round(doc: Any) -> Any:
    if isinstance(doc, float):
        return round(doc, 2)
    if isinstance(doc, dict):
        return {k: _round(v) for k, v in doc.items()}
    return doc


def main(argv: list[str] | None = None) -> int:
    from hf_custom.envs import find_uv

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--version", default="4.57.6", help="the exact v4 version to build")
    ap.add_argument("--installer", choices=["auto", "uv", "pip"], default="auto")
    ap.add_argument("--steps", type=int, default=5, help="training steps of the examples")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    installer = args.installer
    if installer == "auto":
        installer = "uv" if find_uv() else "pip"
    tmp = Path(tempfile.mkdtemp(prefix="bench-envs-"))
    old = {k: os.environ.get(k) for k in ("HF_HOME", "PIP_CACHE_DIR", "UV_CACHE_DIR")}
    os.environ["HF_HOME"] = str(tmp / "hf_home")
    try:
        plain = plain_install(tmp, args.version, installer=installer)
        build = first_build(tmp, args.version, installer=installer)
        staged = stage_examples(tmp, args.steps)
        runs = matrix_runs(staged, args.version)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        shutil.rmtree(tmp, ignore_errors=True)
    result = {
        "version": args.version,
        "installer": installer,
        "plain_install_s": plain,
        **build,
        "ratio_first_build_to_plain_install": build["first_build_s"] / plain,
        **runs,
    }
    result = _round(result)
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
        return 0
    print(f"transformers {args.version} with {installer}:")
    print(f"  plain venv + install      {result['plain_install_s']:8.2f} s")
    print(
        f"  first build (ensure_env)  {result['first_build_s']:8.2f} s  "
        f"x{result['ratio_first_build_to_plain_install']:.2f} of the plain install"
    )
    print(f"  cached (second call)      {result['reuse_s']:8.2f} s")
    print(f"  resolve_targets, warm     {result['resolve_targets_s']:8.2f} s")
    for name, m in result["models"].items():
        print(
            f"  {name}: single verify {m['single_verify_s']:.2f} s, matrix "
            f"{'+'.join(m['matrix_versions'])} {m['matrix_s']:.2f} s "
            f"(x{m['ratio_matrix_to_single']:.2f}); failed: {m['failed_versions'] or 'none'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
