"""PyTorch fixtures of pooling, loaded by make_fixtures.py.

pool.safetensors -- for each case below: <case>.x, <case>.y, <case>.dy
    (random), <case>.dx, from y = f(x); y.backward(dy). Every x is NCHW.
    max pooling, F.max_pool2d (random x, no ties unless the name says so):
      max_2             x [2,3,6,6], kernel 2
      max_overlap       x [2,2,5,6], kernel 3, stride 1
      max_pad           x [2,2,5,5], kernel 3, stride 2, padding 1
      max_rect          x [1,2,7,6], kernel (3,2), stride (2,1), padding (1,0)
      max_dilated       x [1,2,7,7], kernel 2, stride 1, padding 1, dilation 2
      max_ceil          x [2,2,6,7], kernel 3, stride 2, ceil_mode
      max_ceil_pad      x [1,2,5,5], kernel 2, stride 2, padding 1, ceil_mode:
                        the last window would start in the right padding, so
                        the output is 3x3, not 4x4
      max_ties          x [2,2,6,6] of integers 0..2 (many ties), kernel 3,
                        stride 1: torch's CPU gives the gradient to each
                        window's first maximum in row-major order
      max_ties_2x2      the same kind of x, kernel 2 (stride 2): nerve's
                        dedicated path for 2x2 pooling
    average pooling, F.avg_pool2d:
      avg_2             x [2,3,6,6], kernel 2
      avg_pad           x [2,2,5,6], kernel 3, stride 2, padding 1
      avg_pad_exclude   the same with count_include_pad=False
      avg_ceil          x [2,2,6,6], kernel 3, stride 2, padding (0,1), ceil_mode
      avg_ceil_exclude  the same with count_include_pad=False
      avg_ceil_pad      x [1,2,5,5], kernel 2, stride 2, padding 1, ceil_mode
      avg_divisor       x [2,2,5,5], kernel 3, stride 2, padding 1, divisor_override 4
    global_avg          x [2,3,4,5], F.adaptive_avg_pool2d(x, 1).flatten(1): y [2,3]
"""

import torch
import torch.nn.functional as F

MAX_CASES = (
    ("max_2", (2, 3, 6, 6), dict(kernel_size=2)),
    ("max_overlap", (2, 2, 5, 6), dict(kernel_size=3, stride=1)),
    ("max_pad", (2, 2, 5, 5), dict(kernel_size=3, stride=2, padding=1)),
    ("max_rect", (1, 2, 7, 6), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0))),
    ("max_dilated", (1, 2, 7, 7), dict(kernel_size=2, stride=1, padding=1, dilation=2)),
    ("max_ceil", (2, 2, 6, 7), dict(kernel_size=3, stride=2, ceil_mode=True)),
    ("max_ceil_pad", (1, 2, 5, 5), dict(kernel_size=2, stride=2, padding=1, ceil_mode=True)),
)

AVG_CASES = (
    ("avg_2", (2, 3, 6, 6), dict(kernel_size=2)),
    ("avg_pad", (2, 2, 5, 6), dict(kernel_size=3, stride=2, padding=1)),
    ("avg_pad_exclude", (2, 2, 5, 6),
     dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("avg_ceil", (2, 2, 6, 6), dict(kernel_size=3, stride=2, padding=(0, 1), ceil_mode=True)),
    ("avg_ceil_exclude", (2, 2, 6, 6),
     dict(kernel_size=3, stride=2, padding=(0, 1), ceil_mode=True, count_include_pad=False)),
    ("avg_ceil_pad", (1, 2, 5, 5), dict(kernel_size=2, stride=2, padding=1, ceil_mode=True)),
    ("avg_divisor", (2, 2, 5, 5), dict(kernel_size=3, stride=2, padding=1, divisor_override=4)),
)


def record(tensors, name, x_values, function):
    x = x_values.clone().requires_grad_(True)
    y = function(x)
    dy = torch.randn(y.shape)
    y.backward(dy)
    tensors[name + ".x"] = x
    tensors[name + ".y"] = y
    tensors[name + ".dy"] = dy
    tensors[name + ".dx"] = x.grad


def make_pool():
    torch.manual_seed(41)
    tensors = {}
    for name, shape, options in MAX_CASES:
        record(tensors, name, torch.randn(shape), lambda x, o=options: F.max_pool2d(x, **o))
    ties = torch.randint(0, 3, (2, 2, 6, 6)).to(torch.float32)
    record(tensors, "max_ties", ties, lambda x: F.max_pool2d(x, kernel_size=3, stride=1))
    for name, shape, options in AVG_CASES:
        record(tensors, name, torch.randn(shape), lambda x, o=options: F.avg_pool2d(x, **o))
    record(tensors, "global_avg", torch.randn(2, 3, 4, 5),
           lambda x: F.adaptive_avg_pool2d(x, 1).flatten(1))
    ties = torch.randint(0, 3, (2, 2, 6, 6)).to(torch.float32)
    record(tensors, "max_ties_2x2", ties, lambda x: F.max_pool2d(x, kernel_size=2))
    return tensors


FIXTURES = (
    ("pool.safetensors", make_pool,
     "max_pool2d, avg_pool2d (padding, ceil_mode, count_include_pad, divisor_override) and "
     "adaptive_avg_pool2d(1) forward and backward"),
)
