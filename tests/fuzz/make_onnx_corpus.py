#!/usr/bin/env python3
"""Writes the fuzz_onnx seeds (tests/fuzz/corpus/onnx/): small valid models in
the forms nerve export and torch.onnx.export write, and hostile files the
reader must refuse cleanly: truncated, wrong wire types, huge lengths,
external data, cycles, subgraphs, sparse initializers, bad shapes. Needs
python3-onnx and python3-torch (scripts/deps.sh onnx); run from anywhere."""
import io
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "onnx")


def write(name, data):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def model(nodes, inits, inp, out, opset=17):
    g = helper.make_graph(nodes, "g", [inp], [out], initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def t(name, shape, seed=0):
    return numpy_helper.from_array(
        np.random.RandomState(seed).randn(*shape).astype(np.float32), name)


def vi(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def mlp():
    return model([
        helper.make_node("Gemm", ["x", "fc.weight", "fc.bias"], ["h"], transB=1),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("Gemm", ["r", "out.weight", "out.bias"], ["logits"], transB=1),
        helper.make_node("Softmax", ["logits"], ["p"], axis=1)],
        [t("fc.weight", [5, 4]), t("fc.bias", [5]), t("out.weight", [3, 5]), t("out.bias", [3])],
        vi("x", ["N", 4]), vi("p", ["N", 3]))


def cnn():
    return model([
        helper.make_node("Conv", ["x", "c.weight", "c.bias"], ["c"], kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c", "bn.weight", "bn.bias", "bn.mean", "bn.var"],
                         ["b"]),
        helper.make_node("MaxPool", ["b"], ["m"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["m"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "fc.weight"], ["y"], transB=1)],
        [t("c.weight", [2, 1, 3, 3]), t("c.bias", [2]), t("bn.weight", [2]), t("bn.bias", [2]),
         t("bn.mean", [2]), numpy_helper.from_array(np.ones(2, np.float32), "bn.var"),
         t("fc.weight", [3, 2])],
        vi("x", ["N", 1, 4, 4]), vi("y", ["N", 3]))


def scalar(name, v):
    return numpy_helper.from_array(np.array(v, np.float32), name)


def composites():
    """nerve's GELU, CReLU and maxout composites (onnx_composite.c)."""
    return model([
        helper.make_node("Gemm", ["x", "fc.weight", "fc.bias"], ["h"], transB=1),
        helper.make_node("Mul", ["h", "g/inv_sqrt2"], ["g/scaled"]),
        helper.make_node("Erf", ["g/scaled"], ["g/erf"]),
        helper.make_node("Add", ["g/erf", "g/one"], ["g/one_plus"]),
        helper.make_node("Mul", ["g/one_plus", "h"], ["g/times_x"]),
        helper.make_node("Mul", ["g/times_x", "g/half"], ["g"]),
        helper.make_node("Relu", ["g"], ["c/positive"]),
        helper.make_node("Neg", ["g"], ["c/negated"]),
        helper.make_node("Relu", ["c/negated"], ["c/negative"]),
        helper.make_node("Concat", ["c/positive", "c/negative"], ["c"], axis=1),
        helper.make_node("Gemm", ["c", "mx.weight", "mx.bias"], ["mx.affine"], transB=1),
        helper.make_node("Reshape", ["mx.affine", "mx/pieces_shape"], ["mx/pieces"]),
        helper.make_node("ReduceMax", ["mx/pieces"], ["y"], axes=[2], keepdims=0)],
        [t("fc.weight", [6, 4]), t("fc.bias", [6]), scalar("g/inv_sqrt2", 0.70710677),
         scalar("g/one", 1), scalar("g/half", 0.5), t("mx.weight", [6, 12]), t("mx.bias", [6]),
         numpy_helper.from_array(np.array([-1, 3, 2], np.int64), "mx/pieces_shape")],
        vi("x", ["N", 4]), vi("y", ["N", 3]))


def torch_view():
    import torch
    torch.manual_seed(0)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(1, 2, 3)
            self.fc = torch.nn.Linear(8, 2)

        def forward(self, x):
            x = torch.nn.functional.gelu(self.conv(x))
            return self.fc(x.view(x.size(0), -1))

    buf = io.BytesIO()
    torch.onnx.export(Net(), torch.zeros(1, 1, 4, 4), buf, opset_version=17,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
    return buf.getvalue()


def lstm():
    import torch
    torch.manual_seed(0)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = torch.nn.LSTM(2, 3, batch_first=True, bidirectional=True)
            self.fc = torch.nn.Linear(6, 2)

        def forward(self, x):
            return self.fc(self.rnn(x)[0])

    buf = io.BytesIO()
    torch.onnx.export(Net(), torch.zeros(1, 4, 2), buf, opset_version=17,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
    return buf.getvalue()


def varint(v):
    out = b""
    while True:
        b = v & 0x7F
        v >>= 7
        out += bytes([b | (0x80 if v else 0)])
        if not v:
            return out


if __name__ == "__main__":
    good = mlp().SerializeToString()
    write("mlp.onnx", good)
    write("cnn.onnx", cnn().SerializeToString())
    write("torch_bilstm.onnx", lstm())
    write("torch_view_gelu.onnx", torch_view())
    write("composites.onnx", composites().SerializeToString())
    m = composites()  # a GELU whose Erf is not one
    m.graph.node[2].op_type = "Tanh"
    write("composite_broken.onnx", m.SerializeToString())
    write("tensor.pb", t("x", [2, 3]).SerializeToString())
    write("truncated.onnx", good[: len(good) // 2])
    # field 7 (graph) as a varint instead of a message
    write("wrong_wire_type.onnx", b"\x08\x08" + b"\x38\x05")
    # graph whose length says 2^40 bytes
    write("huge_length.onnx", b"\x08\x08\x3a" + varint(1 << 40) + b"\x0a\x00")
    # a varint that never ends
    write("overlong_varint.onnx", b"\x08" + b"\xff" * 12)
    # group wire types (3, 4)
    write("group.onnx", b"\x0b\x0c")
    m = mlp()
    w = m.graph.initializer[0]
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    w.external_data.add(key="location", value="weights.bin")
    write("external_data.onnx", m.SerializeToString())
    m = mlp()  # a cycle: the first node reads the last one's output
    m.graph.node[0].input[0] = "p"
    write("cycle.onnx", m.SerializeToString())
    m = mlp()
    m.graph.initializer[0].dims[:] = [1 << 40, 1 << 30]
    write("huge_dims.onnx", m.SerializeToString())
    m = mlp()
    m.graph.initializer[1].raw_data = b"\0" * 3
    write("raw_size_mismatch.onnx", m.SerializeToString())
    then = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "then", [], [vi("y", [1])])
    m = mlp()
    m.graph.node.append(helper.make_node("If", ["c"], ["z"], then_branch=then, else_branch=then))
    write("subgraph.onnx", m.SerializeToString())
    m = mlp()
    m.graph.sparse_initializer.add().values.CopyFrom(t("v", [1]))
    write("sparse.onnx", m.SerializeToString())
    m = mlp()
    m.graph.node[1].op_type = "Gelu"
    m.graph.node[1].domain = "com.microsoft"
    write("other_domain.onnx", m.SerializeToString())
    write("empty.onnx", b"")
