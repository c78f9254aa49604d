#!/usr/bin/python3
"""Regenerate the PyTorch reference fixtures that nerve's C tests compare against.

Run from anywhere:  /usr/bin/python3 tests/reference/make_fixtures.py
Needs only torch (Debian's python3-torch 1.13) and numpy; the safetensors format
is written by hand below because the safetensors package is not installed.

Every tensor is float32 ("F32"), computed in float32 by torch on the CPU,
but for int64 buffers (BatchNorm's num_batches_tracked), stored as "I64". Labels
(class indices) are stored as float32 too, because the C library reads them that
way. Losses are mean-reduced and stored with shape [1]. Each fixture is seeded on
its own, so changing one leaves the others' bytes as they were.

state_dict.safetensors  -- CrossEntropyMLP().state_dict() under seed 6, plain
    names as a PyTorch user saves them: fc1.weight [16,8], fc1.bias, fc2.weight
    [12,16], fc2.bias, out.weight [4,12], out.bias.
state_dict_outputs.safetensors  -- x [3,8], logits [3,4], probabilities [3,4]
    of that model.

linear.safetensors  -- y = F.linear(x, weight, bias) = x @ weight^T + bias
    x [5,7], weight [3,7] (PyTorch's [out, in]), bias [3], y [5,3],
    dy [5,3] (random upstream gradient), then from y.backward(dy):
    dx [5,7], dweight [3,7], dbias [3].
    The same without a bias, prefixed "nobias.":
    nobias.x, nobias.weight, nobias.y, nobias.dy, nobias.dx, nobias.dweight.

activations.safetensors  -- for <act> in sigmoid, tanh, relu, leaky_relu
    (slope 0.01), leaky_relu_0.2 (slope 0.2), softmax (dim=-1):
    <act>.x [4,6], <act>.y [4,6], <act>.dy [4,6] (random), <act>.dx [4,6].
    Every x is the same: row 0 holds exact zeros, row 1 holds +-30 and +-1e4
    (all finite for every function here), rows 2-3 ordinary values.
    PyTorch's choice at x == 0: relu passes no gradient, leaky_relu passes
    slope * dy.

losses.safetensors
    ce.logits [6,5], ce.labels [6], ce.loss [1], ce.dlogits [6,5]
        F.cross_entropy (softmax + negative log-likelihood, mean over the batch).
    ce_large.logits [6,5] (entries +-1e4), ce_large.labels [6],
    ce_large.loss [1], ce_large.dlogits [6,5]   -- all finite.
    mse.pred [4,3], mse.target [4,3], mse.loss [1], mse.dpred [4,3]
        F.mse_loss, mean over every element.

mlp_sgd.safetensors  -- k = 5 steps of torch.optim.SGD(lr=0.1, momentum=0.9)
    on F.cross_entropy for the MLP  x -> fc1 (8->16) -> relu -> fc2 (16->12)
    -> tanh -> out (12->4) -> logits, one fixed batch every step.
    x [10,8], labels [10] (classes 0..3),
    init.<p>  the weights before step 0,
    loss [5]  the loss at each step, computed before that step's update,
    grad0.<p> the gradients at step 0 (at the initial weights),
    final.<p> the weights after the 5th update,
    for <p> in fc1.weight [16,8], fc1.bias [16], fc2.weight [12,16],
    fc2.bias [12], out.weight [4,12], out.bias [4] (state_dict names).
    The "mse." variant: x -> fc1 (8->6) -> sigmoid -> out (6->3), F.mse_loss
    against targets, 5 steps of SGD(lr=0.5, momentum=0.9):
    mse.x [10,8], mse.targets [10,3], mse.loss [5], mse.init.<p>,
    mse.grad0.<p>, mse.final.<p> for <p> in fc1.weight [6,8], fc1.bias [6],
    out.weight [3,6], out.bias [3].
    PyTorch's momentum (dampening 0, no Nesterov): v = 0.9 * v + grad, with
    v = grad on the first step; then p = p - lr * v.
"""

import glob
import importlib.util
import json
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

FIXTURE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")


def write_safetensors(path, tensors, description):
    """Write {name: tensor} in the safetensors layout: int64 tensors as I64,
    every other as float32 (F32).

    Layout: u64 little-endian header length N, then N bytes of JSON (padded
    with spaces so the data starts on an 8-byte boundary), then the raw
    little-endian data; data_offsets are [begin, end) relative to the data start.
    """
    header = {"__metadata__": {"generator": "tests/reference/make_fixtures.py",
                               "torch": torch.__version__,
                               "description": description}}
    blobs = []
    offset = 0
    for name, tensor in tensors.items():
        if tensor.dtype == torch.int64:
            # Integer buffers (num_batches_tracked) as PyTorch keeps them.
            array = tensor.detach().contiguous().numpy()
            dtype, data = "I64", array.astype("<i8").tobytes()
        else:
            array = tensor.detach().to(torch.float32).contiguous().numpy()
            if not np.isfinite(array).all():
                raise ValueError(f"{path}: tensor {name} is not finite")
            dtype, data = "F32", array.astype("<f4").tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for data in blobs:
            f.write(data)


def as_loss(value):
    return value.detach().reshape(1)


def labels_as_float(labels):
    return labels.to(torch.float32)


def make_linear():
    torch.manual_seed(1)
    tensors = {}
    for prefix, with_bias in (("", True), ("nobias.", False)):
        x = torch.randn(5, 7, requires_grad=True)
        weight = torch.randn(3, 7, requires_grad=True)
        bias = torch.randn(3, requires_grad=True) if with_bias else None
        y = F.linear(x, weight, bias)
        dy = torch.randn(5, 3)
        y.backward(dy)
        tensors[prefix + "x"] = x
        tensors[prefix + "weight"] = weight
        if with_bias:
            tensors[prefix + "bias"] = bias
        tensors[prefix + "y"] = y
        tensors[prefix + "dy"] = dy
        tensors[prefix + "dx"] = x.grad
        tensors[prefix + "dweight"] = weight.grad
        if with_bias:
            tensors[prefix + "dbias"] = bias.grad
    return tensors


def activation_input():
    """Row 0: exact zeros among small values; row 1: saturating magnitudes;
    rows 2-3: ordinary values."""
    x = torch.randn(4, 6)
    x[0] = torch.tensor([0.0, 0.5, 0.0, -0.5, 0.0, 1e-3])
    x[1] = torch.tensor([30.0, -30.0, 1e4, -1e4, 0.0, 2.0])
    return x


def make_activations():
    torch.manual_seed(2)
    x_values = activation_input()
    functions = (
        ("sigmoid", torch.sigmoid),
        ("tanh", torch.tanh),
        ("relu", F.relu),
        ("leaky_relu", F.leaky_relu),
        ("leaky_relu_0.2", lambda t: F.leaky_relu(t, negative_slope=0.2)),
        ("softmax", lambda t: F.softmax(t, dim=-1)),
    )
    tensors = {}
    for name, function in functions:
        x = x_values.clone().requires_grad_(True)
        y = function(x)
        dy = torch.randn(4, 6)
        y.backward(dy)
        tensors[name + ".x"] = x
        tensors[name + ".y"] = y
        tensors[name + ".dy"] = dy
        tensors[name + ".dx"] = x.grad
    return tensors


def cross_entropy_case(prefix, logits_values, labels):
    logits = logits_values.clone().requires_grad_(True)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    return {prefix + "logits": logits, prefix + "labels": labels_as_float(labels),
            prefix + "loss": as_loss(loss), prefix + "dlogits": logits.grad}


def make_losses():
    torch.manual_seed(3)
    tensors = {}
    tensors.update(cross_entropy_case("ce.", torch.randn(6, 5) * 2.0,
                                      torch.randint(0, 5, (6,))))
    # Magnitudes of 1e4 overflow exp() in float32 unless the implementation
    # subtracts the row maximum (log-sum-exp), which is what this case checks.
    large_signs = torch.where(torch.rand(6, 5) < 0.5, -1.0, 1.0)
    large_logits = large_signs * 1e4 * (1.0 + 0.1 * torch.rand(6, 5))
    tensors.update(cross_entropy_case("ce_large.", large_logits, torch.randint(0, 5, (6,))))
    pred = torch.randn(4, 3, requires_grad=True)
    target = torch.randn(4, 3)
    loss = F.mse_loss(pred, target)
    loss.backward()
    tensors.update({"mse.pred": pred, "mse.target": target,
                    "mse.loss": as_loss(loss), "mse.dpred": pred.grad})
    return tensors


class CrossEntropyMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 12)
        self.out = nn.Linear(12, 4)

    def forward(self, x):
        return self.out(torch.tanh(self.fc2(F.relu(self.fc1(x)))))


class MSEMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 6)
        self.out = nn.Linear(6, 3)

    def forward(self, x):
        return self.out(torch.sigmoid(self.fc1(x)))


def train_with_sgd(prefix, model, loss_function, x, target, lr, steps=5):
    """Run `steps` SGD-with-momentum updates and record init, per-step loss,
    step-0 gradients and final weights under `prefix`."""
    tensors = {}
    for name, parameter in model.state_dict().items():
        tensors[prefix + "init." + name] = parameter.clone()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    losses = []
    for step in range(steps):
        optimizer.zero_grad()
        loss = loss_function(model(x), target)
        loss.backward()
        losses.append(loss.item())
        if step == 0:
            for name, parameter in model.named_parameters():
                tensors[prefix + "grad0." + name] = parameter.grad.clone()
        optimizer.step()
    tensors[prefix + "loss"] = torch.tensor(losses, dtype=torch.float32)
    for name, parameter in model.state_dict().items():
        tensors[prefix + "final." + name] = parameter.clone()
    return tensors


def make_mlp_sgd():
    torch.manual_seed(4)
    tensors = {}
    x = torch.randn(10, 8)
    labels = torch.randint(0, 4, (10,))
    model = CrossEntropyMLP()
    tensors["x"] = x
    tensors["labels"] = labels_as_float(labels)
    tensors.update(train_with_sgd("", model, F.cross_entropy, x, labels, lr=0.1))

    torch.manual_seed(5)
    mse_x = torch.randn(10, 8)
    mse_targets = torch.rand(10, 3)
    mse_model = MSEMLP()
    tensors["mse.x"] = mse_x
    tensors["mse.targets"] = mse_targets
    tensors.update(train_with_sgd("mse.", mse_model, F.mse_loss, mse_x, mse_targets, lr=0.5))

    # Class-weighted cross-entropy on an imbalanced batch (lab claim C29's
    # 100x weights): torch's mean divides by the batch's sum of w_y, so the
    # two minority samples carry most of each step.
    torch.manual_seed(7)
    weighted_x = torch.randn(16, 8)
    weighted_labels = torch.tensor([0, 1, 1, 0, 2, 0, 1, 1, 0, 0, 1, 3, 0, 1, 0, 1])
    class_weights = torch.tensor([1.0, 1.0, 100.0, 100.0])
    tensors["weighted.x"] = weighted_x
    tensors["weighted.labels"] = labels_as_float(weighted_labels)
    tensors["weighted.weights"] = class_weights
    tensors.update(train_with_sgd(
        "weighted.", CrossEntropyMLP(),
        lambda logits, labels: F.cross_entropy(logits, labels, weight=class_weights),
        weighted_x, weighted_labels, lr=0.1))
    return tensors


def make_state_dict():
    """A model's state_dict exactly as a PyTorch user saves it: plain names."""
    torch.manual_seed(6)
    return dict(CrossEntropyMLP().state_dict())


def make_state_dict_outputs():
    """Inputs and the outputs of the state_dict.safetensors model on them."""
    torch.manual_seed(6)
    model = CrossEntropyMLP()
    x = torch.randn(3, 8)
    with torch.no_grad():
        logits = model(x)
    return {"x": x, "logits": logits, "probabilities": F.softmax(logits, dim=-1)}


def main():
    torch.set_default_dtype(torch.float32)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    os.makedirs(FIXTURE_DIR, exist_ok=True)
    fixtures = (
        ("linear.safetensors", make_linear, "F.linear forward and backward, with and without bias"),
        ("activations.safetensors", make_activations,
         "sigmoid, tanh, relu, leaky_relu (0.01, 0.2), softmax(dim=-1) forward and backward"),
        ("losses.safetensors", make_losses, "cross_entropy and mse_loss (mean) and their gradients"),
        ("mlp_sgd.safetensors", make_mlp_sgd,
         "5 steps of SGD with momentum 0.9 on small MLPs (cross-entropy, class-weighted, MSE)"),
        ("state_dict.safetensors", make_state_dict,
         "the state_dict of an 8-16(relu)-12(tanh)-4 MLP (fc1, fc2, out), as PyTorch saves it"),
        ("state_dict_outputs.safetensors", make_state_dict_outputs,
         "inputs x [3,8] and that model's logits and softmax probabilities"),
    )
    # Each family of the catalogue keeps its fixtures in a module of its own,
    # tests/reference/fixtures_<family>.py, listing (file, make, description)
    # in FIXTURES; its helpers come from this file (import make_fixtures).
    for module_path in sorted(glob.glob(os.path.join(os.path.dirname(__file__), "fixtures_*.py"))):
        name = os.path.splitext(os.path.basename(module_path))[0]
        spec = importlib.util.spec_from_file_location(name, module_path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        fixtures += tuple(module.FIXTURES)
    for file_name, make, description in fixtures:
        path = os.path.normpath(os.path.join(FIXTURE_DIR, file_name))
        write_safetensors(path, make(), description)
        print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
