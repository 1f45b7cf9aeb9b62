"""Writes transposed-weight.safetensors: mace_small_b with the first radial-MLP layer of
interaction 0 ([6, 16]) labelled [16, 6], the same bytes: a weight stored transposed.

Run from the repository root: python tests/inputs/bad/models/make_transposed_weight.py
"""
import json
import struct

SOURCE = "tests/data/mace/mace_small_b.safetensors"
TARGET = "tests/inputs/bad/models/transposed-weight.safetensors"
KEY = "interactions.0.conv_tp_weights.layer0.weight"

data = open(SOURCE, "rb").read()
length = struct.unpack("<Q", data[:8])[0]
header, body = json.loads(data[8 : 8 + length]), data[8 + length :]
header[KEY]["shape"] = header[KEY]["shape"][::-1]
encoded = json.dumps(header).encode()
encoded += b" " * ((8 - len(encoded) % 8) % 8)
open(TARGET, "wb").write(struct.pack("<Q", len(encoded)) + encoded + body)
