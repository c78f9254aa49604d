"""Fixture of the CNN family: a small network holding every layer of issue 4,
trained for a few steps, for tests/test_parity_cnn.c. Loaded by make_fixtures.py.

The network is tests/fixtures/cnn.cfg, layer for layer (state_dict names are
the cfg's layer names), on x [6,2,10,10] with labels in 0..2:

    conv1   Conv2d(2, 6, 3, padding=1) -> bn1 BatchNorm2d(6) -> ReLU      [6,10,10]
    Inception-style block on that, joined by concat along the channels:
      b1x1  Conv2d(6, 4, 1)                                              [4,10,10]
      b3x3  Conv2d(6, 4, 3, padding=2, dilation=2) -> ReLU               [4,10,10]
      bpool MaxPool2d(3, stride=1, padding=1)                            [6,10,10]
      mixed concat                                                       [14,10,10]
    conv2   Conv2d(14, 8, 3, stride=2, padding=1, groups=2) -> ReLU      [8,5,5]
    residual block: conv3 Conv2d(8, 8, 3, padding=1), shortcut identity,
      res = conv3 + shortcut                                             [8,5,5]
    pool    AvgPool2d(2, stride=2, ceil_mode=True, count_include_pad=False) [8,3,3]
    drop2d  Dropout2d(p)                                                 [8,3,3]
    up      ConvTranspose2d(8, 4, 2, stride=2, padding=1, output_padding=1) [4,5,5]
    pool2   MaxPool2d(2, ceil_mode=True)                                 [4,3,3]
    gap     global average pool                                          [4]
    flat    reshape to -1                                                [36]
    head    concat(gap, flat)                                            [40]
    fc1     Linear(40, 8) -> bn2 BatchNorm1d(8) -> ReLU -> drop Dropout(p)
    out     Linear(8, 3) -> logits, F.cross_entropy

cnn.safetensors
    x [6,2,10,10], labels [6] (float32),
    init.<p>      every state_dict entry before step 0 (num_batches_tracked as
                  float32),
    logits0 [6,3] the training-mode logits at the initial weights,
    loss [3]      the loss at each of 3 steps of SGD(lr=0.1, momentum=0.9),
                  before that step's update,
    grad0.<p>     the parameter gradients at step 0,
    final.<p>     every state_dict entry after the 3rd update (running
                  statistics included),
    eval_logits [6,3]  the evaluation-mode logits of the final model.
Dropout cannot match torch's random masks, so this run has p = 0 in both
dropout layers (nerve runs the cfg with --set drop.p=0 drop2d.p=0); dropout's
own behaviour is tested by statistics, and eval_p.logits repeats the
evaluation-mode forward with p = 0.5, where dropout is the identity:
    eval_p.logits [6,3]  evaluation-mode logits of the final weights, p = 0.5.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

import make_fixtures

STEPS = 3


class AllLayersCNN(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 6, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(6)
        self.b1x1 = nn.Conv2d(6, 4, 1)
        self.b3x3 = nn.Conv2d(6, 4, 3, padding=2, dilation=2)
        self.bpool = nn.MaxPool2d(3, stride=1, padding=1)
        self.conv2 = nn.Conv2d(14, 8, 3, stride=2, padding=1, groups=2)
        self.conv3 = nn.Conv2d(8, 8, 3, padding=1)
        self.pool = nn.AvgPool2d(2, stride=2, ceil_mode=True, count_include_pad=False)
        self.drop2d = nn.Dropout2d(p)
        self.up = nn.ConvTranspose2d(8, 4, 2, stride=2, padding=1, output_padding=1)
        self.pool2 = nn.MaxPool2d(2, ceil_mode=True)
        self.fc1 = nn.Linear(40, 8)
        self.bn2 = nn.BatchNorm1d(8)
        self.drop = nn.Dropout(p)
        self.out = nn.Linear(8, 3)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = torch.cat([self.b1x1(x), F.relu(self.b3x3(x)), self.bpool(x)], dim=1)
        x = F.relu(self.conv2(x))
        x = self.conv3(x) + x
        x = self.up(self.drop2d(self.pool(x)))
        x = self.pool2(x)
        x = torch.cat([x.mean(dim=(2, 3)), x.reshape(x.shape[0], -1)], dim=1)
        x = self.drop(F.relu(self.bn2(self.fc1(x))))
        return self.out(x)


def state(model, prefix):
    return {prefix + name: value.clone().to(torch.float32)
            for name, value in model.state_dict().items()}


def make_cnn():
    torch.manual_seed(41)
    x = torch.randn(6, 2, 10, 10)
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    model = AllLayersCNN(p=0.0)
    tensors = {"x": x, "labels": make_fixtures.labels_as_float(labels)}
    tensors.update(state(model, "init."))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model.train()
    losses = []
    for step in range(STEPS):
        optimizer.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        losses.append(loss.item())
        if step == 0:
            tensors["logits0"] = logits.detach().clone()
            for name, parameter in model.named_parameters():
                tensors["grad0." + name] = parameter.grad.clone()
        optimizer.step()
    tensors["loss"] = torch.tensor(losses)
    tensors.update(state(model, "final."))
    model.eval()
    with torch.no_grad():
        tensors["eval_logits"] = model(x)
        half = AllLayersCNN(p=0.5)
        half.load_state_dict(model.state_dict())
        half.eval()
        tensors["eval_p.logits"] = half(x)
    return tensors


FIXTURES = [
    ("cnn.safetensors", make_cnn,
     "3 SGD steps of a small CNN with every layer of tests/fixtures/cnn.cfg, training and "
     "evaluation mode"),
]
