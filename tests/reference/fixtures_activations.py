"""PyTorch fixtures of the activation family, loaded by make_fixtures.py.

activations_elementwise.safetensors -- for each <act> below:
    <act>.x [5,6], <act>.y [5,6], <act>.dy [5,6] (random), <act>.dx [5,6].
    Every x is the same: make_fixtures.activation_input() (exact zeros,
    +-30, +-1e4, ordinary values) and a row of kinks: +-1 (hardtanh's
    defaults), +-20 (softplus' threshold), 0.5 and -2 (the hardtanh_wide
    bounds).
      elu, elu_0.5 (alpha 0.5), selu, softplus, softplus_2_5 (beta 2,
      threshold 5), silu, swish_1.5 (x * sigmoid(1.5 x)), gelu, gelu_tanh
      (approximate='tanh'), hardtanh, hardtanh_wide (min_val -2, max_val 0.5),
      binary_step (torch.heaviside(x, 1); its gradient is 0),
      binary_step_ste (the straight-through estimator: dx = dy),
      rrelu, rrelu_0.1_0.3 (eval mode, lower/upper 1/8, 1/3 and 0.1, 0.3).

activations_layers.safetensors
    prelu.x [5,6], prelu.weight [1] (0.25, nn.PReLU's init), prelu.y, prelu.dy,
        prelu.dx, prelu.dweight: nn.PReLU().
    prelu_channel.*: nn.PReLU(6) on [5,6], weight [6] drawn from U(0, 0.5).
    prelu_nchw.*: nn.PReLU(3) on x [2,3,2,2], weight [3] drawn from U(0, 0.5).
    swish_beta.x [5,6], swish_beta.beta [1] (1.5, learnable), .y, .dy, .dx,
        .dbeta: x * sigmoid(beta * x).
    crelu.x [5,6], crelu.y [5,12], crelu.dy, crelu.dx: torch.cat((relu(x),
        relu(-x)), dim=1); crelu_nchw.* the same on x [2,3,2,2] (y [2,6,2,2]).
    maxout.x [5,7], maxout.weight [12,7], maxout.bias [12], maxout.y [5,3],
        maxout.dy, maxout.dx, maxout.dweight, maxout.dbias: nn.Linear(7, 12),
        .view(5, 3, 4), .max(dim=2): 3 units of 4 pieces, row u * 4 + k is
        piece k of unit u.
    softmax_axis1.*, log_softmax_axis1.*: dim=1 of x [2,3,4];
    softmax_last.*, log_softmax_last.*: dim=-1 of the same x;
    log_softmax_large.*: dim=-1 of the elementwise x (entries of +-1e4).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

import make_fixtures


class BinaryStep(torch.autograd.Function):
    """torch.heaviside(x, 1) has no gradient in torch; this is the step with
    the gradient nerve gives it: 0, or dy passed straight through."""

    @staticmethod
    def forward(ctx, x, straight_through):
        ctx.straight_through = straight_through
        return torch.heaviside(x, torch.tensor(1.0))

    @staticmethod
    def backward(ctx, dy):
        return (dy if ctx.straight_through else torch.zeros_like(dy)), None


def elementwise_input():
    kinks = torch.tensor([[1.0, -1.0, 20.0, -20.0, 0.5, -2.0]])
    return torch.cat([make_fixtures.activation_input(), kinks])


def record(tensors, prefix, x, y, dy, **parameters):
    """y.backward(dy) and store x, y, dy, dx and each parameter with its gradient."""
    y.backward(dy)
    tensors[prefix + ".x"] = x
    tensors[prefix + ".y"] = y
    tensors[prefix + ".dy"] = dy
    tensors[prefix + ".dx"] = x.grad
    for name, parameter in parameters.items():
        tensors[prefix + "." + name] = parameter
        tensors[prefix + ".d" + name] = parameter.grad


def make_elementwise():
    torch.manual_seed(21)
    x_values = elementwise_input()
    functions = (
        ("elu", F.elu),
        ("elu_0.5", lambda t: F.elu(t, alpha=0.5)),
        ("selu", F.selu),
        ("softplus", F.softplus),
        ("softplus_2_5", lambda t: F.softplus(t, beta=2.0, threshold=5.0)),
        ("silu", F.silu),
        ("swish_1.5", lambda t: t * torch.sigmoid(1.5 * t)),
        ("gelu", F.gelu),
        ("gelu_tanh", lambda t: F.gelu(t, approximate="tanh")),
        ("hardtanh", F.hardtanh),
        ("hardtanh_wide", lambda t: F.hardtanh(t, min_val=-2.0, max_val=0.5)),
        ("binary_step", lambda t: BinaryStep.apply(t, False)),
        ("binary_step_ste", lambda t: BinaryStep.apply(t, True)),
        ("rrelu", lambda t: F.rrelu(t, training=False)),
        ("rrelu_0.1_0.3", lambda t: F.rrelu(t, lower=0.1, upper=0.3, training=False)),
    )
    tensors = {}
    for name, function in functions:
        x = x_values.clone().requires_grad_(True)
        record(tensors, name, x, function(x), torch.randn(x.shape))
    return tensors


def prelu_case(tensors, prefix, x_values, module):
    x = x_values.clone().requires_grad_(True)
    record(tensors, prefix, x, module(x), torch.randn(x.shape), weight=module.weight)


def make_layers():
    torch.manual_seed(22)
    tensors = {}
    x_2d = torch.randn(5, 6)
    x_2d[0] = torch.tensor([0.0, 0.5, 0.0, -0.5, 0.0, 1e-3])
    x_nchw = torch.randn(2, 3, 2, 2)
    x_nchw[0, :, 0, 0] = 0.0

    prelu_case(tensors, "prelu", x_2d, nn.PReLU())
    per_feature = nn.PReLU(6)
    per_channel = nn.PReLU(3)
    with torch.no_grad():
        per_feature.weight.uniform_(0.0, 0.5)
        per_channel.weight.uniform_(0.0, 0.5)
    prelu_case(tensors, "prelu_channel", x_2d, per_feature)
    prelu_case(tensors, "prelu_nchw", x_nchw, per_channel)

    x = x_2d.clone().requires_grad_(True)
    beta = torch.tensor([1.5], requires_grad=True)
    record(tensors, "swish_beta", x, x * torch.sigmoid(beta * x), torch.randn(5, 6), beta=beta)

    for prefix, x_values in (("crelu", x_2d), ("crelu_nchw", x_nchw)):
        x = x_values.clone().requires_grad_(True)
        y = torch.cat((F.relu(x), F.relu(-x)), dim=1)
        record(tensors, prefix, x, y, torch.randn(y.shape))

    units, pieces = 3, 4
    affine = nn.Linear(7, units * pieces)
    x = torch.randn(5, 7, requires_grad=True)
    y = affine(x).view(5, units, pieces).max(dim=2).values
    record(tensors, "maxout", x, y, torch.randn(5, units), weight=affine.weight, bias=affine.bias)

    x_3d = torch.randn(2, 3, 4) * 3.0
    for prefix, function, x_values in (
            ("softmax_axis1", lambda t: F.softmax(t, dim=1), x_3d),
            ("softmax_last", lambda t: F.softmax(t, dim=-1), x_3d),
            ("log_softmax_axis1", lambda t: F.log_softmax(t, dim=1), x_3d),
            ("log_softmax_last", lambda t: F.log_softmax(t, dim=-1), x_3d),
            ("log_softmax_large", lambda t: F.log_softmax(t, dim=-1), elementwise_input())):
        x = x_values.clone().requires_grad_(True)
        record(tensors, prefix, x, function(x), torch.randn(x.shape))
    return tensors


FIXTURES = [
    ("activations_elementwise.safetensors", make_elementwise,
     "elu, selu, softplus, silu/swish, gelu (exact, tanh), hardtanh, binary step (plain, "
     "straight-through), rrelu (eval) forward and backward, at kinks and +-1e4"),
    ("activations_layers.safetensors", make_layers,
     "prelu (shared, per feature, per NCHW channel), learnable-beta swish, crelu, maxout, "
     "softmax and log_softmax along an axis: forward, backward and parameter gradients"),
]
