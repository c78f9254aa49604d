"""PyTorch references for batch normalisation (tests/test_parity_norm.c,
tests/test_norm_weights.c).

Loaded by make_fixtures.py (FIXTURES below); run that script to regenerate.

norm.safetensors -- forward and backward of one training-mode step, for each
    case <c>: <c>.x, <c>.y, <c>.dy (random), <c>.dx and, when affine,
    <c>.weight, <c>.bias (drawn, not the 1 and 0 of a fresh module) and
    <c>.dweight, <c>.dbias:
      bn1d         BatchNorm1d(4) on x [6,4]
      bn1d_ncl     BatchNorm1d(3) on x [4,3,5] (N, C, L)
      bn2d         BatchNorm2d(2) on x [3,2,4,4]
      bn2d_plain   BatchNorm2d(2, affine=False) on x [3,2,4,4]
    Every x has a channel mean away from 0 and spreads that differ by channel.
    Running statistics, for <r> in running1d (BatchNorm1d(4, momentum=0.2)
    on [6,4]) and running2d (BatchNorm2d(2) on [3,2,4,4]):
      <r>.weight, <r>.bias, <r>.x0, <r>.x1, <r>.x2 (three training batches),
      <r>.running_mean, <r>.running_var after the three training forwards,
      then in eval mode: <r>.eval.x, <r>.eval.y, <r>.eval.dy, <r>.eval.dx,
      <r>.eval.dweight, <r>.eval.dbias.

norm_state_dict.safetensors -- the state_dict of a module bn1 =
    BatchNorm2d(3), flatten, fc = Linear(48, 5), bn2 = BatchNorm1d(5),
    out = Linear(5, 3) on 3x4x4 inputs, after three training forwards:
    float32 weights and running statistics, bn1.num_batches_tracked and
    bn2.num_batches_tracked as int64 scalars (I64, shape []), exactly as
    PyTorch keeps them.
norm_state_dict_outputs.safetensors -- x [4,3,4,4] and that module's
    logits [4,3] in eval mode.
"""

import torch
import torch.nn as nn


def channel_input(shape):
    """Values with a different mean and spread per channel (dim 1)."""
    channels = shape[1]
    view = [1, channels] + [1] * (len(shape) - 2)
    mean = torch.linspace(-2.0, 3.0, channels).view(view)
    spread = torch.linspace(0.5, 2.5, channels).view(view)
    return torch.randn(shape) * spread + mean


def randomise_affine(module):
    with torch.no_grad():
        module.weight.uniform_(0.5, 1.5)
        module.bias.uniform_(-0.5, 0.5)


def record_step(tensors, prefix, module, x_values):
    x = x_values.clone().requires_grad_(True)
    y = module(x)
    dy = torch.randn(y.shape)
    y.backward(dy)
    tensors[prefix + ".x"] = x
    tensors[prefix + ".y"] = y
    tensors[prefix + ".dy"] = dy
    tensors[prefix + ".dx"] = x.grad
    if module.affine:
        for name in ("weight", "bias"):
            parameter = getattr(module, name)
            tensors[f"{prefix}.{name}"] = parameter.detach().clone()
            tensors[f"{prefix}.d{name}"] = parameter.grad


def make_norm():
    torch.manual_seed(41)
    tensors = {}
    cases = (
        ("bn1d", nn.BatchNorm1d(4), (6, 4)),
        ("bn1d_ncl", nn.BatchNorm1d(3), (4, 3, 5)),
        ("bn2d", nn.BatchNorm2d(2), (3, 2, 4, 4)),
        ("bn2d_plain", nn.BatchNorm2d(2, affine=False), (3, 2, 4, 4)),
    )
    for prefix, module, shape in cases:
        if module.affine:
            randomise_affine(module)
        module.train()
        record_step(tensors, prefix, module, channel_input(shape))

    for prefix, module, shape in (("running1d", nn.BatchNorm1d(4, momentum=0.2), (6, 4)),
                                  ("running2d", nn.BatchNorm2d(2), (3, 2, 4, 4))):
        randomise_affine(module)
        tensors[prefix + ".weight"] = module.weight.detach().clone()
        tensors[prefix + ".bias"] = module.bias.detach().clone()
        module.train()
        for step in range(3):
            x = channel_input(shape)
            tensors[f"{prefix}.x{step}"] = x
            with torch.no_grad():
                module(x)
        tensors[prefix + ".running_mean"] = module.running_mean.clone()
        tensors[prefix + ".running_var"] = module.running_var.clone()
        module.eval()
        module.zero_grad()
        x = channel_input(shape).requires_grad_(True)
        y = module(x)
        dy = torch.randn(y.shape)
        y.backward(dy)
        tensors[prefix + ".eval.x"] = x
        tensors[prefix + ".eval.y"] = y
        tensors[prefix + ".eval.dy"] = dy
        tensors[prefix + ".eval.dx"] = x.grad
        tensors[prefix + ".eval.dweight"] = module.weight.grad
        tensors[prefix + ".eval.dbias"] = module.bias.grad
    return tensors


class NormNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(3)
        self.fc = nn.Linear(48, 5)
        self.bn2 = nn.BatchNorm1d(5)
        self.out = nn.Linear(5, 3)

    def forward(self, x):
        return self.out(self.bn2(self.fc(torch.flatten(self.bn1(x), 1))))


def trained_norm_net():
    """Three training forwards give running statistics and counts of 3."""
    torch.manual_seed(43)
    model = NormNet()
    randomise_affine(model.bn1)
    randomise_affine(model.bn2)
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(channel_input((8, 3, 4, 4)))
    return model


def make_norm_state_dict():
    return dict(trained_norm_net().state_dict())


def make_norm_state_dict_outputs():
    model = trained_norm_net()
    model.eval()
    torch.manual_seed(44)
    x = channel_input((4, 3, 4, 4))
    with torch.no_grad():
        logits = model(x)
    return {"x": x, "logits": logits}


FIXTURES = [
    ("norm.safetensors", make_norm,
     "BatchNorm1d ([N,C], [N,C,L]) and BatchNorm2d (affine and not) forward and backward in "
     "training mode; running statistics after three steps; eval-mode forward and backward"),
    ("norm_state_dict.safetensors", make_norm_state_dict,
     "the state_dict of bn1 (BatchNorm2d) -> fc -> bn2 (BatchNorm1d) -> out after three "
     "training forwards, num_batches_tracked as I64"),
    ("norm_state_dict_outputs.safetensors", make_norm_state_dict_outputs,
     "inputs x [4,3,4,4] and that model's eval-mode logits [4,3]"),
]
