"""Reading a checkpoint folder into plain data: every file classified, exclusions explained.

:func:`classify` is pure (a relative path and the first bytes of the file); :func:`read_checkpoint`
walks the folder, classifies every file, scans small text files for Hugging Face tokens (the
token is never kept or shown, only the file is named) and records why each excluded file or
folder is left out. :func:`weight_names` lists the source tensor names (through :mod:`hf_custom.weights.sources`,
the one reader of weights files) and
:func:`weights_dtype` tells the dtype of a folder's safetensors. Nothing here writes anything.
"""

from __future__ import annotations

import enum
import fnmatch
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from hf_custom.errors import InputError
from hf_custom.findings import Finding, finding


class FileKind(str, enum.Enum):
    CODE = "code"
    CONFIG = "config"
    WEIGHTS = "weights"
    WEIGHTS_INDEX = "weights_index"
    TOKENIZER = "tokenizer"
    CARD = "card"
    TRAINING_ARTEFACT = "training_artefact"
    SECRET = "secret"
    VCS_OR_CACHE = "vcs_or_cache"
    OTHER = "other"


#: Kinds that are never staged.
EXCLUDED_KINDS = frozenset(
    {FileKind.TRAINING_ARTEFACT, FileKind.SECRET, FileKind.VCS_OR_CACHE, FileKind.OTHER}
)

VCS_OR_CACHE_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        ".ipynb_checkpoints",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".cache",
        ".venv",
        "venv",
        ".idea",
        ".vscode",
        "wandb",
        "runs",
        "mlruns",
        "lightning_logs",
        ".huggingface",
    }
)
VCS_OR_CACHE_FILES = frozenset({".DS_Store", "Thumbs.db", ".gitattributes", ".gitignore"})
TRAINING_DIR_PATTERNS = ("checkpoint-*", "global_step*")
TRAINING_FILE_PATTERNS = (
    "optimizer.pt",
    "optimizer.bin",
    "optimizer.safetensors",
    "scheduler.pt",
    "scheduler.bin",
    "scaler.pt",
    "rng_state*.pth",
    "training_args.bin",
    "trainer_state.json",
    "training_args.json",
    "zero_to_fp32.py",
    "events.out.tfevents.*",
    "latest",
)
SECRET_PATTERNS = (
    ".env",
    ".env.*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "id_rsa",
    "id_rsa.*",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    ".netrc",
    ".git-credentials",
    ".pypirc",
)
CONFIG_FILES = frozenset(
    {
        "config.json",
        "generation_config.json",
        "preprocessor_config.json",
        "processor_config.json",
        "feature_extractor_config.json",
        "image_processor_config.json",
        "video_preprocessor_config.json",
    }
)
TOKENIZER_FILES = frozenset(
    {
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "special_token_map.json",  # the common misspelling: renamed when staged
        "added_tokens.json",
        "vocab.txt",
        "vocab.json",
        "merges.txt",
        "chat_template.json",
        "chat_template.jinja",
    }
)
TOKENIZER_PATTERNS = ("*.model", "*.tiktoken", "*.spm", "vocab.*", "*-vocab.json", "*-merges.txt")
WEIGHTS_SUFFIXES = (
    ".safetensors",
    ".bin",
    ".pt",
    ".pth",
    ".ckpt",
    ".h5",
    ".msgpack",
    ".gguf",
    ".onnx",
    ".npz",
)
WEIGHTS_INDEX_SUFFIXES = (".safetensors.index.json", ".bin.index.json", ".index.json")

#: Kept for callers that bound remote reads; local files are scanned whatever their size.
TOKEN_SCAN_MAX_BYTES = 2_000_000
TOKEN_RE = re.compile(rb"(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{30,}")
# The token's body after its ``hf_`` prefix: in UTF-8/ASCII, UTF-16-LE and UTF-16-BE.
_BODY_8 = re.compile(rb"[A-Za-z0-9]{30}")
_BODY_LE = re.compile(rb"(?:[A-Za-z0-9]\0){30}")  # after "h\0f\0_\0"
_BODY_BE = re.compile(rb"(?:\0[A-Za-z0-9]){30}")  # after "\0h\0f\0_"
_SCAN_CHUNK = 1 << 20
_SCAN_OVERLAP = 1024  # longer than any token (UTF-16 included): a token across chunks is found


def _match(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def _looks_like_safetensors(head: bytes) -> bool:
    if len(head) < 10:
        return False
    n = int.from_bytes(head[:8], "little")
    return 2 <= n < 100_000_000 and head[8:9] == b"{"


def classify(relpath: str, *, head: bytes = b"") -> FileKind:
    """The kind of the file at ``relpath`` (POSIX, relative to the checkpoint root).

    ``head`` (the first bytes of the file, optional) refines files whose name says nothing.
    """
    parts = PurePosixPath(relpath).parts
    if not parts:
        return FileKind.OTHER
    name = parts[-1]
    dirs = parts[:-1]
    if any(d in VCS_OR_CACHE_DIRS for d in dirs) or name in VCS_OR_CACHE_FILES:
        return FileKind.VCS_OR_CACHE
    if name.endswith(".pyc"):
        return FileKind.VCS_OR_CACHE
    if any(_match(d, TRAINING_DIR_PATTERNS) for d in dirs):
        return FileKind.TRAINING_ARTEFACT
    if _match(name, TRAINING_FILE_PATTERNS):
        return FileKind.TRAINING_ARTEFACT
    if _match(name, SECRET_PATTERNS) or b"PRIVATE KEY-----" in head[:200]:
        return FileKind.SECRET
    if name.lower() == "readme.md" and not dirs:
        return FileKind.CARD
    if name.endswith(".py"):
        return FileKind.CODE
    if name in CONFIG_FILES:
        return FileKind.CONFIG
    if name in TOKENIZER_FILES or _match(name, TOKENIZER_PATTERNS):
        return FileKind.TOKENIZER
    if name.endswith(WEIGHTS_INDEX_SUFFIXES):
        return FileKind.WEIGHTS_INDEX
    if name.endswith(WEIGHTS_SUFFIXES):
        return FileKind.WEIGHTS
    if head and _looks_like_safetensors(head):
        return FileKind.WEIGHTS
    return FileKind.OTHER


_REASONS = {
    FileKind.TRAINING_ARTEFACT: "training artefact: not needed to load the model (and a pickle)",
    FileKind.SECRET: "may hold secrets: never published",
    FileKind.VCS_OR_CACHE: "version-control or cache data: never published",
    FileKind.OTHER: "not needed by transformers to load the model",
}
_RULES = {
    FileKind.TRAINING_ARTEFACT: "HFC600",
    FileKind.SECRET: "HFC601",
    FileKind.VCS_OR_CACHE: "HFC603",
    FileKind.OTHER: "HFC607",
}


@dataclass(frozen=True)
class FileEntry:
    path: str  # POSIX, relative to the root
    kind: FileKind
    size: int

    def to_json(self) -> dict[str, object]:
        return {"path": self.path, "kind": self.kind.value, "size": self.size}


@dataclass(frozen=True)
class Exclusion:
    """A file or folder (path ending in ``/``) left out of the staged folder, and why."""

    path: str
    kind: FileKind
    reason: str
    files: int = 1
    size: int = 0

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "kind": self.kind.value,
            "reason": self.reason,
            "files": self.files,
            "size": self.size,
        }


@dataclass(frozen=True)
class Inventory:
    root: Path
    files: tuple[FileEntry, ...]  # every file that may be staged (kinds not in EXCLUDED_KINDS)
    excluded: tuple[Exclusion, ...]
    findings: tuple[Finding, ...]

    def of_kind(self, *kinds: FileKind) -> list[FileEntry]:
        return [f for f in self.files if f.kind in kinds]

    def has(self, relpath: str) -> bool:
        return any(f.path == relpath for f in self.files)

    def to_json(self) -> dict[str, object]:
        return {
            "root": str(self.root),
            "files": [f.to_json() for f in self.files],
            "excluded": [e.to_json() for e in self.excluded],
            "findings": [f.to_json() for f in self.findings],
        }


def _read_head(path: Path, n: int = 4096) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(n)
    except OSError:
        return b""


def _word_before(data: bytes, at: int) -> bool:
    before = data[max(0, at - 2) : at].replace(b"\0", b"")[-1:]
    return before.isalnum() or before == b"_"


def _utf8_token(data: bytes) -> int | None:
    start = 0
    while (at := data.find(b"hf_", start)) >= 0:
        if not _word_before(data, at) and _BODY_8.match(data, at + 3):
            return at
        start = at + 1
    return None


def _utf16_token(data: bytes) -> int | None:
    # "f\0_\0" is in both byte orders (LE "h\0f\0_\0a\0", BE "\0h\0f\0_\0a"); the needle
    # starts with "f" so that runs of zeros (common in weights) are skipped fast.
    start = 0
    while (at := data.find(b"f\0_\0", start)) >= 0:
        le = at >= 2 and data[at - 2 : at] == b"h\0"
        if le and not _word_before(data, at - 2) and _BODY_LE.match(data, at + 4):
            return at - 2
        be = at >= 3 and data[at - 3 : at] == b"\0h\0"
        if be and not _word_before(data, at - 3) and _BODY_BE.match(data, at + 3):
            return at - 3
        start = at + 1
    return None


def find_token(data: bytes) -> int | None:
    """Offset of the first Hugging Face token in ``data`` (UTF-8/ASCII or UTF-16), or None.

    Candidates are found with ``bytes.find`` (hundreds of MB/s, on text and on weights), then
    checked by a regex anchored there.
    """
    found = [at for at in (_utf8_token(data), _utf16_token(data)) if at is not None]
    return min(found) if found else None


def scan_for_token(fh: IO[bytes]) -> int | None:
    """Stream a binary file object; the byte offset of the first token, or None.

    Any size, binary files included (a token pasted into a pickle or a notebook's outputs is
    still a token); memory stays at about one chunk. Nothing of the content is returned.
    """
    offset, tail = 0, b""
    while True:
        chunk = fh.read(_SCAN_CHUNK)
        if not chunk:
            return None
        data = tail + chunk
        hit = find_token(data)
        if hit is not None:
            return offset - len(tail) + hit
        tail = data[-_SCAN_OVERLAP:]
        offset += len(chunk)


def _holds_token(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return scan_for_token(fh) is not None
    except OSError:
        return False


def link_outside(root: Path, path: Path) -> bool:
    """True if ``path`` is a symbolic link whose target is not inside ``root`` (resolved)."""
    if not path.is_symlink():
        return False
    try:
        target = path.resolve(strict=False)
    except (OSError, RuntimeError):  # a loop
        return True
    return not target.is_relative_to(root.resolve())


_LINK_REASON = "symbolic link to something outside the checkpoint: not followed"


def _dir_totals(path: Path) -> tuple[int, int]:
    files = size = 0
    for dirpath, _dirs, names in os.walk(path):
        for n in names:
            files += 1
            try:
                size += (Path(dirpath) / n).stat().st_size
            except OSError:
                pass
    return files, size


def read_checkpoint(src: Path) -> Inventory:
    """Classify every file under ``src``; excluded files and folders come with a reason."""
    root = Path(src)
    if not root.is_dir():
        raise InputError(
            "not a folder",
            path=str(root),
            hint="give the checkpoint folder (the one holding config.json)",
        )
    files: list[FileEntry] = []
    excluded: list[Exclusion] = []
    findings: list[Finding] = []
    real_root = root.resolve()

    def outside(path: Path, rel: str) -> bool:
        if not link_outside(real_root, path):
            return False
        if rel == "config.json":
            raise InputError(
                "config.json is a symbolic link to a file outside the checkpoint",
                path=str(path),
                hint="replace the link by a copy of the file: links out of the checkpoint "
                "are never followed",
            )
        excluded.append(Exclusion(rel, FileKind.OTHER, _LINK_REASON))
        findings.append(finding("HFC608", f"{rel} excluded: {_LINK_REASON}", path=rel))
        return True

    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        rel_dir = here.relative_to(root).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        keep = []
        for d in sorted(dirnames):
            kind = None
            if outside(here / d, f"{prefix}{d}/"):
                continue
            if d in VCS_OR_CACHE_DIRS:
                kind = FileKind.VCS_OR_CACHE
            elif _match(d, TRAINING_DIR_PATTERNS):
                kind = FileKind.TRAINING_ARTEFACT
            if kind is None:
                keep.append(d)
                continue
            n, size = _dir_totals(here / d)
            rel = f"{prefix}{d}/"
            excluded.append(Exclusion(rel, kind, _REASONS[kind], files=n, size=size))
            findings.append(finding(_RULES[kind], f"{rel} excluded: {_REASONS[kind]}", path=rel))
        dirnames[:] = keep
        for name in sorted(filenames):
            path = here / name
            rel = prefix + name
            if outside(path, rel):
                continue
            try:
                size = path.stat().st_size
            except OSError:
                continue  # dangling symlink
            kind = classify(rel, head=_read_head(path, 256))
            if kind is not FileKind.VCS_OR_CACHE and _holds_token(path):
                findings.append(
                    finding(
                        "HFC602",
                        f"{rel} contains what looks like a Hugging Face token; "
                        "the file is excluded (the token is not shown)",
                        path=rel,
                    )
                )
                kind = FileKind.SECRET
                excluded.append(
                    Exclusion(rel, kind, "holds a Hugging Face token: never published", size=size)
                )
                continue
            if kind in EXCLUDED_KINDS:
                excluded.append(Exclusion(rel, kind, _REASONS[kind], size=size))
                if kind is not FileKind.VCS_OR_CACHE:
                    findings.append(
                        finding(_RULES[kind], f"{rel} excluded: {_REASONS[kind]}", path=rel)
                    )
                continue
            files.append(FileEntry(rel, kind, size))
    return Inventory(
        root=root,
        files=tuple(sorted(files, key=lambda f: f.path)),
        excluded=tuple(sorted(excluded, key=lambda e: e.path)),
        findings=tuple(sorted(findings)),
    )


def weight_names(src: Path, inventory: Inventory) -> list[str] | None:
    """Tensor names of the source weights, read by :mod:`hf_custom.weights.sources` (the one
    checkpoint reader: the names the converter will convert). None when there are no top-level
    weights or they cannot be read (the converter then says why)."""
    from hf_custom.errors import Refusal
    from hf_custom.weights.sources import tensor_names

    if not any("/" not in f.path for f in inventory.of_kind(FileKind.WEIGHTS)):
        return None
    try:
        return tensor_names(src) or None
    except (InputError, Refusal):
        return None


def weights_dtype(folder: Path) -> str | None:
    """The floating dtype holding most bytes in the folder's safetensors files (None: none)."""
    from hf_custom.weights.safetensors_format import (
        FLOAT_DTYPES,
        ST_TO_TORCH,
        read_safetensors_header,
    )

    sizes: dict[str, int] = {}
    for path in sorted(folder.glob("*.safetensors")):
        with path.open("rb") as fh:
            header = read_safetensors_header(fh, path=path.name)
        for name, info in header.items():
            if name == "__metadata__" or info.get("dtype") not in FLOAT_DTYPES:
                continue
            start, end = info["data_offsets"]
            sizes[info["dtype"]] = sizes.get(info["dtype"], 0) + end - start
    if not sizes:
        return None
    return ST_TO_TORCH[max(sorted(sizes), key=lambda d: sizes[d])]
