"""Train the LTG-BERT example for a few steps and leave a checkpoint folder the way researchers do.

    python examples/ltgbert/make_checkpoint.py --out examples/ltgbert/checkpoint

The folder it leaves is deliberately *not* ready for the Hub (that is `hf-custom publish`'s job):

- the wrapper code and the research module it imports (``from .ltgbert import ...``);
- a config.json without ``auto_map`` that still uses the pre-v5 ``torch_dtype`` key;
- ``pytorch_model.bin``: the state dict of the raw research module, saved through its
  data-parallel wrapper, so every key starts with ``module.`` instead of the wrapper's ``model.``,
  and the tied decoder/embedding matrix appears under two names;
- tokenizer.json, tokenizer_config.json and the misspelled ``special_token_map.json``;
- leftovers of training that must never be uploaded: training_args.bin and optimizer.pt.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import torch
from transformers import PreTrainedTokenizerFast, Trainer, TrainingArguments, set_seed

# The wrapper files import the research module relatively (``from .ltgbert import ...``), exactly
# as they will on the Hub, so this folder is imported as the package ``ltgbert``.
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from ltgbert.configuration_ltgbert import LtgbertConfig  # noqa: E402
from ltgbert.data import MaskedLMDataset, read_corpus, train_tokenizer  # noqa: E402
from ltgbert.modeling_ltgbert import LtgbertForMaskedLM  # noqa: E402

CODE_FILES = ("configuration_ltgbert.py", "modeling_ltgbert.py", "ltgbert.py")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="checkpoint folder to create")
    parser.add_argument("--force", action="store_true", help="replace a non-empty --out")
    parser.add_argument("--steps", type=int, default=200, help="training steps (default: 200)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    return args


def prepare_out(out: Path, *, force: bool) -> None:
    if out.exists() and any(out.iterdir()):
        if not force:
            raise SystemExit(f"error: {out} is not empty; pass --force to replace it")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def small_config(tokenizer: PreTrainedTokenizerFast) -> LtgbertConfig:
    return LtgbertConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        position_bucket_size=16,
        max_position_embeddings=128,
        pad_token_id=tokenizer.pad_token_id,
        cls_token_id=tokenizer.cls_token_id,
        sep_token_id=tokenizer.sep_token_id,
        mask_token_id=tokenizer.mask_token_id,
    )


@torch.no_grad()
def mean_loss(model: LtgbertForMaskedLM, dataset: MaskedLMDataset) -> float:
    model.eval()
    batch = {name: getattr(dataset, name) for name in ("input_ids", "attention_mask", "labels")}
    return float(model(**batch).loss)


def train(
    model: LtgbertForMaskedLM, dataset: MaskedLMDataset, *, steps: int, seed: int, work: Path
) -> Trainer:
    args = TrainingArguments(
        output_dir=str(work),
        max_steps=steps,
        per_device_train_batch_size=8,
        learning_rate=2e-3,
        warmup_steps=max(1, steps // 10),
        weight_decay=0.01,
        seed=seed,
        save_strategy="no",
        logging_strategy="no",
        report_to="none",
        use_cpu=True,
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    trainer = Trainer(model=model, args=args, train_dataset=dataset)
    trainer.train()
    return trainer


def write_checkpoint(
    out: Path, model: LtgbertForMaskedLM, tokenizer: PreTrainedTokenizerFast, trainer: Trainer
) -> None:
    for name in CODE_FILES:
        shutil.copyfile(HERE / name, out / name)

    config = json.loads(model.config.to_json_string())  # only the values that differ from defaults
    config.pop("dtype", None)
    config["torch_dtype"] = "float32"  # the key older transformers versions wrote
    (out / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")

    # What a DDP training script saves: the raw research module, keys prefixed with "module.".
    # (DataParallel names them the same way and needs no process group.)
    torch.save(torch.nn.DataParallel(model.model).state_dict(), out / "pytorch_model.bin")

    tokenizer.save_pretrained(out)
    # transformers v5 names the class TokenizersBackend, which v4 does not know; both resolve
    # PreTrainedTokenizerFast (what v4 wrote), so the folder loads on either line
    tok_config = json.loads((out / "tokenizer_config.json").read_text(encoding="utf-8"))
    if tok_config.get("tokenizer_class") == "TokenizersBackend":
        tok_config["tokenizer_class"] = "PreTrainedTokenizerFast"
        text = json.dumps(tok_config, indent=2, sort_keys=True) + "\n"
        (out / "tokenizer_config.json").write_text(text, encoding="utf-8")
    special = out / "special_tokens_map.json"
    if special.exists():
        special.rename(out / "special_token_map.json")
    else:
        text = json.dumps(tokenizer.special_tokens_map, indent=2, sort_keys=True)
        (out / "special_token_map.json").write_text(text + "\n")

    torch.save(trainer.args, out / "training_args.bin")
    torch.save(trainer.optimizer.state_dict(), out / "optimizer.pt")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    prepare_out(args.out, force=args.force)
    set_seed(args.seed)
    torch.set_num_threads(1)  # fastest for a model this small, and the same result on every run

    lines = read_corpus()
    tokenizer = train_tokenizer(lines)
    dataset = MaskedLMDataset(lines, tokenizer, seed=args.seed)
    model = LtgbertForMaskedLM(small_config(tokenizer))

    before = mean_loss(model, dataset)
    with tempfile.TemporaryDirectory() as work:
        trainer = train(model, dataset, steps=args.steps, seed=args.seed, work=Path(work))
    after = mean_loss(model, dataset)

    write_checkpoint(args.out, model, tokenizer, trainer)
    print(f"masked-LM loss {before:.3f} -> {after:.3f} after {args.steps} steps")
    print(f"checkpoint written to {args.out}")
    print(f"next: hf-custom publish {args.out} --dry-run --out /tmp/staged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
