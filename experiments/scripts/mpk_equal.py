"""Whether two TIGER runs saved the same tensors: compares every tensor of
`last/model-<E>.mpk` and `last/optim-<E>.mpk` as bytes (Burn's named MessagePack
records; the files themselves differ in the parameters' random ids, and the optimiser's
records are keyed by them, so the tensors are compared as sorted lists). Needs Python's
msgpack (`pip install msgpack`).

    python3 experiments/scripts/mpk_equal.py RUN_A RUN_B EPOCHS
"""
import sys

import msgpack


def tensors(path):
    def walk(o):
        if isinstance(o, dict):
            if isinstance(o.get("bytes"), (bytes, bytearray)):
                yield bytes(o["bytes"])
            for v in o.values():
                yield from walk(v)
        elif isinstance(o, list):
            for v in o:
                yield from walk(v)

    return sorted(walk(msgpack.unpackb(open(path, "rb").read(), raw=False, strict_map_key=False)))


a_dir, b_dir, epochs = sys.argv[1], sys.argv[2], sys.argv[3]
for f in (f"model-{epochs}.mpk", f"optim-{epochs}.mpk"):
    a, b = tensors(f"{a_dir}/last/{f}"), tensors(f"{b_dir}/last/{f}")
    print(f"{f}: {len(a)} and {len(b)} tensors, {'all bit-identical' if a == b else 'DIFFERENT'}")
