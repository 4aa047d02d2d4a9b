"""Packaging the custom code: the flat folder of modules transformers' dynamic loader can import.

transformers (``dynamic_module_utils.py``) loads remote code from ONE flat folder: it finds the
files a module needs with a regular expression over ``from .name import`` / ``import .name``
(``get_relative_imports``), copies each as ``<name>.py`` next to the module, and refuses to import
anything whose absolute imports are not installed (``check_imports``). :func:`plan_code` computes
the closure of the configuration/modeling/tokenization modules (and the ``auto_map`` modules)
under those rules: subpackage modules and modules of the author's own package are vendored under
flat names and their imports rewritten in place (only the import statement's text changes; the
rest of the file is kept byte for byte), third-party imports are classified exactly as
``check_imports`` would, and every change is reported. :func:`write_code` writes the plan.
The source folder is only read.
"""

from __future__ import annotations

import ast
import keyword
import os
import re
import sys
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hf_custom.codeinfo import CodePackage, ImportInfo, ModuleInfo, analyze_package, parse_module
from hf_custom.errors import InputError
from hf_custom.events import EventSink, Progress, emit
from hf_custom.findings import Finding, Severity, finding
from hf_custom.staging.imports import (
    counted_by_check_imports,
    distribution_name,
    installed,
    loader_guard_names,
    loader_pattern_matches,
    local_install,
    top_level_names,
    transformers_model_dirs_with,
    transformers_module_exists,
    transformers_source_dir,
    transformers_version,
)

ENTRY_PREFIXES = ("configuration_", "modeling_", "tokenization_")
CORE_MODULES = frozenset({"torch", "transformers"})


@dataclass(frozen=True)
class Rewrite:
    """One import statement rewritten in a packaged file (path/line in the source folder)."""

    path: str
    line: int
    old: str
    new: str
    reason: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "old": self.old,
            "new": self.new,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class ThirdPartyImport:
    """An absolute import of a package that is neither stdlib nor the author's own code.

    ``guarded``: transformers' ``check_imports`` ignores it (inside ``try``, or under an
    ``if is_..._available():``); an unguarded import of a package that is not installed makes
    transformers refuse to load the code, even inside a function or ``if TYPE_CHECKING:``.
    """

    module: str  # top-level import name
    line: int
    path: str
    guarded: bool
    installed: bool
    in_function: bool = False
    full: str = ""  # the dotted module as written


@dataclass(frozen=True)
class CodePlan:
    files: Mapping[str, str]  # flat destination filename -> final source text
    origins: Mapping[str, str]  # destination filename -> source path (relative to the checkpoint)
    rewrites: tuple[Rewrite, ...]
    third_party: tuple[ThirdPartyImport, ...]
    requirements: tuple[str, ...]  # distributions the code needs (unguarded imports)
    findings: tuple[Finding, ...]
    package: CodePackage  # analysis of the staged files (flat module names)
    optional_requirements: tuple[str, ...] = ()  # distributions of guarded imports only
    core_imports: tuple[str, ...] = ()  # torch / transformers when the code imports them


@dataclass
class _Unit:
    path: Path
    root: Path
    rel: str
    text: str
    info: ModuleInfo
    flat: str
    edits: list[tuple[int, int, int, int, str]] = field(default_factory=list)
    bad_encoding: bool = False
    # names the loader's relative-import pattern finds in this file (it copies <name>.py)
    visible: frozenset[str] = frozenset()
    needed: dict[str, int] = field(default_factory=dict)  # flat module -> line importing it


_REPAIRED = "repaired in the staged copy; make the same change in your source to keep them in sync"


class _Refused(Exception):
    pass


def _sanitize(part: str) -> str:
    name = re.sub(r"\W", "_", part)
    if not name or name[0].isdigit() or keyword.iskeyword(name):
        name = f"_{name}"
    return name


def _line_starts(data: bytes) -> list[int]:
    # ast counts \r\n, \r and \n as line ends
    return [0, *(m.end() for m in re.finditer(rb"\r\n|\r|\n", data))]


def _span(text: str, imp: ImportInfo) -> str:
    # ast columns are UTF-8 byte offsets
    data = text.encode("utf-8", "surrogateescape")
    starts = _line_starts(data)
    return data[starts[imp.line - 1] + imp.col : starts[imp.end_line - 1] + imp.end_col].decode(
        "utf-8", "surrogateescape"
    )


def _join(text: str, imp: ImportInfo, statements: Sequence[str]) -> str:
    """Statements replacing ``imp``, one per line at its indentation.

    transformers' pattern only sees ``from .x import`` at the START of a line, so
    ``a; from .x import y`` would hide x.py from the loader. Only when the statement shares its
    line with other code (``if c: from . import m``) are they joined with ``; ``.
    """
    data = text.encode("utf-8", "surrogateescape")
    starts = _line_starts(data)
    start = starts[imp.line - 1]
    prefix = data[start : start + imp.col].decode("utf-8", "surrogateescape")
    if prefix.strip():
        return "; ".join(statements)
    end = starts[imp.line] if imp.line < len(starts) else len(data)
    line = data[start:end]
    newline = "\r\n" if line.endswith(b"\r\n") else "\r" if line.endswith(b"\r") else "\n"
    return (newline + prefix).join(statements)


def _apply_edits(text: str, edits: Sequence[tuple[int, int, int, int, str]]) -> str:
    data = text.encode("utf-8", "surrogateescape")
    starts = _line_starts(data)
    for line, col, end_line, end_col, new in sorted(edits, reverse=True):
        a, b = starts[line - 1] + col, starts[end_line - 1] + end_col
        data = data[:a] + new.encode("utf-8", "surrogateescape") + data[b:]
    return data.decode("utf-8", "surrogateescape")


def _source_line(edits: Sequence[tuple[int, int, int, int, str]], final_line: int) -> int:
    """Map a line of the rewritten text back to the source (rewrites may join lines)."""
    shift = 0
    for line, _col, end_line, _end_col, new in sorted(edits):
        if final_line <= line - shift:
            break
        shift += (end_line - line) - new.count("\n")
    return final_line + shift


def _oneline(code: str) -> str:
    """An import statement on one line for a message (``(\n    a,\n)`` -> ``(a,)``)."""
    text = " ".join(line.split("#")[0].strip() for line in code.splitlines())
    return re.sub(r"\(\s+", "(", re.sub(r"\s+\)", ")", text)).strip()


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _dynamic_init(text: str) -> str | None:
    """Why a package ``__init__`` cannot be vendored as a flat module (None if it can)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in {"__getattr__", "__dir__"}:
            return f"defines a module-level {node.name}() (lazy attributes)"
    for sub in ast.walk(tree):
        if isinstance(sub, ast.Name) and sub.id in {"__path__", "_LazyModule", "__import__"}:
            return f"uses {sub.id}"
        if isinstance(sub, ast.Attribute) and sub.attr in {"import_module", "_LazyModule"}:
            return f"uses {sub.attr}"
    return None


def _top_level_names(path: Path) -> set[str]:
    """Names a module defines at its top level (classes, functions, assignments, imports)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return set()
    return top_level_names(tree)


class _Planner:
    def __init__(self, src: Path, code_root: Path | None) -> None:
        self.src = src
        self.code_root = code_root
        self.units: dict[Path, _Unit] = {}
        self.order: list[Path] = []
        self.findings: list[Finding] = []
        self.refusals: list[Finding] = []
        self.rewrites: list[Rewrite] = []
        self.third_party: list[ThirdPartyImport] = []
        self.core: set[str] = set()
        self.local_reported: set[tuple[Path, str]] = set()
        self.reserved = {p.stem for p in src.glob("*.py")}
        self.taken: dict[str, Path] = {}
        self.guards = loader_guard_names()
        self.index_cache: dict[str, bool] = {}

    # -- files and names -----------------------------------------------------------------------
    def rel(self, path: Path) -> str:
        return Path(os.path.relpath(path, self.src)).as_posix()

    def _flat(self, path: Path, root: Path) -> str:
        if path.parent == self.src and path.name != "__init__.py":
            return path.stem
        parts = list(path.relative_to(root).parts)
        parts[-1] = parts[-1].removesuffix(".py")
        if parts[-1] == "__init__":
            parts.pop()
        base = "_".join(_sanitize(p) for p in parts) or "package_init"
        name, n = base, 1
        while (name in self.taken and self.taken[name] != path) or name in self.reserved:
            n += 1
            name = f"{base}_{n}"
        return name

    def unit(self, path: Path, root: Path) -> _Unit:
        path = Path(os.path.abspath(path))  # noqa: PTH100 (symlinks count where they sit)
        if path in self.units:
            return self.units[path]
        if _within(path, self.src):
            root = self.src
        raw = path.read_bytes()
        text = raw.decode("utf-8", "surrogateescape")  # undecodable bytes survive the round trip
        encoding_problem = ""
        if raw.startswith(b"\xef\xbb\xbf"):
            text = text[1:]
            encoding_problem = "bom"
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            encoding_problem = f"byte {exc.start}"
        flat = self._flat(path, root)
        self.taken[flat] = path
        u = _Unit(
            path=path,
            root=root,
            rel=self.rel(path),
            text=text,
            info=parse_module(path.name, text),
            flat=flat,
        )
        u.visible = frozenset(n for _, n in loader_pattern_matches(text, (), include_imports=True))
        self.units[path] = u
        self.order.append(path)
        if encoding_problem == "bom":
            self.report(
                "HFC206",
                "starts with a UTF-8 byte-order mark, which transformers' check_imports cannot "
                "parse; removed in the staged copy",
                u,
                1,
                severity=Severity.WARNING,
                fix=_REPAIRED,
            )
        elif encoding_problem:
            u.bad_encoding = True
            self.report(
                "HFC206",
                f"is not valid UTF-8 ({encoding_problem}); transformers reads code as UTF-8",
                u,
                0,
            )
        return u

    def _own_root(self, top: str) -> Path | None:
        if top in CORE_MODULES:
            return None  # torch and transformers are the loader's own, never vendored
        roots: list[tuple[Path, bool]] = [(self.src, False)]
        if self.code_root is not None:
            roots += [(self.code_root, False), (self.code_root.parent, True)]
        roots.append((self.src.parent, True))
        for root, only_self in roots:
            if only_self and root / top not in (self.src, self.code_root):
                continue
            if root == self.code_root and self._from_index(top):
                continue  # --code-root at site-packages: installed packages stay imports
            if (root / f"{top}.py").is_file() or (root / top / "__init__.py").is_file():
                return root
            d = root / top
            if d.is_dir() and any(d.glob("*.py")) and (only_self or not installed(top)):
                return root
        return None

    def _from_index(self, top: str) -> bool:
        """Installed from a package index (users can install it too), not from a local folder."""
        if top not in self.index_cache:
            self.index_cache[top] = installed(top) and local_install(top) is None
        return self.index_cache[top]

    @staticmethod
    def _locate(base: Path, parts: Sequence[str]) -> tuple[Path | None, Path | None]:
        """(module file or package __init__, package dir) for ``parts`` under ``base``."""
        p = base.joinpath(*parts)
        if parts and not (p / "__init__.py").is_file() and p.with_name(p.name + ".py").is_file():
            return p.with_name(p.name + ".py"), None
        if p.is_dir() and (not parts or (p / "__init__.py").is_file() or any(p.glob("*.py"))):
            init = p / "__init__.py"
            return (init if init.is_file() else None), p
        return None, None

    # -- findings ------------------------------------------------------------------------------
    def report(
        self,
        rule: str,
        msg: str,
        u: _Unit,
        line: int,
        *,
        severity: Severity | None = None,
        fix: str | None = None,
    ) -> None:
        self.findings.append(finding(rule, msg, path=u.rel, line=line, severity=severity, fix=fix))

    def refuse(self, rule: str, msg: str, u: _Unit, line: int, fix: str) -> None:
        self.refusals.append(
            finding(rule, msg, path=u.rel, line=line, fix=fix, severity=Severity.ERROR)
        )
        raise _Refused

    def target(self, u: _Unit, imp: ImportInfo, path: Path, root: Path) -> _Unit:
        t = self.unit(path, root)
        u.needed.setdefault(t.flat, imp.line)
        if path.name == "__init__.py" and t.path.parent != self.src:
            why = _dynamic_init(t.text)
            if why:
                self.refuse(
                    "HFC202",
                    f"cannot flatten package {self.rel(t.path.parent)}/: its __init__.py {why}",
                    u,
                    imp.line,
                    f"import the names from the modules that define them (not from "
                    f"{self.rel(t.path.parent)}/), or move those modules next to the modeling file",
                )
        return t

    # -- imports -------------------------------------------------------------------------------
    def visit(self, u: _Unit) -> None:
        if u.info.syntax_error and not u.bad_encoding:
            self.report(
                "HFC206", f"syntax error: {u.info.syntax_error}", u, u.info.syntax_error_line
            )
            return
        groups: dict[tuple[int, int], list[ImportInfo]] = {}
        for imp in u.info.imports:
            groups.setdefault((imp.line, imp.col), []).append(imp)
        for imps in groups.values():
            try:
                if imps[0].is_from:
                    self.visit_from(u, imps[0])
                else:
                    self.visit_import(u, imps)
            except _Refused:
                continue

    def _base(self, u: _Unit, imp: ImportInfo) -> tuple[Path, list[str], bool] | None:
        """(base dir, module parts, absolute) of an import of the author's code, else None."""
        parts = imp.module.split(".") if imp.module else []
        if imp.level:
            base = u.path.parent
            for _ in range(imp.level - 1):
                base = base.parent
            if not _within(base, u.root):
                if self.fork_import(u, imp):
                    return None
                self.refuse(
                    "HFC209",
                    f"`{_span(u.text, imp)}` reaches above {'the checkpoint folder' if u.root == self.src else self.rel(u.root)}",
                    u,
                    imp.line,
                    "move the imported module into the checkpoint folder, or import it absolutely and pass --code-root",
                )
            return base, parts, False
        root = self._own_root(parts[0])
        if root is None:
            self.classify(u, imp)
            return None
        return root, parts, True

    # -- forks of transformers' own models -----------------------------------------------------
    @staticmethod
    def _fork_target(u: _Unit, imp: ImportInfo) -> str | None:
        """What a package-relative import means inside transformers, for a file that sat in
        ``transformers/models/<name>/``: ``...x`` -> ``transformers.x``, ``..m.x`` ->
        ``transformers.models.m.x``."""
        prefix = {2: "transformers.models", 3: "transformers"}.get(imp.level)
        if prefix is None:
            return None
        return f"{prefix}.{imp.module}" if imp.module else prefix

    def _is_fork(self, u: _Unit) -> bool:
        """A top-level file some of whose imports above the folder are modules of transformers."""
        if u.path.parent != self.src or transformers_source_dir() is None:
            return False
        for imp in u.info.imports:
            target = self._fork_target(u, imp) if imp.is_from else None
            if target and transformers_module_exists(target):
                return True
        return False

    def fork_import(self, u: _Unit, imp: ImportInfo) -> bool:
        """Rewrite an import above the checkpoint of a transformers fork; False if not a fork."""
        target = self._fork_target(u, imp)
        if target is None or not self._is_fork(u):
            return False
        if not transformers_module_exists(target):
            self.refuse(
                "HFC209",
                f"`{_oneline(_span(u.text, imp))}` (copied from transformers) means `{target}`, "
                f"which does not exist in the installed transformers {transformers_version()}",
                u,
                imp.line,
                f"copy the module the import needs into the checkpoint folder and import it "
                f"relatively, or import what replaced `{target}` in this transformers version",
            )
        self.absolute(u, imp, target)
        return True

    def fork_sibling(self, u: _Unit, imp: ImportInfo, parts: Sequence[str]) -> bool:
        """``from .configuration_llama import LlamaConfig`` in a fork whose configuration file
        was not copied: the module of the forked transformers model, when it defines the names."""
        if u.path.parent != self.src or not self._is_fork(u):
            return False
        dirs = transformers_model_dirs_with(parts[0])
        if len(dirs) > 1:  # the model the file was copied from, by its name
            dirs = tuple(d for d in dirs if u.path.stem.endswith(f"_{d}"))
        if len(dirs) != 1:
            return False
        target = f"transformers.models.{dirs[0]}.{imp.module}"
        root = transformers_source_dir()
        assert root is not None
        path = root.joinpath("models", dirs[0], *parts)
        path = path.with_name(path.name + ".py")
        if not path.is_file() or not set(imp.names) <= _top_level_names(path) | {"*"}:
            return False
        self.absolute(u, imp, target)
        return True

    def absolute(self, u: _Unit, imp: ImportInfo, target: str) -> None:
        old = _span(u.text, imp)
        m = re.match(r"from\s+[.\s]+(?:[A-Za-z_][\w.]*)?\s*(?=import\b)", old)
        assert m is not None, old
        new = f"from {target} " + old[m.end() :]
        u.edits.append((imp.line, imp.col, imp.end_line, imp.end_col, new))
        self.core.add("transformers")
        reason = "package-relative import of transformers (a fork), made absolute"
        self.rewrites.append(Rewrite(path=u.rel, line=imp.line, old=old, new=new, reason=reason))
        self.report(
            "HFC211",
            f"{reason}: `{_oneline(old)}` -> `{_oneline(new)}`",
            u,
            imp.line,
            severity=Severity.WARNING,
            fix=_REPAIRED,
        )

    def missing(self, u: _Unit, imp: ImportInfo, what: str) -> None:
        # Even a guarded relative import is fatal: transformers copies every file its pattern
        # matches (inside try blocks too), and copying a file that does not exist raises.
        note = " (transformers copies it even inside try/except, so the load fails)" * imp.guarded
        self.report("HFC201", f"`{_span(u.text, imp)}`: {what} does not exist{note}", u, imp.line)

    def _visible(self, flat: str, asname: str) -> str:
        # `from . import m` is invisible to transformers' get_relative_imports regex: the extra
        # `from .m import __name__` makes the loader copy m.py; the binding stays the same.
        bind = flat if asname == flat else f"{flat} as {asname}"
        return f"from .{flat} import __name__ as _hfc_{flat}; from . import {bind}"

    def visit_from(self, u: _Unit, imp: ImportInfo) -> None:
        based = self._base(u, imp)
        if based is None:
            return
        base, parts, absolute = based
        mod_file, pkg_dir = self._locate(base, parts)
        if pkg_dir == self.src:
            mod_file = None  # the loader never imports the checkpoint's own __init__.py
        if mod_file is None and pkg_dir is None:
            if imp.level == 1 and parts and self.fork_sibling(u, imp, parts):
                return
            self.missing(
                u, imp, f"module {'.'.join(parts) or '.'} ({self.rel(base.joinpath(*parts))}.py)"
            )
            return
        old = _span(u.text, imp)
        pieces: list[str] = []
        subs: list[_Unit] = []
        if pkg_dir is None:
            assert mod_file is not None
            t = self.target(u, imp, mod_file, base if absolute else u.root)
            if imp.level == 1 and imp.module == t.flat:
                return  # already a flat relative import the loader follows
            idx = re.search(r"\bimport\b", old)
            assert idx is not None
            new = f"from .{t.flat} " + old[idx.start() :]
            subs.append(t)
        else:
            symbols: list[str] = []
            for name, asname in imp.aliases:
                sub_file, _ = self._locate(pkg_dir, [name]) if name != "*" else (None, None)
                if sub_file is not None:
                    t = self.target(u, imp, sub_file, base if absolute else u.root)
                    subs.append(t)
                    pieces.append(self._visible(t.flat, asname or name))
                else:
                    symbols.append(name if asname is None else f"{name} as {asname}")
            if (
                not symbols
                and not absolute
                and imp.level == 1
                and all(t.path.parent == self.src for t in subs)
                and {t.flat for t in subs} <= u.visible
            ):
                return  # `from . import m` with m.py already matched by the loader's pattern
            if symbols:
                if mod_file is None:
                    self.missing(
                        u,
                        imp,
                        f"{', '.join(symbols)}: no such module in {self.rel(pkg_dir)}/, and no __init__.py that",
                    )
                    return
                t = self.target(u, imp, mod_file, base if absolute else u.root)
                subs.append(t)
                pieces.append(f"from .{t.flat} import {', '.join(symbols)}")
            new = _join(u.text, imp, pieces)
        self.edit(
            u,
            imp,
            old,
            new,
            absolute=absolute,
            nested=any(s.path.parent != self.src for s in subs) or imp.level > 1,
        )

    def visit_import(self, u: _Unit, imps: list[ImportInfo]) -> None:
        pieces: list[str] = []
        changed = False
        absolute = False
        for imp in imps:
            ((name, asname),) = imp.aliases
            based = self._base(u, imp)
            if based is None:
                pieces.append(f"import {name}" + (f" as {asname}" if asname else ""))
                continue
            base, parts, absolute = based
            mod_file, _ = self._locate(base, parts)
            if mod_file is None:
                self.missing(u, imp, f"module {name}")
                return
            if "." in name and asname is None:
                self.refuse(
                    "HFC203",
                    f"`import {name}` binds the package `{parts[0]}`, which cannot be vendored flat",
                    u,
                    imp.line,
                    f"write `from {name.rpartition('.')[0]} import {parts[-1]}` or `import {name} as {parts[-1]}`",
                )
            t = self.target(u, imp, mod_file, base)
            pieces.append(self._visible(t.flat, asname or name))
            changed = True
        if changed:
            self.edit(
                u,
                imps[0],
                _span(u.text, imps[0]),
                _join(u.text, imps[0], pieces),
                absolute=absolute,
                nested=True,
            )

    def edit(
        self, u: _Unit, imp: ImportInfo, old: str, new: str, *, absolute: bool, nested: bool
    ) -> None:
        u.edits.append((imp.line, imp.col, imp.end_line, imp.end_col, new))
        if absolute:
            rule, reason = (
                "HFC203",
                "absolute import of the author's own code, vendored into the package",
            )
        elif nested:
            rule, reason = "HFC202", "subpackage import, flattened"
        else:
            rule, reason = "HFC208", "module import the loader does not see, made visible"
        self.rewrites.append(Rewrite(path=u.rel, line=imp.line, old=old, new=new, reason=reason))
        self.report(
            rule,
            f"{reason}: `{_oneline(old)}` -> `{'; '.join(x.strip() for x in new.splitlines())}`",
            u,
            imp.line,
            severity=Severity.WARNING,
            fix=_REPAIRED,
        )

    def shield(self, u: _Unit, imp: ImportInfo, top: str) -> bool:
        """A lazy import inside a function, under an ``if``, of a package not installed here
        (``if is_deepspeed_zero3_enabled(): import deepspeed``): it runs only when its condition
        holds, yet transformers' ``check_imports`` refuses to load the code without the package.
        Wrapped in ``try: ... except ImportError: raise`` (which check_imports skips): the same
        behaviour when the line runs, no refusal at load time."""
        old = _span(u.text, imp)
        data = u.text.encode("utf-8", "surrogateescape")
        start = _line_starts(data)[imp.line - 1]
        indent = data[start : start + imp.col].decode("utf-8", "surrogateescape")
        if indent.strip() or imp.in_type_checking:  # shares its line with other code
            return False
        body = old.replace("\n", "\n    ")
        new = f"try:\n{indent}    {body}\n{indent}except ImportError:\n{indent}    raise"
        u.edits.append((imp.line, imp.col, imp.end_line, imp.end_col, new))
        reason = "conditional import inside a function, shielded from check_imports"
        self.rewrites.append(Rewrite(path=u.rel, line=imp.line, old=old, new=new, reason=reason))
        self.report(
            "HFC204",
            f"`{top}` (not installed here) is imported only when `{imp.if_calls[0]}()` holds, "
            "but transformers' check_imports would refuse to load the code without it: wrapped "
            "in `try: ... except ImportError: raise` (same behaviour when the line runs)",
            u,
            imp.line,
            severity=Severity.WARNING,
            fix=_REPAIRED,
        )
        return True

    def classify(self, u: _Unit, imp: ImportInfo) -> None:
        top = imp.module.split(".")[0]
        if top == "__future__" or top in sys.stdlib_module_names:
            return
        if top in CORE_MODULES:
            self.core.add(top)
            return
        counted = counted_by_check_imports(imp, self.guards)
        present = installed(top)
        shielded = bool(counted and not present and imp.in_function and imp.if_calls)
        shielded = shielded and self.shield(u, imp, top)
        counted = counted and not shielded
        self.third_party.append(
            ThirdPartyImport(
                module=top,
                line=imp.line,
                path=u.rel,
                guarded=not counted,
                installed=present,
                in_function=imp.in_function,
                full=imp.module,
            )
        )
        if present:
            local = local_install(top)
            if local and (u.path, top) not in self.local_reported:
                self.local_reported.add((u.path, top))
                self.report(
                    "HFC203",
                    f"`{top}` is installed here from a local folder ({local}), not from a package "
                    "index: users loading the model will not have it",
                    u,
                    imp.line,
                    fix=f"pass --code-root with the folder that holds the `{top}` package "
                    "so that it is vendored, or publish it to PyPI",
                )
            return
        if shielded:
            return
        if counted:
            where = "inside a function" if imp.in_function else "at module level"
            if imp.in_type_checking:
                where = "under `if TYPE_CHECKING:`"
            self.report(
                "HFC204",
                f"`{top}` is imported {where} and is not installed: transformers' check_imports "
                f"counts this import and refuses to load the code without `{distribution_name(top)}`",
                u,
                imp.line,
            )
        else:
            self.report(
                "HFC205",
                f"optional import of `{top}` (not installed here; transformers ignores it)",
                u,
                imp.line,
            )


def plan_code(
    src: Path,
    *,
    code_root: Path | None = None,
    entry: Collection[str] = (),
    refuse: bool = True,
    on_event: EventSink | None = None,
) -> CodePlan:
    """Plan the flat code package of checkpoint folder ``src`` (read only).

    ``entry``: extra module names (from ``auto_map``) besides the top-level ``configuration_*``,
    ``modeling_*`` and ``tokenization_*`` files. Raises :class:`InputError` when the code cannot be
    flattened (the findings say where and how to fix it); with ``refuse=False`` those findings
    are errors of the returned plan instead (the imports behind them left as they are), so
    staging can go on planning and report every error at once.
    """
    src = Path(src).resolve()
    if not src.is_dir():
        raise InputError("not a folder", path=str(src), hint="pass the checkpoint folder")
    if code_root is not None:
        code_root = Path(code_root).resolve()
        if not code_root.is_dir():
            raise InputError(
                "--code-root is not a folder",
                path=str(code_root),
                hint="pass the folder that holds your package",
            )
    p = _Planner(src, code_root)
    names = {f.stem for f in src.glob("*.py") if f.name.startswith(ENTRY_PREFIXES)}
    for e in entry:
        if "--" in e:  # code in another repository ("org/repo--module"): packaged when shipped
            e = e.partition("--")[2]
            if not (src / f"{e}.py").is_file():
                continue
        names.add(e.removesuffix(".py"))
    for name in sorted(names):
        path = src / f"{name}.py"
        if not path.is_file():
            p.findings.append(
                finding(
                    "HFC207",
                    f"module `{name}` is named in auto_map but {name}.py does not exist",
                    path=f"{name}.py",
                )
            )
            continue
        p.unit(path, src)
    i = 0
    while i < len(p.order):
        p.visit(p.units[p.order[i]])
        i += 1
        # the closure grows as it is read: the total is what is known so far
        emit(on_event, Progress("reading the import closure", i, len(p.order), unit="files"))
    if p.refusals and not refuse:
        p.findings.extend(p.refusals)
    elif p.refusals:
        first = p.refusals[0]
        raise InputError(
            f"line {first.line}: {first.message}"
            + (f" (and {len(p.refusals) - 1} more)" if len(p.refusals) > 1 else ""),
            path=first.path,
            hint=first.fix,
            findings=sorted(p.refusals),
        )
    files: dict[str, str] = {}
    origins: dict[str, str] = {}
    for path in p.order:
        u = p.units[path]
        files[f"{u.flat}.py"] = _apply_edits(u.text, u.edits) if u.edits else u.text
        origins[f"{u.flat}.py"] = u.rel
    for path in p.order:
        u = p.units[path]
        final = files[f"{u.flat}.py"]
        seen = {n for _, n in loader_pattern_matches(final, (), include_imports=True)}
        for name, line in sorted(u.needed.items()):
            if name not in seen and name != u.flat:
                p.report(
                    "HFC208",
                    f"`{name}` is imported on a line shared with other code, where transformers' "
                    f"loader does not see it, so {name}.py would not be copied",
                    u,
                    line,
                    fix=f"put the import of {name} on its own line",
                )
        for line, name in loader_pattern_matches(final, files):
            p.report(
                "HFC210",
                f"this line matches transformers' relative-import pattern (`from .{name} import`), "
                f"so the loader will try to copy {name}.py, which is not in the package",
                u,
                _source_line(u.edits, line),
            )
    required = sorted({distribution_name(t.module) for t in p.third_party if not t.guarded})
    optional = sorted(
        {distribution_name(t.module) for t in p.third_party if t.guarded} - set(required)
    )
    return CodePlan(
        files=dict(sorted(files.items())),
        origins=dict(sorted(origins.items())),
        rewrites=tuple(p.rewrites),
        third_party=tuple(sorted(p.third_party, key=lambda t: (t.path, t.line, t.module))),
        requirements=tuple(required),
        findings=tuple(sorted(p.findings)),
        package=analyze_package(files),
        optional_requirements=tuple(optional),
        core_imports=tuple(sorted(p.core)),
    )


def write_code(plan: CodePlan, staging_dir: Path) -> None:
    """Write the planned files into ``staging_dir`` (each atomically: temp file, then rename)."""
    staging_dir = Path(staging_dir)
    staging_dir.mkdir(parents=True, exist_ok=True)
    for name, text in plan.files.items():
        dest = staging_dir / name
        tmp = staging_dir / f".{name}.{os.getpid()}.tmp"
        tmp.write_bytes(text.encode("utf-8", "surrogateescape"))
        tmp.replace(dest)
