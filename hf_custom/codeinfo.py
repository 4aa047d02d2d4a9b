"""Static facts about a custom-code package, read with :mod:`ast` (never imported, never run).

:func:`parse_module` turns one source file into a :class:`ModuleInfo` (imports with where they sit,
classes with their bases and literal class attributes, ``config.X`` reads, dotted calls);
:func:`analyze_package` groups modules into a :class:`CodePackage` that resolves inheritance
inside the package, so that a model class deriving from ``MyPreTrainedModel`` deriving from
``PreTrainedModel`` is recognised as a model class. Syntax errors are reported in
``ModuleInfo.syntax_error``, never raised.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath

# Base-class names as transformers spells them. Both config spellings exist in transformers 5
# (``PretrainedConfig = PreTrainedConfig`` in configuration_utils.py); the tokenizer names are
# the v4 names and the v5 backends they alias (``PreTrainedTokenizer = PythonBackend``,
# ``PreTrainedTokenizerFast = TokenizersBackend`` in transformers 5.24).
CONFIG_BASES = frozenset({"PretrainedConfig", "PreTrainedConfig"})


def non_model_config(name: str) -> bool:
    """transformers' top-level ``*Config`` classes that are not a model's PretrainedConfig."""
    return name in {"GenerationConfig", "BitsAndBytesConfig", "GPTQConfig", "AwqConfig"} or any(
        w in name for w in ("Generation", "Quant", "Watermark", "Compile", "Fp8", "FP8", "Hqq")
    )


MODEL_BASES = frozenset({"PreTrainedModel"})
GENERATION_BASES = frozenset({"GenerationMixin"})
TOKENIZER_BASES = frozenset(
    {
        "PreTrainedTokenizer",
        "PreTrainedTokenizerFast",
        "PreTrainedTokenizerBase",
        "TokenizersBackend",
        "PythonBackend",
        "SentencePieceBackend",
        "MistralCommonBackend",
    }
)
FAST_TOKENIZER_BASES = frozenset({"PreTrainedTokenizerFast", "TokenizersBackend"})


@dataclass(frozen=True)
class Ref:
    """A class attribute whose value is a name (``config_class = MyConfig`` is stored as a str)."""

    name: str


@dataclass(frozen=True)
class NonLiteral:
    """A class attribute whose value is an expression that is not a literal (source text kept)."""

    source: str


@dataclass(frozen=True)
class ImportInfo:
    """One imported module. ``from a import (x, y)`` is one ImportInfo; ``import a, b`` is two.

    ``module`` is the dotted module as written ("" for ``from . import x``); ``level`` the number
    of leading dots (0 = absolute). ``guarded``: inside a try block or an ``if`` (including
    ``if TYPE_CHECKING:``); ``in_try`` (an ``ast.Try``, not ``try/except*``) and ``if_calls`` (bare names of functions called in the
    tests of the enclosing ``if`` statements) let callers mirror transformers' exact rule.
    ``aliases`` pairs each imported name with its ``as`` name (or None). The span
    (``line``/``col``/``end_line``/``end_col``, 1-based lines, 0-based columns) covers the whole
    statement, so a rewrite can replace exactly that text.
    """

    module: str
    level: int
    names: tuple[str, ...]
    line: int
    guarded: bool = False
    in_function: bool = False
    in_try: bool = False
    if_calls: tuple[str, ...] = ()
    in_type_checking: bool = False
    is_from: bool = True
    aliases: tuple[tuple[str, str | None], ...] = ()
    col: int = 0
    end_line: int = 0
    end_col: int = 0

    @property
    def top(self) -> str:
        """First segment of an absolute module ("" for relative imports)."""
        return "" if self.level else self.module.split(".")[0]

    @property
    def star(self) -> bool:
        return self.names == ("*",)


@dataclass(frozen=True)
class ClassInfo:
    name: str
    module: str
    bases: tuple[str, ...]  # dotted, as written
    line: int
    # Bases with import aliases resolved: "transformers.PreTrainedModel", "torch.nn.Module",
    # ".configuration_x.MyConfig" (relative, dots kept); a name defined in the same module or
    # unknown stays as written.
    resolved_bases: tuple[str, ...] = ()
    attrs: Mapping[str, object] = field(default_factory=dict)
    methods: tuple[str, ...] = ()
    calls_post_init: bool = False
    decorators: tuple[str, ...] = ()
    init_params: tuple[str, ...] = ()  # parameters of __init__ (without self, * and **)
    init_has_kwargs: bool = False
    # plain names called anywhere in the class body (``Block(config)``: layers it builds)
    called_names: frozenset[str] = frozenset()
    end_line: int = 0
    # ``self.X = ...`` / ``setattr(self, "X", ...)`` anywhere in the class, annotated names
    self_assigned: frozenset[str] = frozenset()
    dynamic_attrs: bool = False  # setattr(self, name, ...) with a computed name, __dict__.update

    @property
    def is_dataclass_like(self) -> bool:
        return any(d.split(".")[-1] in {"dataclass", "dataclasses"} for d in self.decorators)


@dataclass(frozen=True)
class ModuleInfo:
    name: str  # module stem ("modeling_x"; "__init__" for a package init)
    path: str  # relpath as given
    imports: tuple[ImportInfo, ...] = ()
    classes: tuple[ClassInfo, ...] = ()
    syntax_error: str | None = None
    syntax_error_line: int = 0
    config_reads: tuple[tuple[str, int], ...] = ()  # (attr, line) for config.X / self.config.X
    # the reads among them that cannot fail: in a ``try``, or under hasattr/getattr of the attr
    guarded_reads: frozenset[tuple[str, int]] = frozenset()
    # and the reads that run whenever a method of :data:`RUN_AT_LOAD` runs (not in a branch,
    # loop, raise or try; ``x if x is not None else config.x`` counts: the default call runs it)
    sure_reads: frozenset[tuple[str, int]] = frozenset()
    calls: tuple[tuple[str, int], ...] = ()  # (dotted name with import aliases resolved, line)
    functions: tuple[str, ...] = ()  # top-level functions
    defined: frozenset[str] = (
        frozenset()
    )  # every top-level binding (classes, defs, assigns, imports)
    bindings: Mapping[str, str] = field(default_factory=dict)  # local name -> imported origin


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else None
    if isinstance(node, ast.Subscript):  # Generic[T] -> Generic
        return _dotted(node.value)
    if isinstance(node, ast.Call):  # decorators like @dataclass(frozen=True)
        return _dotted(node.func)
    return None


def _resolve(dotted: str, bindings: Mapping[str, str]) -> str:
    head, _, rest = dotted.partition(".")
    origin = bindings.get(head)
    if origin is None:
        return dotted
    return f"{origin}.{rest}" if rest else origin


def _is_config(node: ast.expr) -> bool:
    """``config`` or ``self.config``."""
    if isinstance(node, ast.Name):
        return node.id == "config"
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "config"
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    )


def _probed(test: ast.expr) -> set[str]:
    """Attributes a test probes: ``hasattr(config, "x")``, ``getattr(config, "x", d)``."""
    out: set[str] = set()
    for n in ast.walk(test):
        if (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Name)
            and n.func.id in {"hasattr", "getattr"}
            and len(n.args) >= 2
            and _is_config(n.args[0])
            and isinstance(n.args[1], ast.Constant)
            and isinstance(n.args[1].value, str)
        ):
            out.add(n.args[1].value)
    return out


def guarded_config_reads(tree: ast.AST) -> set[tuple[str, int]]:
    """(attr, line) of config reads inside a branch guarded by hasattr/getattr of that attr:
    ``if hasattr(config, "x"): config.x``, ``config.x if hasattr(config, "x") else d``,
    ``hasattr(config, "x") and config.x``, and the else branch of ``if not hasattr(...)``."""
    out: set[tuple[str, int]] = set()

    def mark(nodes: list[ast.stmt] | list[ast.expr], attrs: set[str]) -> None:
        for node in nodes:
            for n in ast.walk(node):
                if isinstance(n, ast.Attribute) and n.attr in attrs and _is_config(n.value):
                    out.add((n.attr, n.lineno))

    for node in ast.walk(tree):
        if isinstance(node, (ast.If, ast.IfExp)):
            test = node.test
            negated = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
            attrs = _probed(test.operand if isinstance(test, ast.UnaryOp) else test)
            if not attrs:
                continue
            branch = node.orelse if negated else node.body
            mark(branch if isinstance(branch, list) else [branch], attrs)
            if not negated:
                mark([test], attrs)  # hasattr(config, "x") and config.x > 0
        elif isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
            for i, value in enumerate(node.values[:-1]):
                attrs = _probed(value)
                if attrs:
                    mark(node.values[i + 1 :], attrs)
    return out


#: Methods that loading a model and running it once call: a read at their top level runs.
RUN_AT_LOAD = frozenset({"__init__", "forward", "_init_weights", "post_init"})


class _Visitor(ast.NodeVisitor):
    def __init__(self) -> None:
        self.imports: list[ImportInfo] = []
        self.classes: list[tuple[ast.ClassDef, str]] = []
        self.config_reads: list[tuple[str, int]] = []
        self.tried_reads: set[tuple[str, int]] = set()
        self.sure_reads: set[tuple[str, int]] = set()
        self._funcs: list[str] = []  # enclosing function names, innermost last
        self._cond: list[int] = []  # per function: depth of branches that may not run
        self.calls: list[tuple[ast.AST, int]] = []
        self.bindings: dict[str, str] = {}
        self._try = 0
        self._try_star = 0
        self._func = 0
        self._class = 0
        self._class_stack: list[ast.ClassDef] = []
        self.post_init: set[int] = set()
        self._type_checking = 0
        self._ifs: list[tuple[str, ...]] = []

    # -- context tracking --------------------------------------------------------------------
    def visit_Try(self, node: ast.AST) -> None:
        self._try += 1
        self.generic_visit(node)
        self._try -= 1

    def visit_TryStar(self, node: ast.AST) -> None:
        # guarded, but not an ast.Try: transformers' get_imports still counts these imports
        self._try_star += 1
        self.generic_visit(node)
        self._try_star -= 1

    def visit_If(self, node: ast.If) -> None:
        calls = tuple(
            n.func.id
            for n in ast.walk(node.test)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
        )
        tc = any(
            (isinstance(n, ast.Name) and n.id == "TYPE_CHECKING")
            or (isinstance(n, ast.Attribute) and n.attr == "TYPE_CHECKING")
            for n in ast.walk(node.test)
        )
        self.visit(node.test)
        self._ifs.append(calls)
        self._type_checking += tc
        self._maybe([*node.body, *node.orelse])
        self._type_checking -= tc
        self._ifs.pop()

    def _maybe(self, nodes: list[ast.stmt] | list[ast.expr] | list[ast.AST]) -> None:
        """Visit code that may not run when its function runs (a branch, a loop body)."""
        if self._cond:
            self._cond[-1] += 1
        for n in nodes:
            self.visit(n)
        if self._cond:
            self._cond[-1] -= 1

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self.visit(node.test)
        t = node.test  # `x if x is not None else config.x`: the default call runs the else
        default = (
            isinstance(t, ast.Compare)
            and isinstance(t.left, ast.Name)
            and len(t.ops) == 1
            and isinstance(t.ops[0], ast.IsNot)
            and isinstance(t.comparators[0], ast.Constant)
            and t.comparators[0].value is None
            and isinstance(node.body, ast.Name)
            and node.body.id == t.left.id
        )
        self._maybe([node.body])
        if default:
            self.visit(node.orelse)
        else:
            self._maybe([node.orelse])

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        self.visit(node.values[0])
        self._maybe(node.values[1:])

    def _visit_loop(self, node: ast.For | ast.AsyncFor | ast.While) -> None:
        self.visit(node.iter if not isinstance(node, ast.While) else node.test)
        if not isinstance(node, ast.While):
            self.visit(node.target)
        self._maybe([*node.body, *node.orelse])

    visit_For = _visit_loop
    visit_AsyncFor = _visit_loop
    visit_While = _visit_loop

    def _visit_maybe(self, node: ast.AST) -> None:
        if self._cond:
            self._cond[-1] += 1
        self.generic_visit(node)
        if self._cond:
            self._cond[-1] -= 1

    visit_Raise = _visit_maybe
    visit_Assert = _visit_maybe
    visit_Match = _visit_maybe
    visit_ListComp = _visit_maybe
    visit_SetComp = _visit_maybe
    visit_DictComp = _visit_maybe
    visit_GeneratorExp = _visit_maybe

    def _visit_func(self, node: ast.AST) -> None:
        self._func += 1
        self._funcs.append(getattr(node, "name", "<lambda>"))
        self._cond.append(0)
        self.generic_visit(node)
        self._cond.pop()
        self._funcs.pop()
        self._func -= 1

    visit_FunctionDef = _visit_func
    visit_AsyncFunctionDef = _visit_func
    visit_Lambda = _visit_func

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if self._func == 0 and self._class == 0:
            self.classes.append((node, ""))
        self._class += 1
        self._class_stack.append(node)
        self.generic_visit(node)
        self._class_stack.pop()
        self._class -= 1

    # -- facts ---------------------------------------------------------------------------------
    def _import(self, node: ast.Import | ast.ImportFrom, **kw: object) -> ImportInfo:
        return ImportInfo(
            line=node.lineno,
            col=node.col_offset,
            end_line=node.end_lineno or node.lineno,
            end_col=node.end_col_offset or 0,
            guarded=bool(self._try or self._try_star or self._ifs),
            in_function=bool(self._func),
            in_try=bool(self._try),
            if_calls=tuple(c for calls in self._ifs for c in calls),
            in_type_checking=bool(self._type_checking),
            **kw,  # type: ignore[arg-type]
        )

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.imports.append(
                self._import(
                    node,
                    module=alias.name,
                    level=0,
                    names=(),
                    is_from=False,
                    aliases=((alias.name, alias.asname),),
                )
            )
            if self._func == 0:
                if alias.asname:
                    self.bindings[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    self.bindings[top] = top

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        self.imports.append(
            self._import(
                node,
                module=module,
                level=node.level,
                names=tuple(a.name for a in node.names),
                is_from=True,
                aliases=tuple((a.name, a.asname) for a in node.names),
            )
        )
        if self._func == 0:
            prefix = "." * node.level + module
            for a in node.names:
                if a.name != "*":
                    sep = "" if prefix.endswith(".") or not prefix else "."
                    self.bindings[a.asname or a.name] = f"{prefix}{sep}{a.name}"

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.ctx, ast.Load):
            owner = node.value
            if (isinstance(owner, ast.Name) and owner.id == "config") or (
                isinstance(owner, ast.Attribute)
                and owner.attr == "config"
                and isinstance(owner.value, ast.Name)
                and owner.value.id == "self"
            ):
                self.config_reads.append((node.attr, node.lineno))
                if self._try or self._try_star:
                    self.tried_reads.add((node.attr, node.lineno))
                elif self._funcs and self._funcs[-1] in RUN_AT_LOAD and not self._cond[-1]:
                    self.sure_reads.add((node.attr, node.lineno))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        self.calls.append((node.func, node.lineno))
        func = node.func
        if (
            self._class_stack
            and isinstance(func, ast.Attribute)
            and func.attr == "post_init"
            and isinstance(func.value, ast.Name)
            and func.value.id == "self"
        ):
            self.post_init.add(id(self._class_stack[-1]))
        self.generic_visit(node)


def _literal(node: ast.expr) -> object:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    dotted = _dotted(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
    if dotted:
        return Ref(dotted)
    return NonLiteral(ast.unparse(node))


def _class_info(
    node: ast.ClassDef, module: str, bindings: Mapping[str, str], *, post_init: bool
) -> ClassInfo:
    bases = tuple(d for d in (_dotted(b) for b in node.bases) if d)
    attrs: dict[str, object] = {}
    methods: list[str] = []
    init_params: tuple[str, ...] = ()
    init_kwargs = False
    for stmt in node.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        for t in targets:
            if isinstance(t, ast.Name) and value is not None:
                val = _literal(value)
                if t.id == "config_class" and isinstance(val, Ref):
                    val = val.name
                attrs[t.id] = val
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            methods.append(stmt.name)
            if stmt.name == "__init__":
                a = stmt.args
                params = [p.arg for p in [*a.posonlyargs, *a.args, *a.kwonlyargs]]
                init_params = tuple(params[1:] if params and params[0] == "self" else params)
                init_kwargs = a.kwarg is not None
    assigned, dynamic = _assigned(node)
    return ClassInfo(
        name=node.name,
        module=module,
        bases=bases,
        line=node.lineno,
        resolved_bases=tuple(_resolve(b, bindings) for b in bases),
        attrs=attrs,
        methods=tuple(methods),
        calls_post_init=post_init,
        decorators=tuple(d for d in (_dotted(x) for x in node.decorator_list) if d),
        init_params=init_params,
        init_has_kwargs=init_kwargs,
        called_names=frozenset(
            n.func.id
            for n in ast.walk(node)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id != node.name
        ),
        end_line=node.end_lineno or node.lineno,
        self_assigned=assigned,
        dynamic_attrs=dynamic,
    )


def _assigned(node: ast.ClassDef) -> tuple[frozenset[str], bool]:
    """``self_assigned`` and ``dynamic_attrs`` of a class (ast, never run)."""
    names: set[str] = {
        s.target.id
        for s in node.body
        if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
    }
    dynamic = False
    for n in ast.walk(node):
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self":
            if isinstance(n.ctx, ast.Store):
                names.add(n.attr)
            elif n.attr == "__dict__":
                dynamic = True  # self.__dict__.update(...), self.__dict__[k] = v
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "setattr":
            arg = n.args[1] if len(n.args) >= 2 else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                names.add(arg.value)
            else:
                dynamic = True
    return frozenset(names), dynamic


def _top_level_names(tree: ast.Module) -> tuple[frozenset[str], tuple[str, ...]]:
    names: set[str] = set()
    functions: list[str] = []

    def collect(stmts: list[ast.stmt]) -> None:
        for stmt in stmts:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.add(stmt.name)
                functions.append(stmt.name)
            elif isinstance(stmt, ast.ClassDef):
                names.add(stmt.name)
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for t in targets:
                    for n in ast.walk(t):
                        if isinstance(n, ast.Name):
                            names.add(n.id)
            elif isinstance(stmt, ast.Import):
                for a in stmt.names:
                    names.add(a.asname or a.name.split(".")[0])
            elif isinstance(stmt, ast.ImportFrom):
                names.update(a.asname or a.name for a in stmt.names if a.name != "*")
            elif isinstance(stmt, ast.If):
                collect(stmt.body)
                collect(stmt.orelse)
            elif isinstance(stmt, ast.Try):
                collect(stmt.body)
                collect(stmt.orelse)
                collect(stmt.finalbody)
                for h in stmt.handlers:
                    collect(h.body)
            elif isinstance(stmt, ast.With):
                collect(stmt.body)

    collect(tree.body)
    return frozenset(names), tuple(functions)


def module_name(relpath: str) -> str:
    """The flat module name of a relpath: ``pkg/modeling_x.py`` -> ``modeling_x``."""
    return PurePosixPath(relpath).stem


def parse_module(relpath: str, source: str) -> ModuleInfo:
    """Facts about one module. A syntax error is recorded in ``syntax_error``, never raised."""
    name = module_name(relpath)
    try:
        tree = ast.parse(source, filename=relpath)
    except SyntaxError as exc:
        where = f"line {exc.lineno}: " if exc.lineno else ""
        return ModuleInfo(
            name=name,
            path=relpath,
            syntax_error=f"{where}{exc.msg}",
            syntax_error_line=exc.lineno or 0,
        )
    except ValueError as exc:  # e.g. source with null bytes
        return ModuleInfo(name=name, path=relpath, syntax_error=str(exc))
    v = _Visitor()
    v.visit(tree)
    defined, functions = _top_level_names(tree)
    calls: list[tuple[str, int]] = []
    for func, line in v.calls:
        d = _dotted(func) if isinstance(func, (ast.Name, ast.Attribute)) else None
        if d:
            calls.append((_resolve(d, v.bindings), line))
    classes = tuple(
        _class_info(node, name, v.bindings, post_init=id(node) in v.post_init)
        for node, _ in v.classes
    )
    return ModuleInfo(
        name=name,
        path=relpath,
        imports=tuple(v.imports),
        classes=classes,
        config_reads=tuple(v.config_reads),
        guarded_reads=frozenset(v.tried_reads | guarded_config_reads(tree)),
        sure_reads=frozenset(v.sure_reads),
        calls=tuple(calls),
        functions=functions,
        defined=defined,
        bindings=dict(v.bindings),
    )


@dataclass(frozen=True)
class CodePackage:
    """Modules of one package keyed by relpath, with inheritance resolved inside the package."""

    modules: Mapping[str, ModuleInfo]

    def classes(self) -> Iterator[ClassInfo]:
        for path in sorted(self.modules):
            yield from self.modules[path].classes

    @functools.cached_property
    def _index(self) -> tuple[dict[str, list[ModuleInfo]], dict[str, list[ClassInfo]]]:
        by_module: dict[str, list[ModuleInfo]] = {}
        by_name: dict[str, list[ClassInfo]] = {}
        for path in sorted(self.modules):
            mod = self.modules[path]
            by_module.setdefault(mod.name, []).append(mod)
            for cls in mod.classes:
                by_name.setdefault(cls.name, []).append(cls)
        return by_module, by_name

    def _by_module(self, stem: str) -> list[ModuleInfo]:
        return self._index[0].get(stem, [])

    def find_class(self, name: str, *, module: str | None = None) -> ClassInfo | None:
        """A class by name, or by ``module.Class`` (auto_map style); None if not in the package."""
        if module is None and "." in name:
            module, _, name = name.rpartition(".")
        for cls in self._index[1].get(name, []):
            if module is None or cls.module == module.split(".")[-1]:
                return cls
        return None

    def ancestors(self, cls: ClassInfo) -> Iterator[ClassInfo]:
        """``cls`` and every package class it inherits from (each once); external bases skipped."""
        seen: set[tuple[str, str]] = set()
        stack = [cls]
        while stack:
            c = stack.pop()
            if (c.module, c.name) in seen:
                continue
            seen.add((c.module, c.name))
            yield c
            stack.extend(b for b in (self.resolve_base(c, i) for i in range(len(c.bases))) if b)

    def resolve_base(self, cls: ClassInfo, index: int) -> ClassInfo | None:
        """The package class that base number ``index`` of ``cls`` names, or None if external."""
        written = cls.bases[index]
        resolved = cls.resolved_bases[index] if index < len(cls.resolved_bases) else written
        last = resolved.rsplit(".", 1)[-1]
        if resolved.startswith("."):
            target_mod = resolved.lstrip(".").rpartition(".")[0].rsplit(".", 1)[-1]
            if target_mod:
                for mod in self._by_module(target_mod):
                    for c in mod.classes:
                        if c.name == last:
                            return c
            # `from . import mod` then `mod.Base`, or a package re-export: any class of that name
            return self.find_class(last)
        if resolved == written and "." not in written:
            # defined in the same module (or a star import from within the package)
            for mod in self._by_module(cls.module):
                for c in mod.classes:
                    if c.name == written and c is not cls:
                        return c
            if any(i.level and i.star for m in self._by_module(cls.module) for i in m.imports):
                return self.find_class(written)
            return None
        top = resolved.split(".")[0]
        if top in {"transformers", "torch"}:
            return None
        # absolute import of the author's own package (mypkg.layers.Block), or a module alias
        found = self.find_class(last)
        return found if found is not cls else None

    def mro_names(self, cls: ClassInfo) -> list[str]:
        """Class names along the inheritance chain, ``cls`` first; externals by their last segment."""
        return self._chain(cls)[0]

    def external_bases(self, cls: ClassInfo) -> list[str]:
        """Dotted names of the classes outside the package along the chain (as imported)."""
        return self._chain(cls)[1]

    def _chain(self, cls: ClassInfo) -> tuple[list[str], list[str]]:
        out: list[str] = []
        external: list[str] = []
        seen: set[tuple[str, str]] = set()

        def walk(c: ClassInfo) -> None:
            key = (c.module, c.name)
            if key in seen:
                return
            seen.add(key)
            out.append(c.name)
            for i, b in enumerate(c.bases):
                inner = self.resolve_base(c, i)
                if inner is not None:
                    walk(inner)
                else:
                    dotted = c.resolved_bases[i] if i < len(c.resolved_bases) else b
                    name = dotted.rsplit(".", 1)[-1]
                    if name not in out:
                        out.append(name)
                    if dotted not in external:
                        external.append(dotted)

        walk(cls)
        return out, external

    def _derives(self, cls: ClassInfo, names: frozenset[str]) -> bool:
        return any(n in names for n in self.mro_names(cls)[1:])

    def _derives_transformers(self, cls: ClassInfo, suffixes: tuple[str, ...]) -> bool:
        """A base imported from transformers named like its kind (``GPT2Config``,
        ``BertPreTrainedModel``): a built-in model's class, hence of that kind."""
        return any(
            d.startswith("transformers.") and d.rsplit(".", 1)[-1].endswith(suffixes)
            for d in self.external_bases(cls)
        )

    def is_config_class(self, cls: ClassInfo) -> bool:
        if self._derives(cls, CONFIG_BASES):
            return True
        for d in self.external_bases(cls):  # GPT2Config: a built-in model's config class
            module, _, name = d.rpartition(".")
            if not (d.startswith("transformers.") and name.endswith("Config")):
                continue
            if ".configuration_" in d or (module == "transformers" and not non_model_config(name)):
                return True
        return False

    def is_model_class(self, cls: ClassInfo) -> bool:
        return self._derives(cls, MODEL_BASES) or self._derives_transformers(
            cls, ("PreTrainedModel", "PretrainedModel")
        )

    def is_tokenizer_class(self, cls: ClassInfo) -> bool:
        return self._derives(cls, TOKENIZER_BASES)

    def is_fast_tokenizer_class(self, cls: ClassInfo) -> bool:
        return self._derives(cls, FAST_TOKENIZER_BASES)

    def has_generation_mixin(self, cls: ClassInfo) -> bool:
        return self._derives(cls, GENERATION_BASES)

    def config_classes(self) -> list[ClassInfo]:
        return [c for c in self.classes() if self.is_config_class(c)]

    def model_classes(self) -> list[ClassInfo]:
        return [c for c in self.classes() if self.is_model_class(c)]

    def tokenizer_classes(self) -> list[ClassInfo]:
        return [c for c in self.classes() if self.is_tokenizer_class(c)]

    def built_as_layers(self) -> set[str]:
        """Model classes another class of the package calls (builds as a layer or submodule,
        e.g. a ``PreTrainedModel`` block inside an encoder's ``nn.ModuleList``)."""
        models = {c.name for c in self.model_classes()}
        return {n for c in self.classes() for n in c.called_names if n in models}

    def is_tokenizer_only(self) -> bool:
        """Tokenizer code and nothing else: no config or model class (AutoTokenizer reads
        tokenizer_config.json; there is no model for a config.json to describe)."""
        return (
            bool(self.tokenizer_classes())
            and not self.config_classes()
            and not self.model_classes()
        )

    def inherited_attr(self, cls: ClassInfo, attr: str) -> object | None:
        """A class attribute looked up along the in-package inheritance chain (None if unset)."""
        seen: set[tuple[str, str]] = set()
        stack = [cls]
        while stack:
            c = stack.pop(0)
            if (c.module, c.name) in seen:
                continue
            seen.add((c.module, c.name))
            if attr in c.attrs:
                return c.attrs[attr]
            stack.extend(b for b in (self.resolve_base(c, i) for i in range(len(c.bases))) if b)
        return None

    def config_class_of(self, model_cls: ClassInfo) -> ClassInfo | None:
        """The config class named by ``config_class`` (inherited), if it is in the package."""
        value = self.inherited_attr(model_cls, "config_class")
        if isinstance(value, str):
            return self.find_class(value.rsplit(".", 1)[-1])
        return None

    def model_type_of(self, config_cls: ClassInfo) -> str | None:
        """The literal ``model_type`` of a config class (inherited), or None."""
        value = self.inherited_attr(config_cls, "model_type")
        return value if isinstance(value, str) else None

    def syntax_errors(self) -> list[ModuleInfo]:
        return [m for _, m in sorted(self.modules.items()) if m.syntax_error]


def analyze_package(files: Mapping[str, str]) -> CodePackage:
    """Parse every ``.py`` source of ``files`` (relpath -> source) into a :class:`CodePackage`."""
    return CodePackage(
        modules={p: parse_module(p, s) for p, s in sorted(files.items()) if p.endswith(".py")}
    )
