"""A symbolic walk of a torch pickle: torch's ``weights_only`` rules, without torch, running nothing.

The walk reads the opcodes one by one and keeps a stack of *descriptions* of values: plain data
(numbers, strings, containers), :class:`Global` references, tensors as :class:`TensorMeta` and
storages as :class:`StorageRef`. It accepts exactly the opcodes and globals that torch's
``weights_only`` unpickler (``torch._weights_only_unpickler``) accepts by default, and refuses
what it refuses (with :class:`Refused`, naming the reason). No global is imported and nothing
named by the file is called or instantiated: a "call" of an allowed rebuild function becomes a
:class:`TensorMeta`, anything else an :class:`Opaque` description.

One rule for two users: ``convert`` reads ``data.pkl`` of zip checkpoints with it (torch is only
needed for what it marks *beyond plain*: quantized, sparse, subclassed tensors) and ``doctor``
gives its static pickle verdict with it, so what doctor calls safe is what convert accepts.
"""

from __future__ import annotations

import io
import pickletools
import struct
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from hf_custom.weights.zipmeta import StorageRef, TensorMeta


class Refused(Exception):
    """torch's weights_only unpickler would refuse this pickle (nothing was run)."""

    def __init__(
        self, reason: str, *, globals_: tuple[str, ...] = (), malformed: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.globals = globals_
        self.malformed = malformed  # broken data (truncated, inconsistent), not a forbidden op


@dataclass(frozen=True)
class Global:
    """A global the pickle names (never imported)."""

    name: str


@dataclass(frozen=True)
class Opaque:
    """An allowed value this walk does not model (a ``torch.device``, a ``set``, a qtensor)."""

    what: str
    tensor: bool = False  # a tensor this walk cannot locate (quantized, sparse, subclass)


_STORAGE_DTYPES = {
    "Float": "F32",
    "Double": "F64",
    "Half": "F16",
    "BFloat16": "BF16",
    "Long": "I64",
    "Int": "I32",
    "Short": "I16",
    "Char": "I8",
    "Byte": "U8",
    "Bool": "BOOL",
}
_DTYPES = [
    "bfloat16",
    "bits16",
    "bits1x8",
    "bits2x4",
    "bits4x2",
    "bits8",
    "bool",
    "complex128",
    "complex32",
    "complex64",
    "float16",
    "float32",
    "float4_e2m1fn_x2",
    "float64",
    "float8_e4m3fn",
    "float8_e4m3fnuz",
    "float8_e5m2",
    "float8_e5m2fnuz",
    "float8_e8m0fnu",
    "qint32",
    "qint8",
    "quint2x4",
    "quint4x2",
    "quint8",
    "per_channel_affine",
    "per_channel_affine_float_qparams",
    "per_channel_symmetric",
    "per_tensor_affine",
    "per_tensor_symmetric",
]
_REBUILD = [
    "device_tensor_from_cpu_tensor",
    "device_tensor_from_numpy",
    "meta_tensor_no_storage",
    "nested_tensor",
    "parameter",
    "parameter_with_state",
    "qtensor",
    "sparse_tensor",
    "tensor",
    "tensor_v2",
    "tensor_v3",
    "wrapper_subclass",
]
_PLAIN_TYPES = ("Float", "Double", "Half", "BFloat16", "Long", "Int", "Short", "Char", "Byte")
_QUANT_STORAGES = ("QInt32", "QInt8", "QUInt2x4", "QUInt4x2", "QUInt8")


def _allowed() -> frozenset[str]:
    names = {
        "collections.OrderedDict",
        "collections.Counter",
        "torch.nn.parameter.Parameter",
        "torch.serialization._get_layout",
        "torch.Size",
        "torch.Tensor",
        "torch.device",
        "_codecs.encode",
        "builtins.bytearray",
        "builtins.set",
        "builtins.complex",
        "torch.storage.TypedStorage",
        "torch.storage.UntypedStorage",
        "torch._tensor._rebuild_from_type_v2",
    }
    names.update(f"torch.{d}" for d in _DTYPES)
    names.update(f"torch.{k}{n}" for k in ("int", "uint") for n in range(1, 8))
    names.update(f"torch.{k}{n}" for k in ("int", "uint") for n in (8, 16, 32, 64))
    names.update(f"torch._utils._rebuild_{f}" for f in _REBUILD)
    storages = [*_STORAGE_DTYPES, "ComplexDouble", "ComplexFloat"]
    names.update(f"torch.{s}Storage" for s in [*storages, *_QUANT_STORAGES])
    names.update(f"torch.cuda.{s}Storage" for s in storages)
    for prefix in ("torch.", "torch.cuda."):
        names.update(f"{prefix}{t}Tensor" for t in [*_PLAIN_TYPES, "Bool"])
        names.update(f"{prefix}sparse.{t}Tensor" for t in _PLAIN_TYPES)
    return frozenset(names)


#: The globals torch's weights_only unpickler allows by default (torch 2.13; a test compares).
ALLOWED_GLOBALS = _allowed()
#: Modules torch blocks by name, whatever the allow-list holds.
BLOCKED_MODULES = frozenset({"sys", "os", "posix", "nt"})
_RENAMED_MODULES = {"__builtin__": "builtins", "copy_reg": "copyreg"}


def storage_dtype(storage_type: Global) -> str | None:
    """The safetensors dtype of a storage class global (None: not a plain storage)."""
    name = storage_type.name
    if name == "torch.storage.UntypedStorage":
        return "U8"
    if name.startswith("torch.") and name.endswith("Storage") and name.count(".") == 1:
        return _STORAGE_DTYPES.get(name[len("torch.") : -len("Storage")])
    return None


@dataclass
class Walk:
    """The result: the top-level object (tensors as TensorMeta) and what is beyond plain."""

    obj: Any
    beyond_plain: list[str] = field(default_factory=list)
    storages: dict[str, StorageRef] = field(default_factory=dict)  # by key


class _Mark:
    pass


_MARK = _Mark()


class _Walker:
    def __init__(self, stream: IO[bytes], *, legacy: bool) -> None:
        self.f = stream
        self.legacy = legacy
        self.stack: list[Any] = []
        self.memo: dict[int, Any] = {}
        self.beyond: list[str] = []
        self.storages: dict[str, StorageRef] = {}
        self.ops: dict[int, Callable[[], None]] = {
            ord(code): getattr(self, "op_" + name.lower()) for name, code in _OPS.items()
        }

    # -- reading --------------------------------------------------------------------------------
    def read(self, n: int) -> bytes:
        data = self.f.read(n)
        if len(data) != n:
            raise Refused("the pickle ends early (truncated)", malformed=True)
        return data

    def line(self) -> str:
        data = self.f.readline()
        if not data.endswith(b"\n"):
            raise Refused("the pickle ends early (truncated)", malformed=True)
        try:
            return data[:-1].decode("utf-8")
        except UnicodeDecodeError:
            raise Refused("a global's name is not UTF-8") from None

    def pop(self) -> Any:
        if not self.stack or self.stack[-1] is _MARK:
            raise Refused("malformed pickle (stack underflow)", malformed=True)
        return self.stack.pop()

    def top(self) -> Any:
        if not self.stack or self.stack[-1] is _MARK:
            raise Refused("malformed pickle (stack underflow)", malformed=True)
        return self.stack[-1]

    def pop_mark(self) -> list[Any]:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i] is _MARK:
                items = self.stack[i + 1 :]
                del self.stack[i:]
                return items
        raise Refused("malformed pickle (no MARK)", malformed=True)

    def run(self) -> Any:
        while True:
            code = self.f.read(1)
            if not code:
                raise Refused("the pickle ends early (no STOP)", malformed=True)
            if code == b".":
                return self.pop()
            op = self.ops.get(code[0])
            if op is None:
                name = _opname(code[0])
                raise Refused(f"opcode {name} is not accepted by torch's weights_only loader")
            op()

    # -- opcodes torch's weights_only unpickler accepts -----------------------------------------
    def op_proto(self) -> None:
        self.read(1)

    def op_global(self) -> None:
        module, name = self.line(), self.line()
        module = _RENAMED_MODULES.get(module, module)
        full = f"{module}.{name}"
        if module in BLOCKED_MODULES or full not in ALLOWED_GLOBALS:
            raise Refused(f"global {full} is not allowed", globals_=(full,))
        self.stack.append(Global(full))

    def op_newobj(self) -> None:
        args, cls = self.pop(), self.pop()
        if not isinstance(cls, Global):
            raise Refused("NEWOBJ of something that is not an allowed class")
        if cls.name == "torch.nn.parameter.Parameter" and args and isinstance(args[0], TensorMeta):
            self.stack.append(args[0])
            return
        self.stack.append(self.opaque(cls.name))

    def op_reduce(self) -> None:
        args = self.pop()
        func = self.top()
        if not isinstance(func, Global):
            raise Refused("REDUCE calls something that is not an allowed global")
        if not isinstance(args, tuple):
            raise Refused("REDUCE with arguments that are not a tuple")
        self.stack[-1] = self.call(func.name, args)

    def op_build(self) -> None:
        self.pop()
        inst = self.top()
        if not isinstance(inst, (TensorMeta, OrderedDict, Opaque, set, Counter)):
            raise Refused(f"BUILD of a {type(inst).__name__}, which torch does not allow")

    def op_append(self) -> None:
        item = self.pop()
        self.list_target().append(item)

    def op_appends(self) -> None:
        items = self.pop_mark()
        self.list_target().extend(items)

    def op_setitem(self) -> None:
        value, key = self.pop(), self.pop()
        self.dict_target()[_key(key)] = value

    def op_setitems(self) -> None:
        items = self.pop_mark()
        target = self.dict_target()
        if len(items) % 2:
            raise Refused("malformed pickle (SETITEMS with an odd count)", malformed=True)
        for i in range(0, len(items), 2):
            target[_key(items[i])] = items[i + 1]

    def op_mark(self) -> None:
        self.stack.append(_MARK)

    def op_tuple(self) -> None:
        self.stack.append(tuple(self.pop_mark()))

    def op_tuple1(self) -> None:
        self.stack.append((self.pop(),))

    def op_tuple2(self) -> None:
        b, a = self.pop(), self.pop()
        self.stack.append((a, b))

    def op_tuple3(self) -> None:
        c, b, a = self.pop(), self.pop(), self.pop()
        self.stack.append((a, b, c))

    def op_none(self) -> None:
        self.stack.append(None)

    def op_newfalse(self) -> None:
        self.stack.append(False)

    def op_newtrue(self) -> None:
        self.stack.append(True)

    def op_empty_tuple(self) -> None:
        self.stack.append(())

    def op_empty_list(self) -> None:
        self.stack.append([])

    def op_empty_dict(self) -> None:
        self.stack.append({})

    def op_empty_set(self) -> None:
        self.stack.append(set())

    def op_binint(self) -> None:
        self.stack.append(struct.unpack("<i", self.read(4))[0])

    def op_binint1(self) -> None:
        self.stack.append(self.read(1)[0])

    def op_binint2(self) -> None:
        self.stack.append(struct.unpack("<H", self.read(2))[0])

    def op_binfloat(self) -> None:
        self.stack.append(struct.unpack(">d", self.read(8))[0])

    def op_long1(self) -> None:
        n = self.read(1)[0]
        self.stack.append(int.from_bytes(self.read(n), "little", signed=True))

    def op_binunicode(self) -> None:
        (n,) = struct.unpack("<I", self.read(4))
        self.stack.append(self.read(n).decode("utf-8", "surrogatepass"))

    def op_short_binstring(self) -> None:
        n = self.read(1)[0]
        try:
            self.stack.append(self.read(n).decode("utf-8"))
        except UnicodeDecodeError:
            raise Refused("a string is not UTF-8") from None

    def op_binpersid(self) -> None:
        pid = self.pop()
        if type(pid) is int:
            raise Refused("integer persistent ids are not storages")
        if type(pid) is not tuple or not pid or _ascii(pid[0]) != "storage":
            raise Refused("persistent id that is not a storage")
        self.stack.append(self.storage(pid))

    def op_binget(self) -> None:
        self.get(self.read(1)[0])

    def op_long_binget(self) -> None:
        self.get(struct.unpack("<I", self.read(4))[0])

    def op_binput(self) -> None:
        self.memo[self.read(1)[0]] = self.top()

    def op_long_binput(self) -> None:
        self.memo[struct.unpack("<I", self.read(4))[0]] = self.top()

    # -- helpers --------------------------------------------------------------------------------
    def get(self, i: int) -> None:
        if i not in self.memo:
            raise Refused("malformed pickle (memo entry missing)", malformed=True)
        self.stack.append(self.memo[i])

    def list_target(self) -> list[Any]:
        target = self.top()
        if type(target) is not list:
            raise Refused(f"APPEND to a {type(target).__name__}, which torch does not allow")
        return target

    def dict_target(self) -> dict[Any, Any]:
        target = self.top()
        if type(target) not in (dict, OrderedDict, Counter):
            raise Refused(f"SETITEM on a {type(target).__name__}, which torch does not allow")
        return target

    def opaque(self, what: str, *, tensor: bool = False) -> Opaque:
        if tensor:
            self.beyond.append(what)
        return Opaque(what, tensor=tensor)

    def storage(self, pid: tuple[Any, ...]) -> Any:
        if self.legacy and len(pid) == 6 and pid[5] is not None:
            return self.opaque("a storage view (legacy format)", tensor=True)
        if len(pid) not in (5, 6) or not isinstance(pid[1], Global):
            raise Refused("malformed storage record", malformed=True)
        dtype = storage_dtype(pid[1])
        numel = pid[4]
        if dtype is None or type(numel) is not int:
            return self.opaque(f"storage {pid[1].name}", tensor=True)
        ref = StorageRef(key=str(_ascii(pid[2])), dtype=dtype, numel=numel)
        self.storages[ref.key] = ref
        return ref

    def call(self, func: str, args: tuple[Any, ...]) -> Any:
        if func in ("torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor"):
            return self.tensor(args)
        if func in (
            "torch._utils._rebuild_parameter",
            "torch._utils._rebuild_parameter_with_state",
        ):
            if args and isinstance(args[0], TensorMeta):
                return args[0]
            return self.opaque(func, tensor=True)
        if func == "torch._tensor._rebuild_from_type_v2" and len(args) == 4:
            inner, new_type, inner_args, state = args
            plain = isinstance(new_type, Global) and new_type.name in (
                "torch.Tensor",
                "torch.nn.parameter.Parameter",
            )
            if plain and isinstance(inner, Global) and isinstance(inner_args, tuple) and not state:
                return self.call(inner.name, inner_args)
            return self.opaque(func, tensor=True)
        if func == "collections.OrderedDict" and not args:
            return OrderedDict()
        if func == "collections.Counter" and not args:
            return Counter()
        if func == "_codecs.encode" and len(args) == 2 and isinstance(args[0], str):
            if args[1] in ("latin1", "latin-1"):
                return args[0].encode("latin-1", "ignore")
            return self.opaque("_codecs.encode(...)")
        return self.opaque(func, tensor=func.startswith("torch._utils._rebuild_"))

    def tensor(self, args: tuple[Any, ...]) -> Any:
        if len(args) < 4:
            raise Refused("malformed tensor record", malformed=True)
        storage, offset, shape, stride = args[:4]
        ints = (type(offset) is int) and all(
            isinstance(t, tuple) and all(type(x) is int for x in t) for t in (shape, stride)
        )
        if not isinstance(storage, StorageRef) or not ints or len(shape) != len(stride):
            return self.opaque("a tensor of an unusual storage", tensor=True)
        return TensorMeta(storage, offset, shape, stride)


_OPS = {
    name: code
    for name, code in (
        (op.name, op.code)
        for op in pickletools.opcodes
        if op.name
        in {
            "PROTO",
            "GLOBAL",
            "NEWOBJ",
            "REDUCE",
            "BUILD",
            "APPEND",
            "APPENDS",
            "SETITEM",
            "SETITEMS",
            "MARK",
            "TUPLE",
            "TUPLE1",
            "TUPLE2",
            "TUPLE3",
            "NONE",
            "NEWFALSE",
            "NEWTRUE",
            "EMPTY_TUPLE",
            "EMPTY_LIST",
            "EMPTY_DICT",
            "EMPTY_SET",
            "BININT",
            "BININT1",
            "BININT2",
            "BINFLOAT",
            "LONG1",
            "BINUNICODE",
            "SHORT_BINSTRING",
            "BINPERSID",
            "BINGET",
            "LONG_BINGET",
            "BINPUT",
            "LONG_BINPUT",
        }
    )
}


def _opname(code: int) -> str:
    for op in pickletools.opcodes:
        if op.code == chr(code):
            return op.name
    return f"0x{code:02x}"


def _ascii(value: Any) -> Any:
    return value.decode("ascii") if isinstance(value, bytes) else value


def _key(key: Any) -> Any:
    try:
        hash(key)
    except TypeError:
        raise Refused(f"a dict key of type {type(key).__name__} (unhashable)") from None
    return key


def walk(data: bytes | IO[bytes], *, legacy: bool = False) -> Walk:
    """Walk one pickle (``data.pkl`` of a zip checkpoint, or one stream of a legacy file)."""
    stream = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
    walker = _Walker(stream, legacy=legacy)
    obj = walker.run()
    return Walk(obj, walker.beyond, walker.storages)


LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


def walk_legacy(stream: IO[bytes]) -> tuple[Walk, list[Any]]:
    """The pickles at the start of a legacy-format torch file: magic number, protocol
    version, system info, the object, the storage keys (the raw storage bytes follow).
    Returns the object's walk and the storage keys."""
    magic = walk(stream).obj
    if magic != LEGACY_MAGIC:
        raise Refused("not a torch file (no legacy magic number)", malformed=True)
    walk(stream)  # protocol version
    walk(stream)  # sys info
    main = walk(stream, legacy=True)
    keys = walk(stream).obj
    if not isinstance(keys, list):
        raise Refused("malformed legacy file (no storage key list)", malformed=True)
    return main, keys


def walk_pickles(stream: IO[bytes], *, limit: int = 5) -> None:
    """Walk the pickle streams at the start of any pickle file (a torch legacy file, or a
    plain pickle such as ``training_args.bin``), stopping where the data stops being one."""
    for _ in range(limit):
        head = stream.read(1)
        if head != b"\x80":
            return
        stream.seek(-1, io.SEEK_CUR)
        walk(stream)


def tensors_in(obj: Any) -> Iterator[TensorMeta]:
    """Every TensorMeta in containers of ``obj``."""
    if isinstance(obj, TensorMeta):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from tensors_in(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from tensors_in(v)
