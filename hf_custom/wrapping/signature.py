"""The research module's constructor: which configuration fields it takes, and in what form.

Two styles are recognised. Keyword style, ``Net(vocab_size=100, hidden=64)``: every parameter is
a configuration field (its default, or the ``--arg`` value). Config-object style, ``Net(config)``:
the single parameter is

- a dataclass, named by the parameter's annotation or, unannotated, found among the dataclasses
  of the research code as the one whose fields the constructor reads (its fields and defaults are
  the configuration);
- the object a ``get_default_config()`` factory of the class returns (a ``CfgNode``-like bag,
  a ``SimpleNamespace`` or a dict): its attributes are the configuration, and the generated code
  calls the factory again and sets them;
- a dict or an attribute bag such as ``SimpleNamespace``: the constructor is run on a recording
  probe to learn which keys it reads, and their values come from ``--arg``.

``--arg`` values only override what the code already says.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from hf_custom.errors import InputError

CONFIG_PARAM_NAMES = frozenset(
    {"config", "cfg", "conf", "args", "hparams", "params", "hp", "opt", "opts", "settings"}
)

ConfigKind = Literal["kwargs", "dataclass", "namespace", "dict", "factory"]
FACTORY_NAMES = ("get_default_config", "default_config", "get_config")


@dataclass(frozen=True)
class Field:
    name: str
    value: Any  # JSON-serialisable: the default, or the --arg value
    annotation: str | None = None


@dataclass(frozen=True)
class Constructor:
    kind: ConfigKind
    fields: tuple[Field, ...]
    config_param: str | None = None  # the parameter taking the config object
    config_type: type | None = None  # the dataclass, for kind "dataclass"
    factory: str | None = None  # kind "factory": the class's method returning the config
    factory_items: bool = False  # the factory returns a dict: set keys, not attributes
    skipped: tuple[str, ...] = ()  # parameters left to their (non-literal) defaults

    def values(self) -> dict[str, Any]:
        return {f.name: f.value for f in self.fields}


def parse_args(pairs: Sequence[str]) -> dict[str, Any]:
    """``key=value`` pairs; values are JSON or Python literals, else plain strings."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise InputError(
                f"--arg expects key=value, got {pair!r}", hint="e.g. --arg vocab_size=32000"
            )
        out[key] = _literal(raw.strip())
    return out


def _literal(raw: str) -> Any:
    for parse in (json.loads, ast.literal_eval):
        try:
            return parse(raw)
        except (ValueError, SyntaxError):
            continue
    return raw


def is_json_value(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(is_json_value(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_json_value(v) for k, v in value.items())
    return False


def annotation_of(value: Any) -> str | None:
    if isinstance(value, bool):
        return "bool"
    for kind in (int, float, str):
        if isinstance(value, kind):
            return kind.__name__
    if isinstance(value, (list, tuple)):
        return "list" if isinstance(value, list) else "tuple"
    if isinstance(value, dict):
        return "dict"
    return None


def read_constructor(cls: type, args: Mapping[str, Any]) -> Constructor:
    """How ``cls`` is constructed and with which field values (``args`` override defaults)."""
    params = [
        p
        for p in list(inspect.signature(_init_of(cls)).parameters.values())[1:]
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    hints = _hints(cls)
    if len(params) == 1 and params[0].name not in args:
        p = params[0]
        ann = hints.get(p.name, p.annotation)
        if dataclasses.is_dataclass(ann) and isinstance(ann, type):
            return _from_dataclass(ann, p.name, args)
        factory = next((n for n in FACTORY_NAMES if callable(getattr(cls, n, None))), None)
        if factory is not None and p.default is inspect.Parameter.empty:
            return _from_factory(cls, factory, p.name, args)
        if p.name in CONFIG_PARAM_NAMES or _is_mapping_type(ann) or _is_namespace_type(ann):
            unannotated = ann is inspect.Parameter.empty
            found = _research_dataclass(cls, p.name, args) if unannotated else None
            if found is not None:
                return _from_dataclass(found, p.name, args)
            return _from_probe(cls, p.name, args, hint_dict=_is_mapping_type(ann))
    return _from_keywords(cls, params, hints, args)


def _init_of(cls: type) -> Any:
    """The ``__init__`` function the class uses (its own or inherited)."""
    return next(c.__dict__["__init__"] for c in cls.__mro__ if "__init__" in c.__dict__)


def _hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(_init_of(cls))
    except Exception:  # unresolvable string annotations: fall back to the raw ones
        return {}


def _is_mapping_type(ann: Any) -> bool:
    origin = typing.get_origin(ann) or ann
    return origin in (dict, Mapping, typing.Dict) or ann in ("dict", "Mapping")  # noqa: UP006


def _is_namespace_type(ann: Any) -> bool:
    return getattr(ann, "__name__", ann) in ("SimpleNamespace", "Namespace")


def _from_keywords(
    cls: type,
    params: Sequence[inspect.Parameter],
    hints: Mapping[str, Any],
    args: Mapping[str, Any],
) -> Constructor:
    names = {p.name for p in params}
    unknown = sorted(set(args) - names)
    if unknown and not any(
        p.kind == p.VAR_KEYWORD for p in inspect.signature(_init_of(cls)).parameters.values()
    ):
        raise InputError(
            f"{cls.__name__}.__init__ has no parameter {', '.join(unknown)}",
            hint=f"its parameters are: {', '.join(sorted(names)) or 'none'}",
        )
    fields: list[Field] = []
    skipped: list[str] = []
    for p in params:
        if p.name in args:
            value = args[p.name]
        elif p.default is inspect.Parameter.empty:
            raise InputError(
                f"{cls.__name__}.__init__ needs `{p.name}`, which has no default",
                hint=f"pass --arg {p.name}=VALUE",
            )
        else:
            value = p.default
        if not is_json_value(value):
            skipped.append(p.name)
            continue
        ann = hints.get(p.name)
        fields.append(Field(p.name, value, _simple_annotation(ann) or annotation_of(value)))
    fields += [Field(k, v, annotation_of(v)) for k, v in args.items() if k not in names]
    return Constructor("kwargs", tuple(fields), skipped=tuple(skipped))


def _simple_annotation(ann: Any) -> str | None:
    if ann in (int, float, bool, str):
        return str(ann.__name__)
    return None


def _from_dataclass(dc: type, param: str, args: Mapping[str, Any]) -> Constructor:
    fields: list[Field] = []
    skipped: list[str] = []
    known = {f.name for f in dataclasses.fields(dc)}
    unknown = sorted(set(args) - known)
    if unknown:
        raise InputError(
            f"{dc.__name__} has no field {', '.join(unknown)}",
            hint=f"its fields are: {', '.join(sorted(known))}",
        )
    hints = typing.get_type_hints(dc) if dc else {}
    for f in dataclasses.fields(dc):
        if not f.init:
            continue
        if f.name in args:
            value = args[f.name]
        elif f.default is not dataclasses.MISSING:
            value = f.default
        elif f.default_factory is not dataclasses.MISSING:
            value = f.default_factory()
        else:
            raise InputError(
                f"{dc.__name__}.{f.name} has no default", hint=f"pass --arg {f.name}=VALUE"
            )
        if not is_json_value(value):
            skipped.append(f.name)
            continue
        fields.append(
            Field(f.name, value, _simple_annotation(hints.get(f.name)) or annotation_of(value))
        )
    return Constructor(
        "dataclass", tuple(fields), config_param=param, config_type=dc, skipped=tuple(skipped)
    )


def _from_factory(cls: type, factory: str, param: str, args: Mapping[str, Any]) -> Constructor:
    """``Net(config)`` where ``Net.get_default_config()`` builds the config object."""
    try:
        made = getattr(cls, factory)()
    except Exception as exc:
        raise InputError(
            f"{cls.__name__}.{factory}() failed: {type(exc).__name__}: {exc}",
            hint=f"make {cls.__name__}.{factory}() callable without arguments",
        ) from None
    items = isinstance(made, Mapping)
    if items:
        current = dict(made)
    elif dataclasses.is_dataclass(made):
        current = {f.name: getattr(made, f.name) for f in dataclasses.fields(made)}
    else:
        current = dict(getattr(made, "__dict__", {}))
    current.update(args)
    fields: list[Field] = []
    skipped: list[str] = []
    for key, value in current.items():
        if not isinstance(key, str) or not key.isidentifier() or key.startswith("_"):
            continue
        if is_json_value(value):
            fields.append(Field(key, value, annotation_of(value)))
        else:
            skipped.append(key)
    return Constructor(
        "factory",
        tuple(fields),
        config_param=param,
        factory=factory,
        factory_items=items,
        skipped=tuple(skipped),
    )


def _research_dataclass(cls: type, param: str, args: Mapping[str, Any]) -> type | None:
    """The dataclass of the research code an unannotated ``Net(config)`` reads its fields from:
    every candidate with defaults is tried; the one covering the most keys read wins."""
    import sys

    module = sys.modules.get(cls.__module__)
    package = cls.__module__.partition(".")[0]
    candidates = [
        v
        for v in vars(module).values()
        if isinstance(v, type)
        and dataclasses.is_dataclass(v)
        and (v.__module__.partition(".")[0] == package or v.__module__ == cls.__module__)
    ]
    best: tuple[int, type] | None = None
    for dc in dict.fromkeys(candidates):
        known = {f.name for f in dataclasses.fields(dc) if f.init}
        if set(args) - known:
            continue
        try:
            ctor = _from_dataclass(dc, param, args)
        except InputError:
            continue
        probe = _Probe(ctor.values())
        try:
            cls(probe)
        except _MissingKey:
            continue
        except Exception:  # the constructor needs a real object; what was read still counts
            pass
        read = set(probe._read)
        if read and read <= known and (best is None or len(read) > best[0]):
            best = (len(read), dc)
    return best[1] if best else None


class _Probe:
    """Stands in for a dict or attribute-bag config and records what the constructor reads."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_values", dict(values))
        object.__setattr__(self, "_read", {})
        object.__setattr__(self, "_style", set())

    def _get(self, key: str, style: str, default: Any = inspect.Parameter.empty) -> Any:
        self._style.add(style)
        if key in self._values:
            self._read[key] = self._values[key]
            return self._values[key]
        if default is not inspect.Parameter.empty:
            if is_json_value(default):
                self._read[key] = default
            return default
        raise _MissingKey(key)

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        return self._get(key, "attr")

    def __getitem__(self, key: str) -> Any:
        return self._get(key, "item")

    def get(self, key: str, default: Any = None) -> Any:
        return self._get(key, "item", default)

    def __contains__(self, key: object) -> bool:
        return key in self._values


class _MissingKey(AttributeError, KeyError):
    """A key the probe has no value for; ``getattr(cfg, key, default)`` still gets its default."""


def _from_probe(cls: type, param: str, args: Mapping[str, Any], *, hint_dict: bool) -> Constructor:
    probe = _Probe(args)
    try:
        cls(probe)
    except _MissingKey as exc:
        raise InputError(
            f"{cls.__name__}({param}) reads `{param}.{exc.args[0]}`, which has no value",
            hint=f"pass --arg {exc.args[0]}=VALUE (one --arg per field of the config object)",
        ) from None
    except Exception as exc:
        if not probe._read and not args:
            raise InputError(
                f"cannot tell what {cls.__name__}({param}) expects: constructing it failed ({exc})",
                hint="pass the config fields with --arg key=value",
            ) from None
        # the probe is not a real dict/namespace (e.g. the module iterates it): fine, the
        # fields read so far are what we know; the real construction will be tried later
    style = probe._style
    kind: ConfigKind = "dict" if hint_dict or style == {"item"} else "namespace"
    values = dict(probe._read)
    for k, v in args.items():
        values.setdefault(k, v)
    fields = tuple(Field(k, v, annotation_of(v)) for k, v in values.items())
    return Constructor(kind, fields, config_param=param)


def instantiate(cls: type, ctor: Constructor, values: Mapping[str, Any] | None = None) -> Any:
    """Build the research module from ``values`` (default: the constructor's own)."""
    import types

    vals = dict(ctor.values() if values is None else values)
    if ctor.kind == "kwargs":
        return cls(**vals)
    if ctor.kind == "dataclass":
        assert ctor.config_type is not None
        return cls(ctor.config_type(**vals))
    if ctor.kind == "dict":
        return cls(vals)
    if ctor.kind == "factory":
        assert ctor.factory is not None
        options = getattr(cls, ctor.factory)()
        for key, value in vals.items():
            if ctor.factory_items:
                options[key] = value
            else:
                setattr(options, key, value)
        return cls(options)
    return cls(types.SimpleNamespace(**vals))
