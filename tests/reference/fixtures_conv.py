"""PyTorch fixtures of the convolution family, loaded by make_fixtures.py.

conv.safetensors -- for each case below, the module's forward and backward
    on x [2, C, H, W] with a random upstream gradient dy:
    <case>.x, <case>.weight, <case>.bias (unless bias=False), <case>.y,
    <case>.dy, <case>.dx, <case>.dweight, <case>.dbias.
    Weights are nn.Conv2d's layout [out, in / groups, kh, kw] and
    nn.ConvTranspose2d's [in, out / groups, kh, kw].
      conv2d_plain         Conv2d(3, 4, 3)                        on [2,3,6,5]
      conv2d_strided       Conv2d(2, 3, (3,2), stride=(2,1), padding=(1,2)) on [2,2,7,6]
      conv2d_same_even     Conv2d(2, 3, (4,2), padding='same')    on [2,2,5,6]
                           (totals 3 and 1: the odd one at the bottom and right)
      conv2d_same_dilated  Conv2d(2, 2, 3, padding='same', dilation=2) on [2,2,5,5]
      conv2d_dilated       Conv2d(2, 3, 3, padding=1, dilation=(2,1)) on [2,2,7,6]
      conv2d_grouped       Conv2d(4, 6, 3, padding=1, groups=2)   on [2,4,5,5]
      conv2d_depthwise     Conv2d(3, 6, 3, stride=2, padding=1, groups=3) on [2,3,6,6]
      conv2d_nobias        Conv2d(3, 4, (2,3), bias=False)        on [2,3,5,5]
      conv2d_pointwise     Conv2d(4, 3, 1)                        on [2,4,3,4]
      convt_strided        ConvTranspose2d(3, 2, 3, stride=2)     on [2,3,3,3]
      convt_padded         ConvTranspose2d(2, 3, (3,2), stride=(2,3), padding=(1,0),
                           output_padding=(1,2))                  on [2,2,3,4]
      convt_grouped        ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1,
                           groups=2)                              on [2,4,3,3]
      convt_dilated        ConvTranspose2d(2, 3, 3, dilation=2, output_padding=1, bias=False)
                                                                  on [2,2,3,3]
    init.<layer>.weight.low/high, init.<layer>.bias.low/high (each [1]): the
    bounds of the uniform_ draws of reset_parameters for conv2d
    (Conv2d(4, 600, (3,2), groups=2)) and conv_transpose2d
    (ConvTranspose2d(4, 600, (3,2), groups=2)).
"""

import torch
import torch.nn as nn

import fixtures_init

CASES = (
    ("conv2d_plain", (3, 6, 5), lambda: nn.Conv2d(3, 4, 3)),
    ("conv2d_strided", (2, 7, 6), lambda: nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(1, 2))),
    ("conv2d_same_even", (2, 5, 6), lambda: nn.Conv2d(2, 3, (4, 2), padding="same")),
    ("conv2d_same_dilated", (2, 5, 5), lambda: nn.Conv2d(2, 2, 3, padding="same", dilation=2)),
    ("conv2d_dilated", (2, 7, 6), lambda: nn.Conv2d(2, 3, 3, padding=1, dilation=(2, 1))),
    ("conv2d_grouped", (4, 5, 5), lambda: nn.Conv2d(4, 6, 3, padding=1, groups=2)),
    ("conv2d_depthwise", (3, 6, 6), lambda: nn.Conv2d(3, 6, 3, stride=2, padding=1, groups=3)),
    ("conv2d_nobias", (3, 5, 5), lambda: nn.Conv2d(3, 4, (2, 3), bias=False)),
    ("conv2d_pointwise", (4, 3, 4), lambda: nn.Conv2d(4, 3, 1)),
    ("convt_strided", (3, 3, 3), lambda: nn.ConvTranspose2d(3, 2, 3, stride=2)),
    ("convt_padded", (2, 3, 4), lambda: nn.ConvTranspose2d(2, 3, (3, 2), stride=(2, 3),
                                                           padding=(1, 0), output_padding=(1, 2))),
    ("convt_grouped", (4, 3, 3), lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1,
                                                            output_padding=1, groups=2)),
    ("convt_dilated", (2, 3, 3), lambda: nn.ConvTranspose2d(2, 3, 3, dilation=2, output_padding=1,
                                                            bias=False)),
)


def make_conv():
    torch.manual_seed(31)
    tensors = {}
    for name, sample_shape, make_module in CASES:
        module = make_module()
        x = torch.randn(2, *sample_shape, requires_grad=True)
        y = module(x)
        dy = torch.randn_like(y)
        y.backward(dy)
        tensors[name + ".x"] = x
        tensors[name + ".y"] = y
        tensors[name + ".dy"] = dy
        tensors[name + ".dx"] = x.grad
        for parameter_name, parameter in module.named_parameters():
            tensors[name + "." + parameter_name] = parameter
            tensors[name + ".d" + parameter_name] = parameter.grad
    for layer, make_module in (("conv2d", lambda: nn.Conv2d(4, 600, (3, 2), groups=2)),
                               ("conv_transpose2d",
                                lambda: nn.ConvTranspose2d(4, 600, (3, 2), groups=2))):
        with fixtures_init.recording_draws() as calls:
            make_module()
        assert len(calls) == 2, calls
        fixtures_init.record(tensors, "init." + layer + ".weight.", calls[0])
        fixtures_init.record(tensors, "init." + layer + ".bias.", calls[1])
    return tensors


FIXTURES = [
    ("conv.safetensors", make_conv,
     "nn.Conv2d and nn.ConvTranspose2d forward and backward (stride, padding, 'same', dilation, "
     "groups, depthwise, 1x1, output_padding) and their default initialisers' bounds"),
]
