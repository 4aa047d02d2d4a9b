"""Load a checkpoint folder the way a user does, in a fresh process with a fresh modules cache:
every AutoClass of its auto_map, a forward pass, and generate() for causal LMs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, sys, torch, transformers
folder = sys.argv[1]
cfg = json.load(open(folder + "/config.json"))
out = {}
ids = torch.tensor([[1, 3, 4, 5]])
for auto in sorted(cfg["auto_map"]):
    if auto == "AutoConfig":
        continue
    try:
        model = getattr(transformers, auto).from_pretrained(folder, trust_remote_code=True)
        model.eval()
        with torch.no_grad():
            res = model(input_ids=ids)
            value = res.logits if getattr(res, "logits", None) is not None else res[0]
            if auto == "AutoModelForCausalLM":
                model.generate(ids, max_new_tokens=2, do_sample=False)
        out[auto] = {"ok": True, "output": value.flatten()[:32].tolist()}
    except Exception as exc:
        out[auto] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
print("HFC-RESULT " + json.dumps(out))
"""


def load_folder(
    folder: Path, *, timeout: float = 300, python: str | None = None
) -> dict[str, dict[str, object]]:
    """AutoClass -> {"ok", "output" (first logits) | "error"}; ``python``: another environment."""
    with tempfile.TemporaryDirectory(prefix="hfc-load-") as home:
        env = {
            **os.environ,
            "HF_HOME": home,
            "HF_MODULES_CACHE": str(Path(home) / "modules"),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_VERBOSITY": "error",
        }
        proc = subprocess.run(
            [python or sys.executable, "-c", CHILD, str(folder)],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )
    for line in proc.stdout.splitlines():
        if line.startswith("HFC-RESULT "):
            result: dict[str, dict[str, object]] = json.loads(line[len("HFC-RESULT ") :])
            return result
    return {"(process)": {"ok": False, "error": proc.stderr[-500:]}}
