"""CPython's `pickletools.opcodes` as JSON-ready data (test/fixtures/opcodes.json), so the
TypeScript table in src/core/opcodes.ts can be held against it field by field."""
import pickletools


def opcode_table():
    table = []
    for op in pickletools.opcodes:
        table.append({
            "name": op.name,
            "code": ord(op.code),
            "arg": None if op.arg is None else {"name": op.arg.name, "n": op.arg.n},
            "stack_before": [s.name for s in op.stack_before],
            "stack_after": [s.name for s in op.stack_after],
            "proto": op.proto,
            "doc": op.doc.split("\n")[0],
        })
    return table
