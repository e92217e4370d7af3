"""The scanner's oracle: which globals Python's own unpickler asks `find_class` for, loading a
file's pickles with every global replaced by an inert stub (nothing is imported or run).

`globals_python_looks_up(path)` returns, per file, the (module, name) pairs in order, and
whether Python walked every pickle to its end (a stub may make a later opcode fail: a
STACK_GLOBAL of names computed by calls, joblib's arrays written between opcodes).
"""
import bz2
import gzip
import io
import lzma
import pickle
import zipfile
import zlib


class Stub:
    """Stands for any class, function or object: calls, attributes and items give stubs."""

    def __init__(self, *args, **kwargs):
        pass

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __call__(self, *args, **kwargs):
        return Stub()

    def __setstate__(self, state):
        pass

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return Stub()

    def append(self, item):
        pass

    def extend(self, items):
        pass

    def __setitem__(self, key, value):
        pass


class Recorder(pickle.Unpickler):
    def __init__(self, file, seen):
        super().__init__(file, encoding="latin1")
        self.seen = seen

    def find_class(self, module, name):
        self.seen.append([module, name])
        return Stub

    def persistent_load(self, pid):
        return Stub()


def _decompress(data):
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    if data[:3] == b"BZh":
        return bz2.decompress(data)
    if data[:6] == b"\xfd7zXZ\x00":
        return lzma.decompress(data)
    if len(data) > 2 and data[0] == 0x78 and ((data[0] << 8) | data[1]) % 31 == 0:
        try:
            return zlib.decompress(data)
        except zlib.error:
            return data
    return data


def _streams(data):
    """The pickle streams in a file: the file itself, zip members, an .npy's object data."""
    data = _decompress(data)
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for name in z.namelist():
                if name.endswith(".pkl"):
                    yield z.read(name), False
                elif name.endswith(".npy"):
                    yield from _npy(z.read(name))
        return
    if data[:6] == b"\x93NUMPY":
        yield from _npy(data)
        return
    yield data, False


def _npy(data):
    import numpy.lib.format as fmt

    f = io.BytesIO(data)
    major, _ = fmt.read_magic(f)
    read_header = fmt.read_array_header_1_0 if major == 1 else fmt.read_array_header_2_0
    _, _, dtype = read_header(f, max_header_size=1 << 20)
    if dtype.hasobject:
        yield data[f.tell():], True


def globals_python_looks_up(paths):
    out = {}
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        seen = []
        complete = True
        for stream, just_one in _streams(data):
            f = io.BytesIO(stream)
            try:
                while f.tell() < len(stream):
                    Recorder(f, seen).load()
                    if just_one:
                        break
            except Exception:
                complete = False
                break
        out[path] = {"seen": seen, "complete": complete}
    return out
