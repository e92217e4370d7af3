"""Python's side of test/node/files.test.ts: writes and reads pickles in files with the standard
library's gzip, bz2 and lzma modules and the zstandard package, as a user's code would.

Usage: python3 files_codec.py '<json command>'; prints one JSON line. Commands:
  {"op": "write", "format": F, "path": P, "values": ["sample:0", "big"], "protocol": N,
   "mode": "wb" | "ab", "frames": "one" | "flush"}    -> {}
  {"op": "read", "format": F, "path": P, "expect": ["sample:0", ...]}
      -> {"equal": bool, "count": n} (repeated pickle.load until EOF, compared with expect)
The values are built here and, identically, in the test (sample(i) and big()).
"""
import bz2
import gzip
import json
import lzma
import pickle
import sys


def sample(i):
    return {'name': 'Rex', 'i': i, 'tags': ['good', 'dog', 'ü€'], 'home': (51.5, -0.1),
            'big': 2 ** 100, 'raw': bytes(range(256)), 'nested': {'a': [1, 2, {'b': None}]},
            'flag': True}


def big():
    x = 12345
    out = bytearray(400_000)
    for k in range(len(out)):
        x = (x * 1103515245 + 12345) & 0x7fffffff
        out[k] = (x >> 16) & 0xff
    return {'noise': bytes(out), 'pattern': bytes((k * 31 + 7) & 0xff for k in range(2_000_000)),
            'text': 'abc€' * 300_000, 'nums': list(range(100_000))}


def value(spec):
    if spec == 'big':
        return big()
    return sample(int(spec.split(':')[1]))


def opener(fmt, path, mode):
    if fmt == 'gzip':
        return gzip.open(path, mode)
    if fmt == 'bz2':
        return bz2.BZ2File(path, mode)
    if fmt == 'xz':
        return lzma.open(path, mode)
    if fmt == 'zstd':
        import zstandard
        return zstandard.open(path, mode)
    if fmt == 'none':
        return open(path, mode)
    raise ValueError(fmt)


def main():
    cmd = json.loads(sys.argv[1])
    fmt, path = cmd['format'], cmd['path']
    if cmd['op'] == 'write':
        values = [value(s) for s in cmd['values']]
        if fmt == 'zstd' and cmd.get('frames') == 'flush':
            # One stream_writer, a frame ended after each pickle (frames without content size).
            import zstandard
            with open(path, cmd.get('mode', 'wb')) as raw:
                w = zstandard.ZstdCompressor().stream_writer(raw, closefd=False)
                for v in values:
                    pickle.dump(v, w, protocol=cmd.get('protocol', 4))
                    w.flush(zstandard.FLUSH_FRAME)
            print('{}')
            return
        with opener(fmt, path, cmd.get('mode', 'wb')) as f:
            for v in values:
                pickle.dump(v, f, protocol=cmd.get('protocol', 4))
        print('{}')
        return
    if cmd['op'] == 'read':
        expect = [value(s) for s in cmd['expect']]
        got = []
        f = opener(fmt, path, 'rb')
        if fmt == 'zstd':
            # zstandard.open()'s reader cannot serve pickle.load (no peek); read every frame.
            import io
            import zstandard
            f.close()
            f = io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(
                open(path, 'rb'), read_across_frames=True))
        with f:
            while True:
                try:
                    got.append(pickle.load(f))
                except EOFError:
                    break
        print(json.dumps({'equal': got == expect, 'count': len(got)}))
        return
    raise ValueError(cmd['op'])


main()
