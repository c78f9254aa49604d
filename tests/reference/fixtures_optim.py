"""Fixtures of the optim family: optimizers, learning-rate schedules, gradient
clipping and L1, for tests/test_parity_optim.c. Loaded by make_fixtures.py.

Every run trains the same small network from the same initial weights on one
fixed batch for 50 steps (torch's loop: zero_grad, forward, backward, clip,
optimizer.step, scheduler.step):

    x [16,8] -> fc1 (8->12) -> tanh -> out (12->4) -> logits, F.cross_entropy

Each file holds x [16,8], labels [16] (classes 0..3 as float32) and init.<p>,
the weights before step 0, for <p> in fc1.weight [12,8], fc1.bias [12],
out.weight [4,12], out.bias [4]; then, per case <c>:

    <c>.loss [50]       the data loss at each step, before that step's update
                        (without any L1 term)
    <c>.grad_norm [50]  the global 2-norm of all gradients before clipping, as
                        clip_grad_norm_ returns it (L1 term included)
    <c>.lr [50]         the learning rate each step used
    <c>.final.<p>       the weights after the 50th update

optim.safetensors -- one case per torch.optim optimizer and option (see
    OPTIMIZER_CASES), clip_grad_norm_, clip_grad_value_, an L1 penalty
    lambda * sum|w| added to the loss (lambda * sign(w) in the gradient), and
    parameter groups (per-layer weight decay and L1, biases not decayed).
schedules.safetensors -- SGD(lr=0.1, momentum=0.9) under each
    torch.optim.lr_scheduler schedule, stepped once per step (SCHEDULE_CASES);
    warm-up is LinearLR chained in front by SequentialLR. The plateau cases
    feed ReduceLROnPlateau a fixed metric sequence, <c>.metric [50]: step k
    reports metric[k] after its update.
"""

import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

import make_fixtures

STEPS = 50


class TanhMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 12)
        self.out = nn.Linear(12, 4)

    def forward(self, x):
        return self.out(torch.tanh(self.fc1(x)))


def starting_point(seed):
    torch.manual_seed(seed)
    x = torch.randn(16, 8)
    labels = torch.randint(0, 4, (16,))
    model = TanhMLP()
    tensors = {"x": x, "labels": make_fixtures.labels_as_float(labels)}
    for name, parameter in model.state_dict().items():
        tensors["init." + name] = parameter.clone()
    return x, labels, model, tensors


def global_norm(parameters):
    """clip_grad_norm_'s total norm: the 2-norm of the per-parameter 2-norms."""
    return torch.norm(torch.stack([torch.norm(p.grad.detach(), 2.0) for p in parameters]), 2.0)


def train(prefix, model, x, labels, optimizer, l1=(), clip_norm=None, clip_value=None,
          step_schedule=None, metric=None):
    """Runs STEPS steps and returns the tensors of case `prefix`. l1 is a list of
    (parameter, lambda); step_schedule(k) advances the schedule after step k."""
    losses, norms, lrs = [], [], []
    parameters = list(model.parameters())
    for step in range(STEPS):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), labels)
        losses.append(loss.item())
        total = loss
        for parameter, strength in l1:
            total = total + strength * parameter.abs().sum()
        total.backward()
        if clip_norm is not None:
            norm = torch.nn.utils.clip_grad_norm_(parameters, clip_norm)
        else:
            norm = global_norm(parameters)
        if clip_value is not None:
            torch.nn.utils.clip_grad_value_(parameters, clip_value)
        norms.append(norm.item())
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if step_schedule:
            step_schedule(step)
    tensors = {prefix + "loss": torch.tensor(losses), prefix + "grad_norm": torch.tensor(norms),
               prefix + "lr": torch.tensor(lrs)}
    if metric is not None:
        tensors[prefix + "metric"] = metric
    for name, parameter in model.state_dict().items():
        tensors[prefix + "final." + name] = parameter.clone()
    return tensors


def sgd(**kw):
    return lambda m: torch.optim.SGD(m.parameters(), **kw)


def biases_apart(m, optimizer_class, layer_options=None, **kw):
    """Parameter groups: fc1.weight with layer_options, out.weight with the
    optimizer's defaults, both biases without weight decay."""
    groups = [dict(params=[m.fc1.weight], **(layer_options or {})),
              dict(params=[m.out.weight]),
              dict(params=[m.fc1.bias, m.out.bias], weight_decay=0.0)]
    return optimizer_class(groups, **kw)


# (case, optimizer factory, extra training arguments); the C test's table
# repeats these settings in nerve's spelling.
OPTIMIZER_CASES = (
    ("sgd", sgd(lr=0.1), {}),
    ("sgd_momentum", sgd(lr=0.1, momentum=0.9), {}),
    ("sgd_dampening", sgd(lr=0.1, momentum=0.9, dampening=0.3), {}),
    ("sgd_nesterov", sgd(lr=0.1, momentum=0.9, nesterov=True), {}),
    ("sgd_weight_decay", sgd(lr=0.1, momentum=0.5, weight_decay=0.05), {}),
    ("adagrad", lambda m: torch.optim.Adagrad(m.parameters(), lr=0.1), {}),
    ("adagrad_options", lambda m: torch.optim.Adagrad(
        m.parameters(), lr=0.1, lr_decay=0.05, initial_accumulator_value=0.5, weight_decay=0.02,
        eps=1e-6), {}),
    ("rmsprop", lambda m: torch.optim.RMSprop(m.parameters(), lr=0.01), {}),
    ("rmsprop_momentum", lambda m: torch.optim.RMSprop(
        m.parameters(), lr=0.005, alpha=0.9, momentum=0.8), {}),
    ("rmsprop_centered", lambda m: torch.optim.RMSprop(
        m.parameters(), lr=0.005, centered=True), {}),
    ("rmsprop_centered_momentum_weight_decay", lambda m: torch.optim.RMSprop(
        m.parameters(), lr=0.002, momentum=0.5, centered=True, weight_decay=0.05, eps=1e-6), {}),
    ("adam", lambda m: torch.optim.Adam(m.parameters(), lr=0.01), {}),
    ("adam_amsgrad", lambda m: torch.optim.Adam(
        m.parameters(), lr=0.01, betas=(0.8, 0.99), amsgrad=True), {}),
    ("adam_weight_decay", lambda m: torch.optim.Adam(
        m.parameters(), lr=0.01, weight_decay=0.05), {}),
    ("adamw", lambda m: torch.optim.AdamW(m.parameters(), lr=0.01), {}),
    ("adamw_amsgrad", lambda m: torch.optim.AdamW(
        m.parameters(), lr=0.01, weight_decay=0.1, amsgrad=True, eps=1e-6), {}),
    ("clip_norm", sgd(lr=0.1, momentum=0.9), {"clip_norm": 0.25}),
    ("clip_value", sgd(lr=0.1, momentum=0.9), {"clip_value": 0.05}),
    ("l1", sgd(lr=0.1, momentum=0.9), {"l1": 0.01}),
    ("adam_l1_clip_norm_weight_decay", lambda m: torch.optim.Adam(
        m.parameters(), lr=0.01, weight_decay=0.01), {"l1": 0.005, "clip_norm": 0.3}),
    # [optimizer] weight_decay = 0.01, decay_bias = 0; fc1: weight_decay = 0.1, l1 = 0.001
    ("layer_overrides", lambda m: biases_apart(
        m, torch.optim.SGD, {"weight_decay": 0.1}, lr=0.1, momentum=0.9, weight_decay=0.01),
     {"l1_fc1_weight": 0.001}),
    # [optimizer] type = adamw, weight_decay = 0.1, decay_bias = 0
    ("adamw_no_bias_decay", lambda m: biases_apart(
        m, torch.optim.AdamW, lr=0.01, weight_decay=0.1), {}),
)


def make_optim():
    x, labels, _, tensors = starting_point(30)
    for case, make_optimizer, extra in OPTIMIZER_CASES:
        _, _, model, _ = starting_point(30)
        l1 = [(p, extra["l1"]) for p in model.parameters()] if "l1" in extra else []
        if "l1_fc1_weight" in extra:
            l1 = [(model.fc1.weight, extra["l1_fc1_weight"])]
        tensors.update(train(case + ".", model, x, labels, make_optimizer(model), l1=l1,
                             clip_norm=extra.get("clip_norm"), clip_value=extra.get("clip_value")))
    return tensors


# A validation loss that falls, stalls, improves by less than the threshold
# (1e-4 relative) and stalls again, so that patience, cooldown and min_lr all act.
PLATEAU_METRIC = ([1.0, 0.9, 0.8, 0.8, 0.8, 0.8, 0.79995, 0.79993, 0.7, 0.7]
                  + [0.7, 0.7, 0.6, 0.6, 0.59999, 0.6, 0.6, 0.6, 0.5, 0.5]
                  + [0.5, 0.5, 0.5, 0.5, 0.5, 0.45, 0.45, 0.45, 0.45, 0.45]
                  + [0.45, 0.45, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4]
                  + [0.39, 0.39, 0.39, 0.39, 0.39, 0.39, 0.39, 0.39, 0.39, 0.39])


def warmed(optimizer, main, warmup, start_factor=1.0 / 3):
    """LinearLR for `warmup` steps, then main: SequentialLR."""
    linear = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=start_factor,
                                               total_iters=warmup)
    return torch.optim.lr_scheduler.SequentialLR(optimizer, [linear, main], milestones=[warmup])


def plateau_stepper(optimizer, metric, warmup=0, start_factor=1.0 / 3, **kw):
    """ReduceLROnPlateau after `warmup` steps of LinearLR (SequentialLR cannot
    chain it: it needs the metric)."""
    linear = (torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=start_factor,
                                                total_iters=warmup) if warmup else None)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **kw)

    def step(k):
        if k < warmup:
            linear.step()
        else:
            plateau.step(metric[k].item())
    return step


def every_step(scheduler):
    return lambda k: scheduler.step()


S = torch.optim.lr_scheduler
# (case, schedule factory given the optimizer and the metric: returns the
# function that advances the schedule after step k)
SCHEDULE_CASES = (
    ("step", lambda o, m: every_step(S.StepLR(o, step_size=7, gamma=0.5))),
    ("multistep", lambda o, m: every_step(S.MultiStepLR(o, milestones=[5, 12, 30], gamma=0.3))),
    ("exponential", lambda o, m: every_step(S.ExponentialLR(o, gamma=0.95))),
    ("cosine", lambda o, m: every_step(S.CosineAnnealingLR(o, T_max=20, eta_min=0.005))),
    ("cosine_restarts", lambda o, m: every_step(S.CosineAnnealingWarmRestarts(
        o, T_0=4, T_mult=2, eta_min=0.001))),
    ("cosine_restarts_t_mult_1", lambda o, m: every_step(S.CosineAnnealingWarmRestarts(o, T_0=9))),
    ("warmup", lambda o, m: every_step(S.LinearLR(o, start_factor=0.1, total_iters=10))),
    ("warmup_cosine", lambda o, m: every_step(warmed(o, S.CosineAnnealingLR(o, T_max=45), 5, 0.1))),
    ("warmup_step", lambda o, m: every_step(warmed(o, S.StepLR(o, step_size=10, gamma=0.5), 3))),
    ("warmup_exponential", lambda o, m: every_step(
        warmed(o, S.ExponentialLR(o, gamma=0.9), 6, 0.5))),
    ("warmup_cosine_restarts", lambda o, m: every_step(warmed(
        o, S.CosineAnnealingWarmRestarts(o, T_0=6, T_mult=2, eta_min=0.01), 4, 0.25))),
    ("plateau", lambda o, m: plateau_stepper(
        o, m, factor=0.5, patience=2, cooldown=1, min_lr=0.005)),
    ("plateau_warmup", lambda o, m: plateau_stepper(
        o, m, warmup=5, start_factor=0.2, factor=0.3, patience=3, threshold=0.05)),
)


def make_schedules():
    warnings.filterwarnings("ignore", category=UserWarning)  # SequentialLR's step(0)
    x, labels, _, tensors = starting_point(31)
    metric = torch.tensor(PLATEAU_METRIC, dtype=torch.float32)
    for case, make_schedule in SCHEDULE_CASES:
        _, _, model, _ = starting_point(31)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        uses_metric = case.startswith("plateau")
        tensors.update(train(case + ".", model, x, labels, optimizer,
                             step_schedule=make_schedule(optimizer, metric),
                             metric=metric if uses_metric else None))
    return tensors


FIXTURES = [
    ("optim.safetensors", make_optim,
     "50 steps of every torch.optim optimizer and option, clip_grad_norm_, clip_grad_value_, "
     "L1 and parameter groups on an 8-12(tanh)-4 MLP"),
    ("schedules.safetensors", make_schedules,
     "50 steps of SGD(0.1, momentum 0.9) under every lr_scheduler schedule, with LinearLR "
     "warm-up and ReduceLROnPlateau"),
]
