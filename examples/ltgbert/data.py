"""Training data for the LTG-BERT example: a WordPiece tokenizer trained on the bundled corpus and a
``torch.utils.data.Dataset`` whose items are dicts named after the forward's arguments."""

from __future__ import annotations

import string
from pathlib import Path

import torch
from tokenizers import (
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
    trainers,
)
from torch.utils.data import Dataset
from transformers import PreTrainedTokenizerFast

CORPUS = Path(__file__).resolve().parent / "corpus.txt"
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def read_corpus(path: Path = CORPUS) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def train_tokenizer(lines: list[str], *, vocab_size: int = 600) -> PreTrainedTokenizerFast:
    """A cased WordPiece tokenizer with BERT-style [CLS] ... [SEP] framing. Its alphabet holds every
    printable ASCII character besides those of the corpus, so English text never needs [UNK]."""
    normalizer = normalizers.BertNormalizer(lowercase=False)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    words = (
        w
        for line in lines
        for w, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(line))
    )
    characters = sorted({c for word in words for c in word} | set(string.printable.strip()))

    # The trainer numbers "##x" pieces in hash-map order, which changes merge tie-breaks from run
    # to run (huggingface/tokenizers#1794). Declaring every "##x" up front makes training
    # deterministic; the model is then rebuilt from the vocabulary so they are ordinary tokens.
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS + [f"##{c}" for c in characters],
        initial_alphabet=characters,
    )
    trained = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    trained.normalizer, trained.pre_tokenizer = normalizer, pre_tokenizer
    trained.train_from_iterator(lines, trainer)

    backend = Tokenizer(models.WordPiece(vocab=trained.get_vocab(), unk_token="[UNK]"))
    backend.normalizer, backend.pre_tokenizer = normalizer, pre_tokenizer
    backend.decoder = decoders.WordPiece()
    backend.add_special_tokens(SPECIAL_TOKENS)
    cls_id, sep_id = backend.token_to_id("[CLS]"), backend.token_to_id("[SEP]")
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_input_names=["input_ids", "attention_mask"],
        model_max_length=128,
    )


class MaskedLMDataset(Dataset[dict[str, torch.Tensor]]):
    """Each item is ``{"input_ids", "attention_mask", "labels"}``: a padded sentence with 15% of its
    words replaced by [MASK] (fixed per item, drawn from ``seed``), labels -100 elsewhere."""

    def __init__(
        self,
        lines: list[str],
        tokenizer: PreTrainedTokenizerFast,
        *,
        max_length: int = 32,
        mask_probability: float = 0.15,
        seed: int = 0,
    ) -> None:
        encoded = tokenizer(
            lines, padding="max_length", truncation=True, max_length=max_length, return_tensors="pt"
        )
        self.attention_mask = encoded["attention_mask"]
        special = torch.tensor(
            [
                tokenizer.get_special_tokens_mask(ids, already_has_special_tokens=True)
                for ids in encoded["input_ids"].tolist()
            ],
            dtype=torch.bool,
        )
        generator = torch.Generator().manual_seed(seed)
        draw = torch.rand(encoded["input_ids"].shape, generator=generator)
        masked = (draw < mask_probability) & ~special
        masked[:, 1] |= ~masked.any(dim=1)  # at least one masked word per sentence
        self.labels = torch.where(masked, encoded["input_ids"], -100)
        self.input_ids = encoded["input_ids"].masked_fill(masked, tokenizer.mask_token_id)

    def __len__(self) -> int:
        return self.input_ids.shape[0]

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {
            "input_ids": self.input_ids[index],
            "attention_mask": self.attention_mask[index],
            "labels": self.labels[index],
        }
