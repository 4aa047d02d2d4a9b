"""Benchmark: converting a LLaMA-shaped fp32 pytorch_model.bin to safetensors.

    .venv/bin/python benchmarks/convert.py                 # ~3.1 GB, 3 rounds
    .venv/bin/python benchmarks/convert.py --size 0.3 --rounds 2   # quick run
    .venv/bin/python benchmarks/convert.py --size 1 --shards 8 --routes cp,hf-custom
    .venv/bin/python benchmarks/convert.py --cache file --sync   # interpreter warm; durable

Generates the checkpoint (lm_head tied to the embedding) in benchmarks/_work/, then runs the
routes alternately, each in a child process, dropping the page cache before every run when it
can (``--cache all``, the default: root's ``echo 3 > /proc/sys/vm/drop_caches``, so Python and
its libraries start cold too; it says so when it cannot), or evicting only the checkpoint's
files (``--cache file``: ``posix_fadvise(DONTNEED)``, the interpreter stays warm). ``--sync``
makes every route fsync what it wrote before its clock stops (cp included). ``--shards N``
writes the checkpoint as N ``pytorch_model-0000k-of-0000N.bin`` files with an index. Prints the
median wall time, the ratio to ``cp`` and the peak anonymous memory (RssAnon + RssShmem sampled
from /proc/<pid>/status every 10 ms). Removes its work folder at the end (--keep to keep it).
"""

from __future__ import annotations

import argparse
import json
import os
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


def generate(work: Path, shape: dict[str, int], shards: int = 1) -> Path:
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
    if shards == 1:
        torch.save(sd, ckpt / "pytorch_model.bin")
        return ckpt
    names = [n for n in sd if n != "lm_head.weight"]  # shards cannot share storages
    total = sum(sd[n].numel() for n in names)
    weight_map: dict[str, str] = {}
    part: dict[str, torch.Tensor] = {}
    done = 0
    for n in names:
        part[n] = sd[n]
        done += sd[n].numel()
        if done >= total * (len(set(weight_map.values())) + 1) / shards or n == names[-1]:
            fname = f"pytorch_model-{len(set(weight_map.values())) + 1:05d}-of-{shards:05d}.bin"
            torch.save(part, ckpt / fname)
            weight_map.update(dict.fromkeys(part, fname))
            part = {}
    count = len(set(weight_map.values()))
    for k in range(count):  # the last names may have filled fewer shards than asked
        old = f"pytorch_model-{k + 1:05d}-of-{shards:05d}.bin"
        new = f"pytorch_model-{k + 1:05d}-of-{count:05d}.bin"
        (ckpt / old).rename(ckpt / new)
        weight_map = {n: new if f == old else f for n, f in weight_map.items()}
    index = {"metadata": {"total_size": total * 4}, "weight_map": weight_map}
    (ckpt / "pytorch_model.bin.index.json").write_text(json.dumps(index))
    return ckpt


def weight_files(ckpt: Path) -> list[Path]:
    return sorted(ckpt.glob("pytorch_model*.bin"))


# -- the routes, each run in a child process: `convert.py --route NAME SRC OUT` --------------
def run_route(route: str, src: Path, out: Path, *, sync: bool = False) -> None:
    out.mkdir(parents=True, exist_ok=True)
    files = weight_files(src)
    if route == "cp":
        for f in files:
            subprocess.run(["cp", str(f), str(out / f.name)], check=True)
    elif route == "dd-direct":
        for f in files:
            subprocess.run(
                ["dd", f"if={f}", "of=/dev/null", "bs=16M", "iflag=direct", "status=none"],
                check=True,
            )
    elif route == "torch-whole":
        import torch
        from safetensors.torch import save_file

        sd = {}
        for f in files:
            sd.update(torch.load(f, weights_only=True))
        sd.pop("lm_head.weight", None)
        save_file(sd, out / "model.safetensors", metadata={"format": "pt"})
    elif route == "transformers":
        from transformers import AutoModelForCausalLM

        model = AutoModelForCausalLM.from_pretrained(src)
        model.save_pretrained(out, max_shard_size="5GB")
    elif route.startswith("hf-custom"):
        from hf_custom.weights import convert

        io = route.rsplit("-", 1)[1] if route.endswith(("-kernel", "-direct")) else "auto"
        target = files[0] if len(files) == 1 else src
        res = convert(target, out, dtype="bfloat16" if "-bf16" in route else None, io=io)
        io_doc = res.io.to_json() if res.io else None
        print(f"  {route}: I/O {io_doc}, phases {dict(res.phases)}", file=sys.stderr)
    else:
        raise SystemExit(f"unknown route {route}")
    if sync:
        for f in out.rglob("*"):
            if f.is_file():
                fd = os.open(f, os.O_RDONLY)
                os.fsync(fd)
                os.close(fd)
        fd = os.open(out, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)


def evict(ckpt: Path) -> None:
    """Drop the checkpoint's own pages from the page cache (clean pages only: sync first)."""
    subprocess.run(["sync"], check=False)
    for f in ckpt.iterdir():
        fd = os.open(f, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)


def drop_caches() -> bool:
    subprocess.run(["sync"], check=False)
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def measure(route: str, src: Path, out: Path, *, sync: bool) -> tuple[float, int]:
    """Wall seconds and peak RssAnon + RssShmem (bytes) of one run in a child process."""
    shutil.rmtree(out, ignore_errors=True)
    start = time.monotonic()
    argv = [PY, __file__, "--route", route, str(src), str(out), *(["--sync"] if sync else [])]
    proc = subprocess.Popen(argv)
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
    ap.add_argument("--shards", type=int, default=1, help="source weight files (default 1)")
    ap.add_argument(
        "--cache",
        choices=("all", "file"),
        default="all",
        help="drop the whole page cache before each run (all) or only the checkpoint's (file)",
    )
    ap.add_argument("--sync", action="store_true", help="each route fsyncs its output (timed)")
    ap.add_argument("--route", help=argparse.SUPPRESS)
    ap.add_argument("paths", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.route:
        run_route(args.route, args.paths[0], args.paths[1], sync=args.sync)
        return
    routes = [r.strip() for r in args.routes.split(",") if r.strip()]
    work = args.work
    shape = llama_shape(args.size)
    ckpt = work / "ckpt"
    made = ckpt / "made.json"
    want = {"layers": shape["layers"], "shards": args.shards}
    if not made.exists() or json.loads(made.read_text()) != want:
        shutil.rmtree(ckpt, ignore_errors=True)
        print(f"generating a LLaMA-shaped checkpoint {shape} ...", file=sys.stderr)
        generate(work, shape, args.shards)
        made.write_text(json.dumps(want))
    files = weight_files(ckpt)
    size = sum(f.stat().st_size for f in files)
    can_drop = drop_caches() if args.cache == "all" else False
    cache = (
        "whole page cache dropped before every run"
        if can_drop
        else "checkpoint files evicted before every run (interpreter warm)"
        if args.cache == "file"
        else "page cache NOT dropped (needs root): runs may be warm"
    )
    print(
        f"checkpoint: {size / 1e9:.2f} GB fp32 in {len(files)} file(s), {shape}; {cache}"
        + ("; outputs fsynced inside the timing" if args.sync else "; no sync"),
        file=sys.stderr,
    )
    times: dict[str, list[float]] = {r: [] for r in routes}
    peaks: dict[str, int] = dict.fromkeys(routes, 0)
    try:
        for k in range(args.rounds):
            for route in routes:
                if args.cache == "all":
                    drop_caches()
                else:
                    evict(ckpt)
                wall, peak = measure(route, ckpt, work / "out", sync=args.sync)
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
        f"\n{size / 1e9:.2f} GB fp32 pytorch_model.bin in {len(files)} file(s), median of "
        f"{args.rounds} runs, {cache}" + (", outputs fsynced" if args.sync else ", no sync")
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
