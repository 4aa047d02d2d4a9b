"""Benchmark: converting a LLaMA-shaped fp32 pytorch_model.bin to safetensors.

    /work/venv/bin/python benchmarks/convert.py                 # ~3.1 GB, 3 rounds
    /work/venv/bin/python benchmarks/convert.py --size 0.3 --rounds 2   # quick run

Generates the checkpoint (lm_head tied to the embedding) in benchmarks/_work/, then runs the
routes alternately, each in a child process, dropping the page cache before every run when it
can (root: ``echo 3 > /proc/sys/vm/drop_caches``; it says so when it cannot). Prints the
median wall time, the ratio to ``cp`` and the peak anonymous memory (RssAnon + RssShmem sampled
from /proc/<pid>/status every 10 ms). Removes its work folder at the end (--keep to keep it).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable

ROUTES = {
    "cp": "cp of the file",
    "dd-direct": "raw O_DIRECT read of the file (dd iflag=direct)",
    "torch-whole": "torch.load whole + safetensors save_file",
    "transformers": "transformers from_pretrained + save_pretrained",
    "hf-custom": "hf-custom convert (fp32 -> fp32, --io auto: the probe decides)",
    "hf-custom-bf16": "hf-custom convert --dtype bfloat16 (--io auto)",
    "hf-custom-kernel": "hf-custom convert --io kernel (copy_file_range, page cache)",
    "hf-custom-direct": "hf-custom convert --io direct (O_DIRECT reads and writes)",
    "hf-custom-bf16-kernel": "hf-custom convert --dtype bfloat16 --io kernel",
    "hf-custom-bf16-direct": "hf-custom convert --dtype bfloat16 --io direct",
}


def llama_shape(size_gb: float) -> dict[str, int]:
    """A LLaMA-like shape whose fp32 state dict is about ``size_gb`` GB (tied lm_head)."""
    hidden, inter, vocab = 2048, 5632, 32000
    per_layer = 4 * hidden * hidden + 3 * hidden * inter + 2 * hidden
    if size_gb < 1:
        hidden, inter, vocab = 1024, 2816, 32000
        per_layer = 4 * hidden * hidden + 3 * hidden * inter + 2 * hidden
    target = size_gb * 1e9 / 4
    layers = max(1, round((target - vocab * hidden - hidden) / per_layer))
    return {"hidden": hidden, "inter": inter, "vocab": vocab, "layers": layers}


def generate(work: Path, shape: dict[str, int]) -> Path:
    import torch
    from transformers import LlamaConfig

    ckpt = work / "ckpt"
    ckpt.mkdir(parents=True, exist_ok=True)
    h, i, v, n = shape["hidden"], shape["inter"], shape["vocab"], shape["layers"]
    config = LlamaConfig(
        vocab_size=v,
        hidden_size=h,
        intermediate_size=i,
        num_hidden_layers=n,
        num_attention_heads=h // 128,
        num_key_value_heads=h // 128,
        tie_word_embeddings=True,
    )
    config.save_pretrained(ckpt)
    g = torch.Generator().manual_seed(0)

    def rnd(*s: int) -> torch.Tensor:
        return torch.randn(*s, generator=g) * 0.02

    sd: dict[str, torch.Tensor] = {"model.embed_tokens.weight": rnd(v, h)}
    for k in range(n):
        p = f"model.layers.{k}."
        for proj in ("q_proj", "k_proj", "v_proj", "o_proj"):
            sd[p + f"self_attn.{proj}.weight"] = rnd(h, h)
        sd[p + "mlp.gate_proj.weight"] = rnd(i, h)
        sd[p + "mlp.up_proj.weight"] = rnd(i, h)
        sd[p + "mlp.down_proj.weight"] = rnd(h, i)
        sd[p + "input_layernorm.weight"] = torch.ones(h)
        sd[p + "post_attention_layernorm.weight"] = torch.ones(h)
    sd["model.norm.weight"] = torch.ones(h)
    sd["lm_head.weight"] = sd["model.embed_tokens.weight"]
    torch.save(sd, ckpt / "pytorch_model.bin")
    return ckpt


# -- the routes, each run in a child process: `convert.py --route NAME SRC OUT` --------------
def run_route(route: str, src: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    binf = src / "pytorch_model.bin"
    if route == "cp":
        subprocess.run(["cp", str(binf), str(out / "copy.bin")], check=True)
    elif route == "dd-direct":
        subprocess.run(
            ["dd", f"if={binf}", "of=/dev/null", "bs=16M", "iflag=direct", "status=none"],
            check=True,
        )
    elif route == "torch-whole":
        import torch
        from safetensors.torch import save_file

        sd = torch.load(binf, weights_only=True)
        del sd["lm_head.weight"]
        save_file(sd, out / "model.safetensors", metadata={"format": "pt"})
    elif route == "transformers":
        from transformers import AutoModelForCausalLM

        model = AutoModelForCausalLM.from_pretrained(src)
        model.save_pretrained(out, max_shard_size="5GB")
    elif route.startswith("hf-custom"):
        from hf_custom.weights import convert

        io = route.rsplit("-", 1)[1] if route.endswith(("-kernel", "-direct")) else "auto"
        res = convert(binf, out, dtype="bfloat16" if "-bf16" in route else None, io=io)
        print(f"  {route}: I/O {res.io.to_json() if res.io else None}", file=sys.stderr)
    else:
        raise SystemExit(f"unknown route {route}")


def drop_caches() -> bool:
    subprocess.run(["sync"], check=False)
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def measure(route: str, src: Path, out: Path) -> tuple[float, int]:
    """Wall seconds and peak RssAnon + RssShmem (bytes) of one run in a child process."""
    shutil.rmtree(out, ignore_errors=True)
    start = time.monotonic()
    proc = subprocess.Popen([PY, __file__, "--route", route, str(src), str(out)])
    peak = 0
    status = Path(f"/proc/{proc.pid}/status")
    while proc.poll() is None:
        try:
            # anonymous memory, private and shared (mmap(-1) buffers are counted either way)
            anon = sum(
                int(line.split()[1]) * 1024
                for line in status.read_text().splitlines()
                if line.startswith(("RssAnon:", "RssShmem:"))
            )
            peak = max(peak, anon)
        except OSError:
            pass
        time.sleep(0.01)
    wall = time.monotonic() - start
    if proc.returncode:
        raise SystemExit(f"route {route} failed with exit code {proc.returncode}")
    shutil.rmtree(out, ignore_errors=True)
    return wall, peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size", type=float, default=3.1, help="checkpoint size in GB (default 3.1)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--routes",
        default="cp,dd-direct,transformers,torch-whole,hf-custom,hf-custom-bf16",
        help=f"comma-separated, from: {', '.join(ROUTES)}",
    )
    ap.add_argument("--work", type=Path, default=HERE / "_work")
    ap.add_argument("--keep", action="store_true", help="keep the generated checkpoint")
    ap.add_argument("--json", action="store_true", help="also print the results as JSON")
    ap.add_argument("--route", help=argparse.SUPPRESS)
    ap.add_argument("paths", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.route:
        run_route(args.route, args.paths[0], args.paths[1])
        return
    routes = [r.strip() for r in args.routes.split(",") if r.strip()]
    work = args.work
    shape = llama_shape(args.size)
    ckpt = work / "ckpt"
    binf = ckpt / "pytorch_model.bin"
    if (
        not binf.exists()
        or json.loads((ckpt / "config.json").read_text())["num_hidden_layers"] != shape["layers"]
    ):
        shutil.rmtree(ckpt, ignore_errors=True)
        print(f"generating a LLaMA-shaped checkpoint {shape} ...", file=sys.stderr)
        generate(work, shape)
    size = binf.stat().st_size
    can_drop = drop_caches()
    print(
        f"checkpoint: {size / 1e9:.2f} GB fp32, {shape}; page cache "
        + (
            "dropped before every run" if can_drop else "NOT dropped (needs root): runs may be warm"
        ),
        file=sys.stderr,
    )
    times: dict[str, list[float]] = {r: [] for r in routes}
    peaks: dict[str, int] = dict.fromkeys(routes, 0)
    try:
        for k in range(args.rounds):
            for route in routes:
                drop_caches()
                wall, peak = measure(route, ckpt, work / "out")
                times[route].append(wall)
                peaks[route] = max(peaks[route], peak)
                print(
                    f"round {k + 1} {route:<15} {wall:6.2f} s  {peak / 1e9:.2f} GB", file=sys.stderr
                )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    base = statistics.median(times["cp"]) if "cp" in times else None
    print(
        f"\n{size / 1e9:.2f} GB fp32 pytorch_model.bin, median of {args.rounds} runs, caches "
        + ("dropped" if can_drop else "NOT dropped")
    )
    print("| route | wall | vs `cp` | peak anonymous memory |")
    print("|---|---|---|---|")
    for route in routes:
        med = statistics.median(times[route])
        ratio = f"{med / base:.2f}" if base else "-"
        mem = "—" if route in ("cp", "dd-direct") else f"{peaks[route] / 1e9:.2f} GB"
        print(f"| {ROUTES[route]} | {med:.1f} s | {ratio} | {mem} |")
    if args.json:
        print(json.dumps({"size": size, "times": times, "peaks": peaks}, indent=2))


if __name__ == "__main__":
    main()
