"""Tokenizer files: planned from plain data (pure), then written into the staging folder.

:func:`plan_tokenizer` decides which tokenizer files are staged (the misspelled
``special_token_map.json`` under its right name), what tokenizer_config.json needs
(``auto_map.AutoTokenizer`` as ``[slow, fast]`` for classes shipped in the code), and which
special-token ids config.json lacks or contradicts. :func:`write_tokenizer` copies and writes.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hf_custom.codeinfo import ClassInfo, CodePackage
from hf_custom.findings import Finding, Severity, finding
from hf_custom.staging.config import Change

MISSPELLED_MAP = "special_token_map.json"
SPECIAL_MAP = "special_tokens_map.json"
JSON_FILES = ("tokenizer.json", "tokenizer_config.json", SPECIAL_MAP, MISSPELLED_MAP)
#: special token -> config.json key
SPECIAL_IDS = {
    "pad_token": "pad_token_id",
    "bos_token": "bos_token_id",
    "eos_token": "eos_token_id",
    "sep_token": "sep_token_id",
}


@dataclass(frozen=True)
class TokenizerPlan:
    copies: Mapping[str, str]  # staged name -> source relpath (byte copy)
    writes: Mapping[str, dict[str, Any]]  # staged name -> JSON document to write
    config_updates: Mapping[str, int]  # config.json keys to set
    changes: tuple[Change, ...]
    findings: tuple[Finding, ...]
    tokenizer_classes: tuple[str | None, str | None] = (None, None)  # auto_map [slow, fast]
    token_ids: Mapping[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {
            "files": sorted(set(self.copies) | set(self.writes)),
            "changes": [c.to_json() for c in self.changes],
            "findings": [f.to_json() for f in self.findings],
            "auto_tokenizer": list(self.tokenizer_classes),
        }


def _token_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return value["content"]
    return None


def vocab_lookup(
    tokenizer_json: Mapping[str, Any] | None,
    *,
    vocab_json: Mapping[str, Any] | None = None,
    vocab_txt: str | None = None,
    added_tokens_decoder: Mapping[str, Any] | None = None,
) -> dict[str, int]:
    """token -> id from tokenizer.json (model vocab + added tokens), else vocab.json (a
    token -> id object) or vocab.txt (one token a line), plus tokenizer_config.json's
    ``added_tokens_decoder``."""
    vocab: dict[str, int] = {}
    if tokenizer_json is not None:
        model = tokenizer_json.get("model") or {}
        raw = model.get("vocab") if isinstance(model, dict) else None
        if isinstance(raw, dict):
            vocab.update({k: v for k, v in raw.items() if isinstance(v, int)})
        elif isinstance(raw, list):  # Unigram: [[piece, score], ...]
            for i, item in enumerate(raw):
                if isinstance(item, list) and item and isinstance(item[0], str):
                    vocab[item[0]] = i
        for tok in tokenizer_json.get("added_tokens") or []:
            if (
                isinstance(tok, dict)
                and isinstance(tok.get("content"), str)
                and isinstance(tok.get("id"), int)
            ):
                vocab[tok["content"]] = tok["id"]
    elif vocab_json is not None:
        vocab.update({k: v for k, v in vocab_json.items() if isinstance(v, int)})
    elif vocab_txt is not None:
        for i, line in enumerate(vocab_txt.splitlines()):
            vocab.setdefault(line.rstrip("\r\n"), i)
    for key, tok in (added_tokens_decoder or {}).items():
        text = _token_text(tok)
        if text is not None and str(key).isdigit():
            vocab[text] = int(key)
    return vocab


def _custom_classes(code: CodePackage) -> tuple[ClassInfo | None, ClassInfo | None]:
    slow = fast = None
    for cls in code.tokenizer_classes():
        if code.is_fast_tokenizer_class(cls):
            fast = fast or cls
        else:
            slow = slow or cls
    return slow, fast


def _ref(cls: ClassInfo | None) -> str | None:
    return f"{cls.module}.{cls.name}" if cls is not None else None


def _entry_ok(code: CodePackage, value: Any) -> bool:
    if value is None:
        return True
    if not isinstance(value, str) or "." not in value:
        return False
    if "--" in value:
        return True
    module, _, name = value.rpartition(".")
    return code.find_class(name, module=module) is not None


def takes_text(config: Mapping[str, Any]) -> bool:
    """Whether the model reads or writes token ids: a ``vocab_size`` in config.json or in one of
    its sub-configs (``text_config``, ``decoder``, ...). A vision or audio-classification model
    has none and needs no tokenizer."""
    if "vocab_size" in config:
        return True
    return any(isinstance(v, Mapping) and "vocab_size" in v for v in config.values())


def plan_tokenizer(
    files: Mapping[str, str],
    *,
    config: Mapping[str, Any],
    code: CodePackage,
) -> TokenizerPlan:
    """Plan the staged tokenizer files (PURE).

    ``files`` maps the tokenizer files at the top of the checkpoint to their text (JSON files and
    vocab.txt must be given with their text; others may map to "").
    """
    copies: dict[str, str] = {}
    writes: dict[str, dict[str, Any]] = {}
    changes: list[Change] = []
    findings: list[Finding] = []
    parsed: dict[str, dict[str, Any]] = {}

    for name in JSON_FILES:
        if name not in files:
            continue
        try:
            doc = json.loads(files[name])
        except ValueError as exc:
            findings.append(finding("HFC404", f"{name} is not valid JSON: {exc}", path=name))
            continue
        if not isinstance(doc, dict):
            findings.append(finding("HFC404", f"{name} is not a JSON object", path=name))
            continue
        parsed[name] = doc

    for name in sorted(files):
        if name != MISSPELLED_MAP:
            copies[name] = name

    if MISSPELLED_MAP in files:
        copies.pop(MISSPELLED_MAP, None)
        if SPECIAL_MAP in files:
            findings.append(
                finding(
                    "HFC400",
                    f"both {MISSPELLED_MAP} and {SPECIAL_MAP}: the misspelled one is not staged",
                    path=MISSPELLED_MAP,
                )
            )
        else:
            copies[SPECIAL_MAP] = MISSPELLED_MAP
            if MISSPELLED_MAP in parsed:
                parsed[SPECIAL_MAP] = parsed[MISSPELLED_MAP]
            changes.append(
                Change(
                    "(file)",
                    MISSPELLED_MAP,
                    SPECIAL_MAP,
                    "transformers reads only special_tokens_map.json",
                    file=SPECIAL_MAP,
                )
            )
            findings.append(
                finding(
                    "HFC400",
                    f"{MISSPELLED_MAP} staged as {SPECIAL_MAP}",
                    path=MISSPELLED_MAP,
                    severity=None,
                )
            )

    # auto_map.AutoTokenizer for tokenizer classes shipped as code
    slow, fast = _custom_classes(code)
    auto_pair: tuple[str | None, str | None] = (_ref(slow), _ref(fast))
    if slow is not None or fast is not None:
        tok_cfg = dict(parsed.get("tokenizer_config.json") or {})
        old_map = tok_cfg.get("auto_map")
        entry = None
        if isinstance(old_map, dict):
            entry = old_map.get("AutoTokenizer")
        elif isinstance(old_map, list):
            entry = old_map
        valid = (
            isinstance(entry, list)
            and len(entry) == 2
            and any(e is not None for e in entry)
            and all(_entry_ok(code, e) for e in entry)
        )
        if entry is not None and not valid:
            findings.append(
                finding(
                    "HFC405",
                    f"auto_map.AutoTokenizer = {entry!r} names nothing shipped: replaced",
                    path="tokenizer_config.json",
                )
            )
        if not valid:
            new_map = dict(old_map) if isinstance(old_map, dict) else {}
            new_map["AutoTokenizer"] = list(auto_pair)
            tok_cfg["auto_map"] = new_map
            changes.append(
                Change(
                    "auto_map.AutoTokenizer",
                    entry,
                    list(auto_pair),
                    "the tokenizer classes shipped in the code",
                    file="tokenizer_config.json",
                )
            )
            if "tokenizer_config.json" not in files:
                findings.append(
                    finding(
                        "HFC401",
                        "custom tokenizer class shipped without tokenizer_config.json: written",
                        path="tokenizer_config.json",
                        severity=Severity.WARNING,
                    )
                )
        else:
            auto_pair = (entry[0], entry[1])  # type: ignore[index]
        wanted_class = (slow or fast).name  # type: ignore[union-attr]
        if tok_cfg.get("tokenizer_class") is None:
            tok_cfg["tokenizer_class"] = wanted_class
            changes.append(
                Change(
                    "tokenizer_class",
                    None,
                    wanted_class,
                    "names the shipped tokenizer class",
                    file="tokenizer_config.json",
                )
            )
        if tok_cfg != parsed.get("tokenizer_config.json"):
            writes["tokenizer_config.json"] = tok_cfg
            copies.pop("tokenizer_config.json", None)
            parsed["tokenizer_config.json"] = tok_cfg
    else:
        auto_pair = (None, None)

    # special-token ids against config.json
    token_ids: dict[str, int] = {}
    config_updates: dict[str, int] = {}
    vocab_json = None
    if "vocab.json" in files and "tokenizer.json" not in files:
        try:
            doc = json.loads(files["vocab.json"])
            vocab_json = doc if isinstance(doc, dict) else None
        except ValueError:
            findings.append(finding("HFC404", "vocab.json is not valid JSON", path="vocab.json"))
    decoder = (parsed.get("tokenizer_config.json") or {}).get("added_tokens_decoder")
    vocab = vocab_lookup(
        parsed.get("tokenizer.json"),
        vocab_json=vocab_json,
        vocab_txt=files.get("vocab.txt") if "tokenizer.json" not in files else None,
        added_tokens_decoder=decoder if isinstance(decoder, dict) else None,
    )
    if vocab:
        specials: dict[str, str] = {}
        for source in (SPECIAL_MAP, "tokenizer_config.json"):
            doc = parsed.get(source) or {}
            for tok in SPECIAL_IDS:
                text = _token_text(doc.get(tok))
                if text is not None:
                    specials.setdefault(tok, text)
        for tok, key in sorted(SPECIAL_IDS.items()):
            text = specials.get(tok)
            if text is None or text not in vocab:
                continue
            tid = vocab[text]
            token_ids[key] = tid
            have = config.get(key)
            if have is None:
                if key not in config or key == "pad_token_id":  # null is missing too
                    config_updates[key] = tid
                    changes.append(Change(key, None, tid, f"the tokenizer's id of {text!r}"))
                continue
            ok = tid in have if isinstance(have, list) else have == tid
            if not ok:
                findings.append(
                    finding(
                        "HFC402",
                        f"config.json {key} = {have!r} but the tokenizer's {tok} {text!r} has "
                        f"id {tid}",
                        path="config.json",
                    )
                )

    if not files and takes_text(config):
        findings.append(finding("HFC403", "no tokenizer files in the checkpoint", path=""))

    return TokenizerPlan(
        copies=copies,
        writes=writes,
        config_updates=config_updates,
        changes=tuple(changes),
        findings=tuple(sorted(findings)),
        tokenizer_classes=auto_pair,
        token_ids=token_ids,
    )


def write_json_atomic(path: Path, doc: Mapping[str, Any]) -> None:
    """Write ``doc`` as indented JSON to ``path`` through a temp file and os.replace."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_tokenizer(plan: TokenizerPlan, src: Path, staging: Path) -> list[str]:
    """Copy and write the planned files into ``staging``; return the staged names."""
    written = []
    for dest, origin in sorted(plan.copies.items()):
        if dest in plan.writes:
            continue
        shutil.copyfile(src / origin, staging / dest)
        written.append(dest)
    for dest, doc in sorted(plan.writes.items()):
        write_json_atomic(staging / dest, doc)
        written.append(dest)
    return sorted(written)


def read_tokenizer_files(src: Path, names: list[str]) -> dict[str, str]:
    """The text of the JSON tokenizer files and vocab files among ``names`` ("" for others)."""
    out: dict[str, str] = {}
    for name in names:
        if name in JSON_FILES or name in ("vocab.txt", "vocab.json"):
            out[name] = (src / name).read_text(encoding="utf-8", errors="replace")
        else:
            out[name] = ""
    return out
