"""Writes negative-r-max.safetensors: mace_small_b with r_max = -1 in its metadata.

Run from the repository root: python tests/inputs/bad/models/make_negative_r_max.py
"""
import json
import struct

SOURCE = "tests/data/mace/mace_small_b.safetensors"
TARGET = "tests/inputs/bad/models/negative-r-max.safetensors"

data = open(SOURCE, "rb").read()
length = struct.unpack("<Q", data[:8])[0]
header, body = json.loads(data[8 : 8 + length]), data[8 + length :]
config = json.loads(header["__metadata__"]["mace"])
config["r_max"] = -1.0
header["__metadata__"]["mace"] = json.dumps(config)
encoded = json.dumps(header).encode()
encoded += b" " * ((8 - len(encoded) % 8) % 8)
open(TARGET, "wb").write(struct.pack("<Q", len(encoded)) + encoded + body)
