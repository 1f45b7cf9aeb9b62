"""Writes the broken NequIP model files of the bad-input corpus from nequip_small:
nequip-wrong-version.safetensors (format_version 99), nequip-missing-tensor.safetensors (layer1
linear_2 weight renamed), nequip-truncated.safetensors (the first 4 kB) and compiled.nequip.pth
(a zip archive, as nequip-compile writes).

Run from the repository root: python tests/inputs/bad/models/make_nequip_bad.py
"""
import json
import struct
import zipfile

SOURCE = "tests/data/nequip/nequip_small.safetensors"
OUT = "tests/inputs/bad/models/"
MISSING = "model.func.layer1_convnet.conv.linear_2.weight"

data = open(SOURCE, "rb").read()
length = struct.unpack("<Q", data[:8])[0]
header, body = json.loads(data[8 : 8 + length]), data[8 + length :]


def write(name, header, body):
    encoded = json.dumps(header).encode()
    encoded += b" " * ((8 - len(encoded) % 8) % 8)
    open(OUT + name, "wb").write(struct.pack("<Q", len(encoded)) + encoded + body)


wrong = json.loads(json.dumps(header))
wrong["__metadata__"]["format_version"] = "99"
write("nequip-wrong-version.safetensors", wrong, body)

missing = {(k + ".renamed" if k == MISSING else k): v for k, v in header.items()}
write("nequip-missing-tensor.safetensors", missing, body)

open(OUT + "nequip-truncated.safetensors", "wb").write(data[:4096])

with zipfile.ZipFile(OUT + "compiled.nequip.pth", "w") as archive:
    archive.writestr("model/data.pkl", b"not a model mlmd reads")
