"""Expected values of the committed fixtures (test/fixtures/), as python3 gives them.

`expected_results(data, ...)` loads a pickle with CPython's `pickle` (the C unpickler) once per
encoding in ENCODINGS and records, per encoding, {"value": tagged} or {"error": type name}.

Values are in the tagged JSON of tagged.py, plus one form for instances of classes, which
pickle-ts keeps inert (`PyObject`):

    {"t": "object", "id": n, "cls": tagged, "args": tagged tuple, "kind": "reduce" | "newobj" |
     "newobj_ex" | "inst" | "obj", "kwargs"?: tagged dict, "state"?: tagged,
     "listItems": [tagged], "dictItems": [[tagged, tagged]]}

For a value that holds instances, the record comes from `InertUnpickler`: CPython's own
pure-Python unpickler with the object-building opcodes (REDUCE, NEWOBJ, NEWOBJ_EX, INST, OBJ,
BUILD, APPEND(S), SETITEM(S)) recording what they were given instead of running it, for every
global except the data-only callables pickle-ts also runs (builtins.set, frozenset, bytes,
bytearray, complex, _codecs.encode). `check_inert` then re-runs those recorded calls for real
and requires the result to equal what the C unpickler gave, so the record is faithful.
"""
import copyreg
import importlib
import io
import math
import pickle
import sys
import _compat_pickle
import _codecs

from tagged import float_text

ENCODINGS = ("ASCII", "latin1", "bytes")

# The globals pickle-ts gives behaviour to by default (src/core/registry.ts); others stay inert.
BOUND = {
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "bytes"): bytes,
    ("builtins", "bytearray"): bytearray,
    ("builtins", "complex"): complex,
    ("_codecs", "encode"): _codecs.encode,
}


class InertGlobal:
    def __init__(self, module, name):
        self.module = module
        self.name = name

    def __call__(self, *args):
        return InertObject(self, args, "reduce")

    def __repr__(self):
        return "InertGlobal(%s.%s)" % (self.module, self.name)


class InertObject:
    _no_state = object()

    def __init__(self, cls, args, kind, kwargs=None):
        self.cls = cls
        self.args = tuple(args)
        self.kind = kind
        self.kwargs = kwargs
        self.state = InertObject._no_state
        self.list_items = []
        self.dict_items = []

    def __call__(self, *args):
        return InertObject(self, args, "reduce")

    def __setitem__(self, key, value):
        self.dict_items.append((key, value))

    def __repr__(self):
        return "InertObject(%r, kind=%s)" % (self.cls, self.kind)


def persistent_pair(pid):
    """What the fixtures' persistent_load returns (pickle-ts tests pass the same function)."""
    return ("pid", pid)


class InertUnpickler(pickle._Unpickler):
    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, *, persistent=False, **kwargs):
        super().__init__(file, **kwargs)
        self._globals = {}
        self._extensions = {}
        if persistent:
            self.persistent_load = persistent_pair

    def find_class(self, module, name):
        if self.proto < 3 and self.fix_imports:
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        key = (module, name)
        if key not in self._globals:
            self._globals[key] = BOUND.get(key) or InertGlobal(module, name)
        return self._globals[key]

    def get_extension(self, code):
        # copyreg's cache is process-wide and may hold real classes: keep our own.
        if code not in self._extensions:
            key = copyreg._inverted_registry.get(code)
            if not key:
                raise ValueError("unregistered extension code %d" % code)
            self._extensions[code] = self.find_class(*key)
        self.append(self._extensions[code])

    def _inert_instantiate(self, klass, args, kind):
        if isinstance(klass, (InertGlobal, InertObject)):
            self.append(InertObject(klass, args, kind))
        else:
            self._instantiate(klass, args)

    def load_inst(self):
        module = self.readline()[:-1].decode("ascii")
        name = self.readline()[:-1].decode("ascii")
        self._inert_instantiate(self.find_class(module, name), self.pop_mark(), "inst")

    dispatch[pickle.INST[0]] = load_inst

    def load_obj(self):
        args = self.pop_mark()
        cls = args.pop(0)
        self._inert_instantiate(cls, args, "obj")

    dispatch[pickle.OBJ[0]] = load_obj

    def load_newobj(self):
        args = self.stack.pop()
        cls = self.stack.pop()
        if isinstance(cls, (InertGlobal, InertObject)):
            self.append(InertObject(cls, args, "newobj"))
        else:
            self.append(cls.__new__(cls, *args))

    dispatch[pickle.NEWOBJ[0]] = load_newobj

    def load_newobj_ex(self):
        kwargs = self.stack.pop()
        args = self.stack.pop()
        cls = self.stack.pop()
        if isinstance(cls, (InertGlobal, InertObject)):
            self.append(InertObject(cls, args, "newobj_ex", kwargs))
        else:
            self.append(cls.__new__(cls, *args, **kwargs))

    dispatch[pickle.NEWOBJ_EX[0]] = load_newobj_ex

    def load_build(self):
        if isinstance(self.stack[-2], InertObject):
            state = self.stack.pop()
            self.stack[-1].state = state
        else:
            pickle._Unpickler.load_build(self)

    dispatch[pickle.BUILD[0]] = load_build

    def load_append(self):
        if isinstance(self.stack[-2], InertObject):
            value = self.stack.pop()
            self.stack[-1].list_items.append(value)
        else:
            pickle._Unpickler.load_append(self)

    dispatch[pickle.APPEND[0]] = load_append

    def load_appends(self):
        items = self.pop_mark()
        target = self.stack[-1]
        if isinstance(target, InertObject):
            target.list_items.extend(items)
        else:
            target.extend(items)

    dispatch[pickle.APPENDS[0]] = load_appends


def contains_instances(value):
    """Whether the loaded value holds objects the plain tagged form cannot describe."""
    seen = set()
    todo = [value]
    while todo:
        v = todo.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        t = type(v)
        if v is None or t in (bool, int, float, str, bytes, bytearray, complex):
            continue
        if t in (list, tuple, set, frozenset):
            todo.extend(v)
        elif t is dict:
            todo.extend(v.keys())
            todo.extend(v.values())
        elif isinstance(v, type) or callable(v) and hasattr(v, "__qualname__"):
            continue
        else:
            return True
    return False


def to_tagged(value):
    """tagged.to_tagged, extended with InertGlobal (as "global") and InertObject ("object")."""
    ids = {}
    keep = []

    def enc(v):
        t = type(v)
        if v is None:
            return {"t": "None"}
        if t is bool:
            return {"t": "bool", "v": v}
        if t is int:
            return {"t": "int", "v": str(v)}
        if t is float:
            return {"t": "float", "v": float_text(v)}
        if t is str:
            return {"t": "str", "v": v}
        n = len(ids) + 1
        if t in (tuple, bytes) and len(v) == 0:
            # CPython shares its empty tuple and empty bytes; a pickle's EMPTY_TUPLE and empty
            # bytes are new objects each time (they are never memoized): never a ref.
            ids[("empty", n)] = n
            return {"t": t.__name__, "id": n, "v": "" if t is bytes else []}
        if t is bytes and len(v) == 1 and id(v) in ids:
            # One-byte bytes are cached by CPython too: sharing is not observable.
            raise TypeError("ambiguous sharing of a one-byte bytes object %r" % v)
        if id(v) in ids:
            return {"t": "ref", "id": ids[id(v)]}
        ids[id(v)] = n
        keep.append(v)
        if t is bytes:
            return {"t": "bytes", "id": n, "v": v.hex()}
        if t is bytearray:
            return {"t": "bytearray", "id": n, "v": v.hex()}
        if t is complex:
            return {"t": "complex", "id": n, "re": float_text(v.real), "im": float_text(v.imag)}
        if t is tuple:
            return {"t": "tuple", "id": n, "v": [enc(x) for x in v]}
        if t is list:
            return {"t": "list", "id": n, "v": [enc(x) for x in v]}
        if t is dict:
            return {"t": "dict", "id": n, "v": [[enc(k), enc(x)] for k, x in v.items()]}
        if t is set:
            return {"t": "set", "id": n, "v": [enc(x) for x in v]}
        if t is frozenset:
            return {"t": "frozenset", "id": n, "v": [enc(x) for x in v]}
        if t is InertGlobal:
            return {"t": "global", "id": n, "module": v.module, "name": v.name}
        if t is InertObject:
            out = {"t": "object", "id": n, "kind": v.kind, "cls": enc(v.cls), "args": enc(v.args)}
            if v.kwargs is not None:
                out["kwargs"] = enc(v.kwargs)
            if v.state is not InertObject._no_state:
                out["state"] = enc(v.state)
            out["listItems"] = [enc(x) for x in v.list_items]
            out["dictItems"] = [[enc(k), enc(x)] for k, x in v.dict_items]
            return out
        if isinstance(v, type) or callable(v) and hasattr(v, "__qualname__"):
            return {"t": "global", "id": n, "module": v.__module__, "name": v.__qualname__}
        raise TypeError("no tagged form for %r" % (t,))

    return enc(value)


# --- checking the inert record against the real load ----------------------------------------


def realize(value):
    """Runs the calls an inert load recorded, as the C unpickler would have run them."""
    memo = {}

    def build(inst, state):
        setstate = getattr(inst, "__setstate__", None)
        if setstate is not None:
            setstate(state)
            return
        slotstate = None
        if isinstance(state, tuple) and len(state) == 2:
            state, slotstate = state
        if state:
            inst.__dict__.update(state)
        if slotstate:
            for k, x in slotstate.items():
                setattr(inst, k, x)

    def real(v):
        if id(v) in memo:
            return memo[id(v)]
        t = type(v)
        if t is InertGlobal:
            obj = importlib.import_module(v.module)
            for part in v.name.split("."):
                obj = getattr(obj, part)
            memo[id(v)] = obj
            return obj
        if t is InertObject:
            cls = real(v.cls)
            args = real(v.args)
            if v.kind == "reduce":
                obj = cls(*args)
            elif v.kind == "newobj":
                obj = cls.__new__(cls, *args)
            elif v.kind == "newobj_ex":
                obj = cls.__new__(cls, *args, **real(v.kwargs))
            elif args or not isinstance(cls, type) or hasattr(cls, "__getinitargs__"):
                obj = cls(*args)
            else:
                obj = cls.__new__(cls)
            memo[id(v)] = obj
            if v.list_items:
                obj.extend([real(x) for x in v.list_items])
            for k, x in v.dict_items:
                obj[real(k)] = real(x)
            if v.state is not InertObject._no_state:
                build(obj, real(v.state))
            return obj
        if t is list:
            out = memo[id(v)] = []
            out.extend(real(x) for x in v)
            return out
        if t is dict:
            out = memo[id(v)] = {}
            for k, x in v.items():
                out[real(k)] = real(x)
            return out
        if t is tuple:
            out = memo[id(v)] = tuple(real(x) for x in v)
            return out
        if t in (set, frozenset):
            out = memo[id(v)] = t(real(x) for x in v)
            return out
        return v

    return real(value)


def same(a, b):
    """Equal with the same types and sharing; instances compare by class, __dict__ and items."""
    pairs = {}

    def eq(a, b, path):
        ta, tb = type(a), type(b)
        if ta is not tb:
            return "%s: type %s != %s" % (path, ta.__name__, tb.__name__)
        if ta is float:
            if math.isnan(a) and math.isnan(b):
                return None
            ok = a == b and math.copysign(1, a) == math.copysign(1, b)
            return None if ok else "%s: %r != %r" % (path, a, b)
        if a is None or ta in (bool, int, str, complex, bytes):
            return None if a == b else "%s: %r != %r" % (path, a, b)
        if isinstance(a, type) or callable(a) and hasattr(a, "__qualname__"):
            return None if a is b else "%s: %r is not %r" % (path, a, b)
        if id(a) in pairs:
            return None if pairs[id(a)] is b else "%s: sharing differs" % path
        pairs[id(a)] = b
        if isinstance(a, (list, tuple)):
            if len(a) != len(b):
                return "%s: length %d != %d" % (path, len(a), len(b))
            for i, (x, y) in enumerate(zip(a, b)):
                d = eq(x, y, "%s[%d]" % (path, i))
                if d:
                    return d
        elif isinstance(a, dict):
            if len(a) != len(b):
                return "%s: size %d != %d" % (path, len(a), len(b))
            for (ka, va), (kb, vb) in zip(a.items(), b.items()):
                d = eq(ka, kb, path + ".<key>") or eq(va, vb, "%s[%r]" % (path, ka))
                if d:
                    return d
        elif isinstance(a, (set, frozenset)):
            if a != b:
                return "%s: members differ" % path
        elif ta is bytearray:
            if a != b:
                return "%s: %r != %r" % (path, a, b)
        elif ta.__module__ == "builtins":
            return "%s: cannot compare %s" % (path, ta.__name__)
        if hasattr(a, "__dict__") and ta.__module__ != "builtins":
            return eq(dict(vars(a)), dict(vars(b)), path + ".__dict__")
        return None

    return eq(a, b, "value")


# --- the expected values ------------------------------------------------------------------------


def _load(data, encoding, persistent):
    if not persistent:
        return pickle.loads(data, encoding=encoding)
    # pickle.loads takes no persistent_load: an Unpickler on a file does (it differs from
    # pickle.loads only for FRAMEs an argument runs past, which these fixtures do not have).
    u = pickle.Unpickler(io.BytesIO(data), encoding=encoding)
    u.persistent_load = persistent_pair
    return u.load()


def load_one(data, encoding, persistent=False):
    """{"value": tagged} or {"error": type name} for python3's C unpickler."""
    try:
        value = _load(data, encoding, persistent)
    except Exception as e:  # noqa: BLE001
        return {"error": type(e).__name__}
    if not contains_instances(value):
        return {"value": to_tagged(value)}
    inert = InertUnpickler(io.BytesIO(data), encoding=encoding, persistent=persistent).load()
    diff = same(value, realize(inert))
    if diff:
        raise AssertionError("inert record differs from the real load: %s" % diff)
    return {"value": to_tagged(inert)}


def with_extensions(extensions, f):
    """Runs f() with copyreg extension codes registered, then removes them."""
    added = []
    try:
        for module, name, code in extensions:
            copyreg.add_extension(module, name, code)
            added.append((module, name, code))
        copyreg.clear_extension_cache()
        return f()
    finally:
        for module, name, code in added:
            copyreg.remove_extension(module, name, code)
        copyreg.clear_extension_cache()


def expected_results(data, persistent=False, extensions=()):
    """Per encoding in ENCODINGS: what python3 gives for `data`."""
    def run():
        return {e: load_one(data, e, persistent) for e in ENCODINGS}

    return with_extensions(extensions, run)


def opcode_names(data):
    """The opcodes of the pickle, skipping arguments by their size (nothing is decoded), up to
    STOP or to the first opcode that is unknown or cut short."""
    import pickletools
    by_code = {op.code.encode("latin-1")[0]: op for op in pickletools.opcodes}
    sizes = {pickletools.TAKEN_FROM_ARGUMENT1: (1, "<B"),
             pickletools.TAKEN_FROM_ARGUMENT4: (4, "<i"),
             pickletools.TAKEN_FROM_ARGUMENT4U: (4, "<I"),
             pickletools.TAKEN_FROM_ARGUMENT8U: (8, "<Q")}
    import struct
    names = []
    pos = 0
    while pos < len(data):
        op = by_code.get(data[pos])
        if op is None:
            break
        pos += 1
        arg = op.arg
        if arg is not None:
            if arg.n >= 0:
                pos += arg.n
            elif arg.n == pickletools.UP_TO_NEWLINE:
                for _ in range(2 if arg.name == "stringnl_noescape_pair" else 1):
                    nl = data.find(b"\n", pos)
                    pos = len(data) + 1 if nl < 0 else nl + 1
            else:
                size, fmt = sizes[arg.n]
                if pos + size > len(data):
                    break
                pos += size + struct.unpack(fmt, data[pos:pos + size])[0]
        if pos > len(data):
            break
        names.append(op.name)
        if op.name == "STOP":
            break
    return names


if __name__ == "__main__":
    sys.stdout.write("%r\n" % expected_results(sys.stdin.buffer.read()))
