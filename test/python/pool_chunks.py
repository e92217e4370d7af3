"""What Python's multiprocessing.Pool does with chunks, for test/pool/api.test.ts.

`chunk_sizes(length, processes, chunksize=None)` runs a real `Pool.map` (through ThreadPool,
which shares Pool's `_map_async`) and records the size of each chunk `Pool._get_tasks` made.
"""
from multiprocessing.pool import Pool, ThreadPool


def chunk_sizes(length, processes, chunksize=None):
    sizes = []
    original = Pool._get_tasks

    def recording(func, it, size):
        for task in original(func, it, size):
            sizes.append(len(task[1]))
            yield task

    Pool._get_tasks = staticmethod(recording)
    try:
        with ThreadPool(processes) as pool:
            result = pool.map(abs, range(length), chunksize)
    finally:
        Pool._get_tasks = staticmethod(original)
    assert result == list(range(length))
    return sizes
