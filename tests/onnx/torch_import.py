"""torch_import.py NERVE: networks built in PyTorch (Debian's 1.13),
exported by torch.onnx.export (opset 17), imported by `nerve import`, run by
`nerve predict` on random samples: nerve must reproduce PyTorch's outputs
(max abs difference 1e-5 for MLPs and CNNs, 1e-4 for recurrent networks),
and the imported cfg must hold the layers named for the case (torch's GELU,
SiLU and softplus composites as nerve's activations, x.view(x.size(0), -1)
as a [flatten]).
Exits 77 without python3-torch or python3-onnx (torch.onnx needs it)."""
import json
import os
import subprocess
import sys
import tempfile

try:
    import torch
    import onnx  # noqa: F401 (torch.onnx.export checks its output with it)
except ImportError as e:
    print(f"SKIP: {e}")
    sys.exit(77)
from torch import nn

nerve, work = sys.argv[1], tempfile.mkdtemp()
torch.manual_seed(0)


class Recurrent(nn.Module):
    """A bidirectional LSTM, a GRU and an RNN with relu, batch-first."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 8, batch_first=True, bidirectional=True)
        self.gru = nn.GRU(16, 6, batch_first=True)
        self.rnn = nn.RNN(6, 5, batch_first=True, nonlinearity="relu")
        self.fc = nn.Linear(5, 4)

    def forward(self, x):
        return self.fc(self.rnn(self.gru(self.lstm(x)[0])[0])[0])


class LastStep(nn.Module):
    """64 steps of a 2-layer LSTM (stacked as two modules), the final state."""

    def __init__(self):
        super().__init__()
        self.l1 = nn.LSTM(4, 16, batch_first=True)
        self.l2 = nn.LSTM(16, 16, batch_first=True)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        _, (h, _) = self.l2(self.l1(x)[0])
        return self.fc(h[0])


class View(nn.Module):
    """x.view(x.size(0), -1) between a convolution and a linear layer: torch
    exports it as Shape, Gather, Unsqueeze, Concat and Reshape."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3)
        self.fc = nn.Linear(4 * 5 * 4, 3)

    def forward(self, x):
        x = torch.relu(self.conv(x))
        return self.fc(x.view(x.size(0), -1))


def activations():
    return nn.Sequential(nn.Linear(10, 12), nn.GELU(), nn.Linear(12, 12),
                         nn.GELU(approximate="tanh"), nn.Linear(12, 12), nn.SiLU(),
                         nn.Linear(12, 12), nn.Softplus(beta=2), nn.Linear(12, 4))


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 8, 3, stride=2, padding=1, groups=2), nn.LeakyReLU(0.1),
        nn.AvgPool2d(2, ceil_mode=False), nn.Flatten(), nn.Linear(8 * 3 * 3, 10))


def mlp():
    return nn.Sequential(nn.Linear(20, 32), nn.Tanh(), nn.Linear(32, 16), nn.ELU(),
                         nn.Linear(16, 16), nn.Sigmoid(), nn.Linear(16, 3), nn.LogSoftmax(1))


cases = [("mlp", mlp(), (20,), 1e-5, []), ("cnn", cnn(), (1, 28, 28), 1e-5, []),
         ("view", View(), (2, 7, 6), 1e-5, ["[flatten]"]),
         ("activations", activations(), (10,), 1e-5,
          ["type = gelu\n\n", "type = gelu\napproximate = tanh", "type = silu",
           "type = softplus\nbeta = 2\n"]),
         ("recurrent", Recurrent(), (7, 3), 1e-4, []),
         ("lstm64", LastStep(), (64, 4), 1e-4, [])]
status = 0
for name, net, shape, tolerance, layers in cases:
    for m in net.modules():  # non-trivial running statistics
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
    net.eval()
    x = torch.rand(6, *shape) * 4 - 2
    with torch.no_grad():
        want = net(x).reshape(6, -1)
    path = os.path.join(work, name)
    torch.onnx.export(net, x[:1], path + ".onnx", opset_version=17, input_names=["input"],
                      output_names=["output"],
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
    subprocess.run([nerve, "import", path + ".onnx", "--cfg", path + ".cfg",
                    "--weights", path + ".safetensors"], check=True)
    cfg = open(path + ".cfg").read()
    for layer in layers:
        if layer not in cfg:
            print(f"{name}: no {layer!r} in the imported cfg:\n{cfg}")
            status = 1
    with open(path + ".csv", "w") as f:
        for row in x.reshape(6, -1).tolist():
            f.write(",".join("%.9g" % v for v in row) + "\n")
    out = subprocess.run([nerve, "predict", path + ".cfg", "--weights", path + ".safetensors",
                          "--input", path + ".csv", "--json"], check=True,
                         capture_output=True, text=True).stdout
    samples = json.loads(out)
    if "probabilities" in samples[0]:  # a classifier (the LogSoftmax end): softmax of it
        want = torch.softmax(want, 1)
    got = torch.tensor([s.get("outputs", s.get("probabilities")) for s in samples])
    diff = (got - want).abs().max().item()
    ok = diff <= tolerance
    status |= not ok
    print(f"{name:10s} max abs difference {diff:.2e} (tolerance {tolerance:g}) "
          f"{'ok' if ok else 'FAIL'}")
subprocess.run(["rm", "-rf", work])
sys.exit(status)
