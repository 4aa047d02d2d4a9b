"""Code checks: transformers v5 breakage and risky calls, read with ast (never imported or run).

Import resolution (missing relative imports, subpackages, the author's own package, third-party
modules) is A1's packaging analysis (:mod:`hf_custom.staging.code`), run by :func:`packaging`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from hf_custom.checks import Skip, register
from hf_custom.checks.context import Context
from hf_custom.codeinfo import ClassInfo, CodePackage, ModuleInfo
from hf_custom.findings import Finding, Severity, all_rules, finding

if TYPE_CHECKING:
    from hf_custom.staging.code import Rewrite

CAUSAL_SUFFIXES = ("ForCausalLM", "LMHeadModel")
GENERATIVE_AUTO = frozenset({"AutoModelForCausalLM", "AutoModelForSeq2SeqLM"})
# A remote class defining one of these gets GenerationMixin from transformers' auto classes
# (auto_factory.add_generation_mixin_to_remote_model, since 4.45; 5.24 still does it).
ADDS_GENERATION_MIXIN = frozenset({"generate", "prepare_inputs_for_generation"})

DANGEROUS_EXACT = {
    "os.system": "runs a shell command",
    "os.popen": "runs a shell command",
    "eval": "evaluates a string as code",
    "exec": "executes a string as code",
    "builtins.eval": "evaluates a string as code",
    "builtins.exec": "executes a string as code",
    "pickle.load": "unpickles (runs code from data)",
    "pickle.loads": "unpickles (runs code from data)",
    "torch.hub.load": "downloads and runs code",
    "torch.hub.download_url_to_file": "downloads a file",
    "urllib.request.urlopen": "makes a network request",
    "urllib.request.urlretrieve": "downloads a file",
    "huggingface_hub.hf_hub_download": "downloads a file from the Hub",
    "huggingface_hub.snapshot_download": "downloads a repository from the Hub",
    "wget.download": "downloads a file",
}
DANGEROUS_PREFIX = {
    "subprocess.": "runs a command",
    "os.exec": "replaces the process with a command",
    "os.spawn": "runs a command",
    "socket.": "opens a network socket",
    "requests.": "makes a network request",
    "httpx.": "makes a network request",
    "urllib3.": "makes a network request",
    "http.client.": "makes a network request",
    "ftplib.": "makes a network connection",
    "paramiko.": "opens an SSH connection",
}


def _package(ctx: Context) -> CodePackage:
    if not ctx.top_py_files:
        raise Skip("no Python files at the top of the repository")
    return ctx.package


def _transformers_imports(mod: ModuleInfo) -> Iterator[tuple[str, tuple[str, ...], int]]:
    for imp in mod.imports:
        if imp.level or imp.top != "transformers" or imp.in_try:
            continue
        yield imp.module, (imp.names if imp.is_from else ()), imp.line


@register("code.v5-removed-imports", rules=("HFC250",))
def removed_imports(ctx: Context) -> Iterator[Finding]:
    """Unguarded imports of transformers modules or names that v5 removed."""
    pkg = _package(ctx)
    probe = ctx.probe
    for path, mod in sorted(pkg.modules.items()):
        for module, names, line in _transformers_imports(mod):
            if probe.module_missing(module):
                yield finding(
                    "HFC250",
                    f"imports {module}, which does not exist in {probe.source}",
                    path=path,
                    line=line,
                )
                continue
            for name in names:
                if name == "*":
                    continue
                # `from transformers import models` style: a submodule is fine if it exists
                if not probe.module_missing(f"{module}.{name}") and probe.installed:
                    continue
                if probe.name_missing(module, name):
                    yield finding(
                        "HFC250",
                        f"imports {name} from {module}, which {probe.source} does not define",
                        path=path,
                        line=line,
                    )


@register("code.v5-removed-methods", rules=("HFC251",))
def removed_methods(ctx: Context) -> Iterator[Finding]:
    """Calls of PreTrainedModel methods that v5 removed and the package does not define."""
    pkg = _package(ctx)
    defined = {m for cls in pkg.classes() for m in cls.methods}
    for path, mod in sorted(pkg.modules.items()):
        for dotted, line in mod.calls:
            owner, _, name = dotted.rpartition(".")
            if owner != "self" or name in defined:
                continue
            if ctx.probe.method_missing(name):
                yield finding(
                    "HFC251",
                    f"calls self.{name}(), which PreTrainedModel no longer has "
                    f"({ctx.probe.source})",
                    path=path,
                    line=line,
                )


def _module_path(pkg: CodePackage, cls: ClassInfo) -> str:
    for path, mod in pkg.modules.items():
        if cls in mod.classes:
            return path
    return ""


@register("code.post-init", rules=("HFC252",))
def post_init(ctx: Context) -> Iterator[Finding]:
    """Model classes whose __init__ never reaches self.post_init()."""
    from hf_custom.checks.v5code import post_init_gaps

    pkg = _package(ctx)
    trees = {}
    for path, source in ctx.top_py_files.items():
        try:
            trees[path] = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
    for gap in post_init_gaps(pkg, ctx.config, trees):
        yield finding(
            "HFC252",
            f"{gap.cls.name}.__init__ never calls self.post_init()",
            path=_module_path(pkg, gap.cls),
            line=gap.cls.line,
        )


@register("code.tied-weights-keys", rules=("HFC253",))
def tied_weights_keys(ctx: Context) -> Iterator[Finding]:
    """_tied_weights_keys written as a list instead of a dict."""
    pkg = _package(ctx)
    for cls in pkg.classes():
        value = cls.attrs.get("_tied_weights_keys")
        if isinstance(value, (list, tuple, set, frozenset)):
            yield finding(
                "HFC253",
                f"{cls.name}._tied_weights_keys is a {type(value).__name__} "
                f"({sorted(map(str, value))!r}); v5 needs a dict {{target: source}}",
                path=_module_path(pkg, cls),
                line=cls.line,
            )


def _generative_classes(ctx: Context, pkg: CodePackage) -> set[str]:
    names = {c.name for c in pkg.model_classes() if c.name.endswith(CAUSAL_SUFFIXES)}
    cfg = ctx.config or {}
    auto_map = cfg.get("auto_map")
    if isinstance(auto_map, dict):
        for auto, ref in auto_map.items():
            if auto in GENERATIVE_AUTO and isinstance(ref, str):
                names.add(ref.rsplit(".", 1)[-1])
    return names


@register("code.generation-mixin", rules=("HFC254",))
def generation_mixin(ctx: Context) -> Iterator[Finding]:
    """Causal-LM classes that do not inherit GenerationMixin."""
    pkg = _package(ctx)
    wanted = _generative_classes(ctx, pkg)
    for cls in pkg.model_classes():
        if cls.name in wanted and not pkg.has_generation_mixin(cls):
            own = sorted({m for c in pkg.ancestors(cls) for m in c.methods} & ADDS_GENERATION_MIXIN)
            if own:  # transformers' auto classes add the mixin to such remote classes
                yield finding(
                    "HFC254",
                    f"{cls.name} does not inherit GenerationMixin; transformers adds it when "
                    f"loading through an Auto class because the class defines {own[0]}() "
                    "(`hf-custom fix` makes it explicit)",
                    path=_module_path(pkg, cls),
                    line=cls.line,
                    severity=Severity.INFO,
                )
                continue
            yield finding(
                "HFC254",
                f"{cls.name} does not inherit GenerationMixin: model.generate() will not exist",
                path=_module_path(pkg, cls),
                line=cls.line,
            )


def _class_spans(source: str, names: set[str]) -> list[tuple[int, int]]:
    """First and last line of each top-level class of ``names`` in ``source``."""
    if not names:
        return []
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    return [
        (n.lineno, n.end_lineno or n.lineno)
        for n in tree.body
        if isinstance(n, ast.ClassDef) and n.name in names
    ]


def _self_assignments(source: str, class_name: str) -> set[str]:
    """Names assigned as ``self.X = ...`` anywhere in class ``class_name`` (ast, never run)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for n in ast.walk(node):
                if (
                    isinstance(n, ast.Attribute)
                    and isinstance(n.ctx, ast.Store)
                    and isinstance(n.value, ast.Name)
                    and n.value.id == "self"
                ):
                    out.add(n.attr)
                elif (
                    isinstance(n, ast.Call)
                    and isinstance(n.func, ast.Name)
                    and n.func.id == "setattr"
                    and len(n.args) >= 2
                ):
                    arg = n.args[1]  # setattr(self, "x", ...)
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        out.add(arg.value)
    return out


def _guarded_reads(source: str) -> set[tuple[str, int]]:
    """(attr, line) of config reads guarded by hasattr/getattr of that attr
    (:func:`hf_custom.codeinfo.guarded_config_reads`)."""
    from hf_custom.codeinfo import guarded_config_reads

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    return guarded_config_reads(tree)


@register("code.config-attributes", rules=("HFC255",))
def config_attributes(ctx: Context) -> Iterator[Finding]:
    """config.X reads that no config class, config.json or the base config defines."""
    from hf_custom.staging.config import V4_BASE_DEFAULTS  # reported as HFC115 by config.normalize

    pkg = _package(ctx)
    configs = pkg.config_classes()
    if not configs:
        raise Skip("no PretrainedConfig subclass in the code")
    defined: set[str] = set(ctx.probe.base_config_attrs()) | set(V4_BASE_DEFAULTS)
    for cls in configs:
        for c in pkg.ancestors(cls):
            defined.update(c.init_params)
            defined.update(c.attrs)
            defined.update(c.methods)
            amap = c.attrs.get("attribute_map")
            if isinstance(amap, dict):
                defined.update(str(k) for k in amap)
            src = ctx.top_py_files.get(_module_path(pkg, c), "")
            defined.update(_self_assignments(src, c.name))
        if any(
            isinstance(c.attrs.get(a), object) and "NonLiteral" in repr(c.attrs.get(a))
            for c in [cls]
            for a in ("attribute_map",)
        ):
            raise Skip(f"{cls.name}.attribute_map is not a literal")
    cfg = ctx.config
    if cfg is not None:
        defined.update(cfg)
        for value in cfg.values():  # sub-configs: their keys are read through config.sub.X
            if isinstance(value, dict):
                defined.update(value)
    reported: set[str] = set()
    for path, mod in sorted(pkg.modules.items()):
        # a config class reads its own attributes while defining them: not reads of the model
        spans = _class_spans(ctx.top_py_files.get(path, ""), {c.name for c in configs})
        guarded = _guarded_reads(ctx.top_py_files.get(path, ""))
        for attr, line in mod.config_reads:
            if attr in defined or attr in reported or attr.startswith("__"):
                continue
            if (attr, line) in guarded:
                continue
            if any(a <= line <= b for a, b in spans):
                continue
            reported.add(attr)
            yield finding(
                "HFC255",
                f"reads config.{attr}, but no config class, config.json key or base config "
                "attribute defines it",
                path=path,
                line=line,
            )


def _danger(dotted: str, imported: set[str]) -> str | None:
    """What ``dotted`` does, if risky; module functions count only when the module is imported
    (a local variable called ``requests`` is not the requests library)."""
    top = dotted.split(".")[0]
    if dotted in DANGEROUS_EXACT and ("." not in dotted or top in imported):
        return DANGEROUS_EXACT[dotted]
    if top not in imported:
        return None
    for prefix, what in DANGEROUS_PREFIX.items():
        if dotted.startswith(prefix):
            return what
    return None


@register("code.dangerous-calls", rules=("HFC256",))
def dangerous_calls(ctx: Context) -> Iterator[Finding]:
    """Shell commands, eval/exec, sockets and downloads in the code, with their line."""
    if not ctx.py_files:
        raise Skip("no Python files")
    from hf_custom.codeinfo import parse_module

    for path, source in sorted(ctx.py_files.items()):
        mod = ctx.package.modules.get(path) or parse_module(path, source)
        imported = {i.module.split(".")[0] for i in mod.imports if not i.level and i.module}
        for dotted, line in mod.calls:
            what = _danger(dotted, imported)
            if what:
                yield finding("HFC256", f"{dotted}() {what}", path=path, line=line)


def _repo_severity(
    f: Finding, *, rewrites: Mapping[tuple[str, int], Rewrite], kind: str
) -> Finding:
    """Staging repairs some import problems in its copy. In a checkpoint folder (which publish
    stages) doctor says what publish will do; in a repository users load, they are as they are."""
    from dataclasses import replace

    from hf_custom.findings import get_rule

    rule = get_rule(f.id)
    rewrite = rewrites.get((f.path, f.line or 0))
    if rewrite is not None and not f.message.startswith(rewrite.reason):
        rewrite = None  # another finding on the line of a rewrite
    if kind == "folder" and rewrite is not None:
        new = "; ".join(x.strip() for x in rewrite.new.splitlines())
        why = _WILL_REWRITE.get(f.id, rewrite.reason)
        return replace(
            f,
            severity=Severity.INFO,
            message=f"publish will rewrite `{_oneline(rewrite.old)}` to `{new}` ({why})",
            fix="nothing to do for publish; to load this folder as it is, make the same change "
            "in your source",
        )
    if kind == "folder" or f.severity is rule.severity:
        return f  # the staging severity, with the staging fix ("repaired in the staged copy")
    return replace(f, severity=rule.severity, fix=rule.fix)


# Why publish rewrites an import, by rule (doctor on a checkpoint folder says it in the future).
_WILL_REWRITE = {
    "HFC211": "a package-relative import of transformers: the Hub has no transformers package "
    "around the checkpoint's files",
    "HFC203": "an absolute import of your own code, which does not resolve on the Hub",
    "HFC202": "a subpackage import, which transformers' remote-code loader does not support",
    "HFC208": "an import transformers' loader does not see, so it would not copy the file",
}


def _oneline(code: str) -> str:
    return " ".join(code.split())


# A1's packaging rules (HFC200-HFC249): whatever plan_code can report.
PACKAGING_RULES = tuple(r.id for r in all_rules() if "HFC200" <= r.id < "HFC250")


@register("code.packaging", rules=PACKAGING_RULES)
def packaging(ctx: Context) -> Iterator[Finding]:
    """Imports the Hub loader cannot follow: missing files, subpackages, the author's own package,
    uninstalled third-party modules (A1's packaging analysis, on a copy of the .py files)."""
    import tempfile
    from pathlib import Path

    from hf_custom.staging.code import plan_code

    if not ctx.top_py_files:
        raise Skip("no Python files at the top of the repository")
    entry: set[str] = set()
    auto_map = (ctx.config or {}).get("auto_map")
    if isinstance(auto_map, dict):
        for value in auto_map.values():
            for ref in value if isinstance(value, list) else [value]:
                if isinstance(ref, str) and "." in ref:
                    entry.add(ref.rpartition(".")[0])
    with tempfile.TemporaryDirectory(prefix="hf-custom-code-") as tmp:
        root = Path(tmp)
        for path in ctx.py_files:
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(ctx.read_bytes(path))  # bytes: encoding problems are findings
        plan = plan_code(root, entry=sorted(entry), refuse=False)
    rewrites = {(r.path, r.line): r for r in plan.rewrites}
    for f in plan.findings:
        yield _repo_severity(f, rewrites=rewrites, kind=ctx.kind)
