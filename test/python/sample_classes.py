"""Sample classes for the tests of inert objects (test/pyobject.test.ts), persistent IDs
(test/persistent.test.ts) and extension codes (test/extensions.test.ts).

Each class pickles through a different path of CPython's pickler: `__reduce__` with 2 to 5
items, the default `object.__reduce_ex__` (copyreg._reconstructor below protocol 2, NEWOBJ from
2), `__getnewargs__`, `__getnewargs_ex__` (NEWOBJ_EX from 4), `__getstate__`/`__setstate__`,
subclasses of list and dict, and a nested class. Every class compares equal by type and state,
so that the tests can check in Python that a value pickle-ts wrote back is the original.
"""
import copyreg
import pickle


class Eq:
    """Equal when the types are the same and the instance dicts are equal."""

    def __eq__(self, other):
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __repr__(self):
        return "%s(%r)" % (type(self).__qualname__, self.__dict__)


class Reduce2(Eq):
    """`__reduce__` with 2 items: callable and args (REDUCE)."""

    def __init__(self, a, b):
        self.a = a
        self.b = b

    def __reduce__(self):
        return (Reduce2, (self.a, self.b))


class Reduce3(Eq):
    """3 items: a state dict, applied by BUILD as a `__dict__` update (no `__setstate__`)."""

    def __init__(self, a, extra=None):
        self.a = a
        self.extra = extra

    def __reduce__(self):
        return (Reduce3, (self.a,), {"extra": self.extra})


class Reduce4(Eq):
    """4 items: state and list items (APPENDS calls `extend`, APPEND calls `append`)."""

    def __init__(self, name, items=(), tag=None):
        self.name = name
        self.items = list(items)
        self.tag = tag

    def append(self, x):
        self.items.append(x)

    def extend(self, xs):
        self.items.extend(xs)

    def __reduce__(self):
        return (Reduce4, (self.name,), {"tag": self.tag}, iter(self.items))


class Reduce5(Eq):
    """5 items: no state, no list items, dict items (SETITEMS calls `__setitem__`)."""

    def __init__(self, entries=None):
        self.entries = dict(entries or {})

    def __setitem__(self, k, v):
        self.entries[k] = v

    def __reduce__(self):
        return (Reduce5, (), None, None, iter(self.entries.items()))


class Reduce5Both(Eq):
    """5 items, all of them: state, list items and dict items."""

    def __init__(self, items=(), entries=None, note=None):
        self.items = list(items)
        self.entries = dict(entries or {})
        self.note = note

    def append(self, x):
        self.items.append(x)

    def extend(self, xs):
        self.items.extend(xs)

    def __setitem__(self, k, v):
        self.entries[k] = v

    def __reduce__(self):
        return (
            Reduce5Both,
            (),
            {"note": self.note},
            iter(self.items),
            iter(self.entries.items()),
        )


class Plain(Eq):
    """No pickling methods: the default `__reduce_ex__` with the `__dict__` as state."""

    def __init__(self, x, y):
        self.x = x
        self.y = y


class WithNewArgs(Eq):
    """`__getnewargs__`: NEWOBJ with arguments from protocol 2."""

    def __new__(cls, size):
        self = super().__new__(cls)
        self.size = size
        return self

    def __getnewargs__(self):
        return (self.size,)


class WithNewArgsEx(Eq):
    """`__getnewargs_ex__` with keyword arguments: NEWOBJ_EX from protocol 4."""

    def __new__(cls, a, *, b):
        self = super().__new__(cls)
        self.a = a
        self.b = b
        return self

    def __getnewargs_ex__(self):
        return ((self.a,), {"b": self.b})


class WithSetState(Eq):
    """`__getstate__` returns a tuple, which BUILD passes to `__setstate__`."""

    def __init__(self, v):
        self.v = v

    def __getstate__(self):
        return ("state", self.v)

    def __setstate__(self, state):
        assert state[0] == "state", state
        self.v = state[1]


class MyList(list):
    """A list subclass with an attribute: list items, then the `__dict__` as state."""

    def __init__(self, items=(), label=None):
        super().__init__(items)
        self.label = label

    def __eq__(self, other):
        return (
            type(self) is type(other)
            and list.__eq__(self, other)
            and self.__dict__ == other.__dict__
        )

    __hash__ = None


class MyDict(dict):
    """A dict subclass with an attribute: dict items, then the `__dict__` as state."""

    def __init__(self, entries=(), label=None):
        super().__init__(entries)
        self.label = label

    def __eq__(self, other):
        return (
            type(self) is type(other)
            and dict.__eq__(self, other)
            and self.__dict__ == other.__dict__
        )

    __hash__ = None


class Slots:
    """`__slots__` and no `__dict__`: the state is (None, slot dict), protocols 2-5 only."""

    __slots__ = ("s", "t")

    def __init__(self, s, t):
        self.s = s
        self.t = t

    def __eq__(self, other):
        return type(self) is type(other) and (self.s, self.t) == (other.s, other.t)


class Singleton(Eq):
    """`__reduce__` returns a string: the instance pickles as the global of that name."""

    def __reduce__(self):
        return "SINGLETON"


SINGLETON = Singleton()


def set_state(obj, state):
    """A state setter for Reduce6."""
    obj.__dict__.update(state)
    obj.set_by = "set_state"


class Reduce6(Eq):
    """6 items: the state is applied by calling `set_state(obj, state)` (REDUCE, then POP)."""

    def __init__(self, v=None):
        self.v = v

    def __reduce__(self):
        return (Reduce6, (), {"v": self.v}, None, None, set_state)


class Outer:
    """Holds a nested class: qualname `Outer.Inner`."""

    class Inner(Eq):
        def __init__(self, v):
            self.v = v


class Marker(Eq):
    """Stands for something kept outside the pickle: pickled by persistent ID."""

    def __init__(self, n):
        self.n = n


def sample_function(x):
    """A module-level function, pickled by reference."""
    return x


# Values by name, built fresh on each call. The tests name them.
SAMPLES = {
    "Reduce2": lambda: Reduce2(1, "two"),
    "Reduce3": lambda: Reduce3([1, 2], extra="x3"),
    "Reduce4": lambda: Reduce4("four", ["p", "q", 7], tag="t4"),
    "Reduce4 one item": lambda: Reduce4("single", ["only"], tag="t1"),
    "Reduce5": lambda: Reduce5({"k1": 1, "k2": [2]}),
    "Reduce5Both": lambda: Reduce5Both([1, 2, 3], {"e": 5, 6: "six"}, note="both"),
    "Plain": lambda: Plain(10, "wye"),
    "Plain nested": lambda: Plain(Plain(1, None), [Plain(2.5, b"bytes")]),
    "WithNewArgs": lambda: WithNewArgs(3),
    "WithNewArgsEx": lambda: WithNewArgsEx(1, b="bee"),
    "WithSetState": lambda: WithSetState({"deep": [1, 2]}),
    "MyList": lambda: MyList([1, "two", 3.5], label="lbl"),
    "MyDict": lambda: MyDict({"k": "v", 9: None}, label="lbl"),
    "Outer.Inner": lambda: Outer.Inner("inner"),
    "class Plain": lambda: Plain,
    "class Outer.Inner": lambda: Outer.Inner,
    "function": lambda: sample_function,
    "shared": lambda: _shared(),
    "globals shared": lambda: [Plain, sample_function, Plain, Plain(1, 2)],
    "Slots": lambda: Slots(1, "tee"),
    "Singleton": lambda: [SINGLETON, SINGLETON],
    "recursive": lambda: _recursive(),
    "Reduce6": lambda: Reduce6("six"),
}


def _recursive():
    p = Plain(1, None)
    p.y = [p]
    return p


def _shared():
    p = Plain("shared", None)
    return [p, Reduce2(p, p), p]


def sample(name):
    return SAMPLES[name]()


def dumps(name, protocol):
    """CPython's pickle of the named sample."""
    return pickle.dumps(sample(name), protocol)


def loads_equal(name, data):
    """Whether Python loads `data` to a value equal to the named sample (types included)."""
    value = pickle.loads(data)
    want = sample(name)
    if isinstance(want, (type, type(sample_function))):
        return value is want
    if name == "shared":
        return value == want and value[0] is value[1].a is value[1].b is value[2]
    if name == "recursive":
        return type(value) is Plain and value.x == 1 and value.y == [value]
    if name == "Singleton":
        return value == want and value[0] is value[1] is SINGLETON
    if name == "Reduce6":
        return type(value) is Reduce6 and value.__dict__ == {"v": "six", "set_by": "set_state"}
    return type(value) is type(want) and value == want


def partial_info(name, protocol):
    """Below protocol 4, CPython writes a NEWOBJ_EX reduce value (copyreg.__newobj_ex__) as
    `functools.partial(cls.__new__, cls, *args, **kwargs)()`: the partial's own reduce value."""
    import functools

    func, (cls, args, kwargs), state = sample(name).__reduce_ex__(protocol)[:3]
    assert func is copyreg.__newobj_ex__, func
    return functools.partial(cls.__new__, cls, *args, **kwargs).__reduce__(), state


def reduce_info(name, protocol):
    """What `save_reduce` gets for the named sample: (func, args, state, listitems, dictitems),
    with the iterators as lists. Only for values whose parts have a tagged form."""
    rv = sample(name).__reduce_ex__(protocol)
    if isinstance(rv, str):
        return rv
    rv = tuple(rv) + (None,) * (5 - len(rv))
    func, args, state, listitems, dictitems = rv[:5]
    return (
        func,
        args,
        state,
        None if listitems is None else list(listitems),
        None if dictitems is None else [list(kv) for kv in dictitems],
    )


# --- persistent IDs ------------------------------------------------------------------------


class RefPickler(pickle.Pickler):
    """Pickles a `Marker` as a persistent ID: "ref:N" at protocol 0, ("ref", N) from 1."""

    def __init__(self, file, protocol):
        super().__init__(file, protocol)
        self.protocol = protocol

    def persistent_id(self, obj):
        if isinstance(obj, Marker):
            return "ref:%d" % obj.n if self.protocol == 0 else ("ref", obj.n)
        return None


class RefUnpickler(pickle.Unpickler):
    """Turns the IDs RefPickler writes back into markers, and records them."""

    def __init__(self, file, **kwargs):
        super().__init__(file, **kwargs)
        self.pids = []

    def persistent_load(self, pid):
        self.pids.append(pid)
        if isinstance(pid, str) and pid.startswith("ref:"):
            return Marker(int(pid[4:]))
        if isinstance(pid, tuple) and len(pid) == 2 and pid[0] == "ref":
            return Marker(pid[1])
        raise pickle.UnpicklingError("unknown persistent id %r" % (pid,))


def ref_sample():
    """Markers (one of them reached twice) among ordinary values."""
    m = Marker(1)
    return [m, "x", {"m": Marker(2)}, m]


def dumps_refs(value, protocol):
    import io

    f = io.BytesIO()
    RefPickler(f, protocol).dump(value)
    return f.getvalue()


def loads_refs(data):
    """(value, pids) as RefUnpickler loads `data`."""
    import io

    u = RefUnpickler(io.BytesIO(data))
    return u.load(), u.pids


def with_extension(module, name, code, action):
    """Runs `action()` with `module.name` registered as extension `code`, then removes it, so
    that the oracle process keeps copyreg's process-wide registry clean."""
    copyreg.add_extension(module, name, code)
    try:
        return action()
    finally:
        copyreg.remove_extension(module, name, code)
