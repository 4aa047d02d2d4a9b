"""Check that the wrapped folder computes what the research module computes:

    python examples/ltgbert_wrap/check_wrapped.py /tmp/ltgbert_raw /tmp/ltgbert_hf

Loads ``AutoModelForMaskedLM`` from the wrapped folder (trust_remote_code) and the plain
``LtgBert`` with the raw weights, and prints both masked-LM losses on the example's data (eval
mode); they must agree.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from torch.nn import functional as F
from transformers import AutoModelForMaskedLM, PreTrainedTokenizerFast

LTGBERT = Path(__file__).resolve().parents[1] / "ltgbert"
sys.path.insert(0, str(LTGBERT.parent))
from ltgbert.data import MaskedLMDataset, read_corpus  # noqa: E402
from ltgbert.ltgbert import LtgBert  # noqa: E402


@torch.no_grad()
def main(raw: Path, wrapped: Path) -> int:
    tokenizer = PreTrainedTokenizerFast.from_pretrained(raw)
    data = MaskedLMDataset(read_corpus(), tokenizer, seed=0)
    batch = {n: getattr(data, n) for n in ("input_ids", "attention_mask", "labels")}

    research = LtgBert(**json.loads((raw / "args.json").read_text()))
    research.load_state_dict(torch.load(raw / "ltgbert.pt", weights_only=True))
    research.eval()
    hidden = research(batch["input_ids"].T, padding_mask=batch["attention_mask"] == 0)
    logits = research.classifier(hidden)
    research_loss = F.cross_entropy(logits.flatten(0, 1), batch["labels"].T.flatten())

    model = AutoModelForMaskedLM.from_pretrained(wrapped, trust_remote_code=True).eval()
    wrapped_loss = model(**batch).loss
    print(json.dumps({"research_loss": float(research_loss), "wrapped_loss": float(wrapped_loss)}))
    return 0 if torch.allclose(research_loss, wrapped_loss, atol=1e-5) else 1


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1]), Path(sys.argv[2])))
