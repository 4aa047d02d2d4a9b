from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from hf_custom.codeinfo import analyze_package
from hf_custom.staging.tokenizer import (
    plan_tokenizer,
    read_tokenizer_files,
    vocab_lookup,
    write_tokenizer,
)

TOKENIZER_JSON = {
    "version": "1.0",
    "model": {
        "type": "WordPiece",
        "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "a": 4},
    },
    "added_tokens": [{"id": 5, "content": "<eos>", "special": True}],
}
SPECIALS = {"pad_token": "[PAD]", "sep_token": "[SEP]", "eos_token": {"content": "<eos>"}}

SLOW_TOKENIZER = (
    "from transformers import PreTrainedTokenizer\n"
    "class TinyTokenizer(PreTrainedTokenizer):\n    pass\n"
)
FAST_TOKENIZER = (
    "from transformers import PreTrainedTokenizerFast\n"
    "class TinyTokenizerFast(PreTrainedTokenizerFast):\n    pass\n"
)
NO_CODE = analyze_package({})


def dumps(doc: Any) -> str:
    return json.dumps(doc)


def test_vocab_lookup() -> None:
    vocab = vocab_lookup(TOKENIZER_JSON)
    assert vocab["[PAD]"] == 0 and vocab["<eos>"] == 5
    unigram = {"model": {"type": "Unigram", "vocab": [["<pad>", 0.0], ["x", -1.0]]}}
    assert vocab_lookup(unigram) == {"<pad>": 0, "x": 1}
    assert vocab_lookup(None, vocab_txt="[PAD]\n[UNK]\n") == {"[PAD]": 0, "[UNK]": 1}


# (id, files, config, expected config_updates, expected finding ids, staged names)
CASES: list[tuple[str, dict[str, str], dict[str, Any], dict[str, int], set[str], set[str]]] = [
    (
        "fills-missing-ids",
        {"tokenizer.json": dumps(TOKENIZER_JSON), "special_tokens_map.json": dumps(SPECIALS)},
        {},
        {"pad_token_id": 0, "sep_token_id": 3, "eos_token_id": 5},
        set(),
        {"tokenizer.json", "special_tokens_map.json"},
    ),
    (
        "consistent-ids",
        {"tokenizer.json": dumps(TOKENIZER_JSON), "special_tokens_map.json": dumps(SPECIALS)},
        {"pad_token_id": 0, "sep_token_id": 3, "eos_token_id": [5, 3]},
        {},
        set(),
        {"tokenizer.json", "special_tokens_map.json"},
    ),
    (
        "mismatch",
        {"tokenizer.json": dumps(TOKENIZER_JSON), "special_tokens_map.json": dumps(SPECIALS)},
        {"pad_token_id": 1, "sep_token_id": 3, "eos_token_id": 5},
        {},
        {"HFC402"},
        {"tokenizer.json", "special_tokens_map.json"},
    ),
    (
        "misspelled-map-renamed",
        {"tokenizer.json": dumps(TOKENIZER_JSON), "special_token_map.json": dumps(SPECIALS)},
        {"pad_token_id": 0, "sep_token_id": 3, "eos_token_id": 5},
        {},
        {"HFC400"},
        {"tokenizer.json", "special_tokens_map.json"},
    ),
    (
        "vocab-txt-only",
        {"vocab.txt": "[PAD]\n[UNK]\n[CLS]\n[SEP]\n", "tokenizer_config.json": dumps(SPECIALS)},
        {},
        {"pad_token_id": 0, "sep_token_id": 3},
        set(),
        {"vocab.txt", "tokenizer_config.json"},
    ),
    (
        "vocab-json-and-added-tokens-decoder",
        {
            "vocab.json": dumps({"<pad>": 0, "<s>": 1, "a": 2}),
            "tokenizer_config.json": dumps(
                {
                    "added_tokens_decoder": {"3": {"content": "</s>", "special": True}},
                    "bos_token": "<s>",
                    "eos_token": "</s>",
                    "pad_token": "<pad>",
                }
            ),
        },
        {"bos_token_id": 1, "eos_token_id": 2},
        {"pad_token_id": 0},
        {"HFC402"},
        {"vocab.json", "tokenizer_config.json"},
    ),
    ("malformed", {"tokenizer.json": "{not json"}, {}, {}, {"HFC404"}, {"tokenizer.json"}),
    ("nothing", {}, {"vocab_size": 9}, {}, {"HFC403"}, set()),
    ("nothing, text sub-config", {}, {"text_config": {"vocab_size": 9}}, {}, {"HFC403"}, set()),
    ("nothing, vision model", {}, {"image_size": 32, "num_labels": 3}, {}, set(), set()),
]


@pytest.mark.parametrize(
    ("files", "config", "updates", "ids", "staged"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_plan_tokenizer(
    files: dict[str, str],
    config: dict[str, Any],
    updates: dict[str, int],
    ids: set[str],
    staged: set[str],
) -> None:
    plan = plan_tokenizer(files, config=config, code=NO_CODE)
    assert dict(plan.config_updates) == updates
    assert {f.id for f in plan.findings} == ids
    assert set(plan.copies) | set(plan.writes) == staged


@pytest.mark.parametrize(
    ("sources", "pair"),
    [
        ({"tokenization_tiny.py": SLOW_TOKENIZER}, ["tokenization_tiny.TinyTokenizer", None]),
        (
            {"tokenization_tiny.py": SLOW_TOKENIZER, "tokenization_tiny_fast.py": FAST_TOKENIZER},
            ["tokenization_tiny.TinyTokenizer", "tokenization_tiny_fast.TinyTokenizerFast"],
        ),
    ],
)
def test_auto_map_for_custom_tokenizer(sources: dict[str, str], pair: list[str | None]) -> None:
    code = analyze_package(sources)
    files = {"tokenizer_config.json": dumps({"model_max_length": 64})}
    plan = plan_tokenizer(files, config={}, code=code)
    written = plan.writes["tokenizer_config.json"]
    assert written["auto_map"]["AutoTokenizer"] == pair
    assert written["tokenizer_class"] == "TinyTokenizer"
    assert written["model_max_length"] == 64
    assert any(c.key == "auto_map.AutoTokenizer" for c in plan.changes)


def test_auto_map_missing_target_replaced() -> None:
    code = analyze_package({"tokenization_tiny.py": SLOW_TOKENIZER})
    files = {
        "tokenizer_config.json": dumps(
            {"auto_map": {"AutoTokenizer": ["tokenization_tiny.Nope", None]}}
        )
    }
    plan = plan_tokenizer(files, config={}, code=code)
    assert {f.id for f in plan.findings} == {"HFC405"}
    assert plan.writes["tokenizer_config.json"]["auto_map"]["AutoTokenizer"] == [
        "tokenization_tiny.TinyTokenizer",
        None,
    ]


def test_valid_auto_map_kept() -> None:
    code = analyze_package({"tokenization_tiny.py": SLOW_TOKENIZER})
    doc = {
        "auto_map": {"AutoTokenizer": ["tokenization_tiny.TinyTokenizer", None]},
        "tokenizer_class": "TinyTokenizer",
    }
    plan = plan_tokenizer({"tokenizer_config.json": dumps(doc)}, config={}, code=code)
    assert not plan.writes and not plan.findings
    assert plan.copies == {"tokenizer_config.json": "tokenizer_config.json"}


def test_custom_tokenizer_without_config_writes_one() -> None:
    code = analyze_package({"tokenization_tiny.py": SLOW_TOKENIZER})
    plan = plan_tokenizer({"vocab.txt": "a\nb\n"}, config={}, code=code)
    assert "tokenizer_config.json" in plan.writes
    assert "HFC401" in {f.id for f in plan.findings}


def test_write_tokenizer(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "tokenizer.json").write_text(dumps(TOKENIZER_JSON))
    (src / "special_token_map.json").write_text(dumps(SPECIALS))
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in src.iterdir()}
    files = read_tokenizer_files(src, ["tokenizer.json", "special_token_map.json"])
    code = analyze_package({"tokenization_tiny.py": SLOW_TOKENIZER})
    plan = plan_tokenizer(files, config={}, code=code)
    out = tmp_path / "out"
    out.mkdir()
    names = write_tokenizer(plan, src, out)
    assert names == ["special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"]
    assert json.loads((out / "special_tokens_map.json").read_text()) == SPECIALS
    assert json.loads((out / "tokenizer_config.json").read_text())["auto_map"]
    assert before == {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in src.iterdir()}


def test_pad_token_id_null_in_config_written_from_the_tokenizer() -> None:
    files = {
        "vocab.json": dumps({"<pad>": 0, "a": 1}),
        "tokenizer_config.json": dumps({"pad_token": "<pad>"}),
    }
    plan = plan_tokenizer(files, config={"pad_token_id": None, "vocab_size": 2}, code=NO_CODE)
    assert dict(plan.config_updates) == {"pad_token_id": 0}
    assert [c.key for c in plan.changes if c.file == "config.json"] == ["pad_token_id"]
