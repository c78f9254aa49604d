"""PyTorch references for every loss of the catalogue (tests/test_parity_losses.c).

Loaded by make_fixtures.py (FIXTURES below); run that script to regenerate.
Each case <case> holds its inputs, <case>.loss [1] and the gradient of the
loss w.r.t. each input that takes one (<case>.d<input>). Options are in the
case name and in the C test that reads it. Every family has a case with
magnitudes of 1e4, where a loss computed without its stable form overflows,
and exact zeros (equal prediction and target, logits of 0, a class weight
of 0, probabilities of exactly 0 and 1).

Focal loss and L-Softmax have no torch module: they are written out below
from their papers' formulas, and autograd gives their gradients.
"""

import math

import torch
import torch.nn.functional as F

import make_fixtures
from make_fixtures import as_loss, labels_as_float


def record(tensors, case, inputs, loss, extra=None):
    """Backward from loss; store the inputs, the loss and each input's gradient."""
    loss.backward()
    for name, tensor in inputs.items():
        tensors[f"{case}.{name}"] = tensor
        if tensor.requires_grad:
            tensors[f"{case}.d{name}"] = tensor.grad
    tensors[f"{case}.loss"] = as_loss(loss)
    for name, tensor in (extra or {}).items():
        tensors[f"{case}.{name}"] = tensor


def leaf(values):
    return values.clone().requires_grad_(True)


def signed_large(shape):
    """Entries of +-1e4 (times 1 to 1.1), random signs."""
    signs = torch.where(torch.rand(shape) < 0.5, -1.0, 1.0)
    return signs * 1e4 * (1.0 + 0.1 * torch.rand(shape))


# ---------------------------------------------------------------- regression

def regression_inputs():
    """pred [4,5], target [4,5]: row 0 has pred == target (exact zero
    differences), row 1 exact zeros on both sides and differences of exactly
    +-1, rows 2-3 ordinary values."""
    pred = torch.randn(4, 5) * 2
    target = torch.randn(4, 5) * 2
    target[0] = pred[0]
    pred[1] = torch.tensor([0.0, 0.0, 1.0, -1.0, 0.5])
    target[1] = torch.tensor([0.0, 1.0, 0.0, 0.0, 0.0])
    return pred, target


def make_regression():
    torch.manual_seed(11)
    pred_values, target = regression_inputs()
    large_pred, large_target = signed_large((4, 5)), signed_large((4, 5))
    cases = (
        ("mse", lambda p, t: F.mse_loss(p, t)),
        ("mse_sum", lambda p, t: F.mse_loss(p, t, reduction="sum")),
        ("l1", lambda p, t: F.l1_loss(p, t)),
        ("l1_sum", lambda p, t: F.l1_loss(p, t, reduction="sum")),
        ("huber", lambda p, t: F.huber_loss(p, t)),
        ("huber_delta_0.5_sum", lambda p, t: F.huber_loss(p, t, delta=0.5, reduction="sum")),
        ("smooth_l1", lambda p, t: F.smooth_l1_loss(p, t)),
        ("smooth_l1_beta_0", lambda p, t: F.smooth_l1_loss(p, t, beta=0.0)),
        ("smooth_l1_beta_2.5_sum",
         lambda p, t: F.smooth_l1_loss(p, t, beta=2.5, reduction="sum")),
    )
    tensors = {}
    for name, loss_function in cases:
        pred = leaf(pred_values)
        record(tensors, name, {"pred": pred, "target": target}, loss_function(pred, target))
        pred = leaf(large_pred)
        record(tensors, name + "_large", {"pred": pred, "target": large_target},
               loss_function(pred, large_target))
    return tensors


# ---------------------------------------------------------------- binary

def make_binary():
    torch.manual_seed(12)
    tensors = {}
    # Probabilities with exact 0 and 1 (the logs clamp at -100), 0/1 and soft targets.
    probs = torch.rand(4, 3)
    probs[0] = torch.tensor([0.0, 1.0, 0.5])
    probs[1] = torch.tensor([0.0, 1.0, 1e-3])
    target = (torch.rand(4, 3) < 0.5).float()
    target[0] = torch.tensor([1.0, 0.0, 0.3])
    target[1] = torch.tensor([0.0, 1.0, 0.0])
    for name, reduction in (("bce", "mean"), ("bce_sum", "sum")):
        p = leaf(probs)
        record(tensors, name, {"probs": p, "target": target},
               F.binary_cross_entropy(p, target, reduction=reduction))
    # One output per sample and 0/1 labels: a binary classifier.
    p = leaf(torch.rand(6, 1))
    labels = (torch.rand(6, 1) < 0.5).float()
    record(tensors, "bce_one_output", {"probs": p, "target": labels},
           F.binary_cross_entropy(p, labels))

    logits = torch.randn(4, 3) * 3
    logits[0] = torch.tensor([0.0, 0.0, 2.0])
    logits[1] = torch.tensor([1e4, -1e4, 0.0])
    logits[2] = signed_large(3)
    pos_weight = torch.tensor([2.0, 0.5, 0.0])
    cases = (
        ("bce_logits", {}),
        ("bce_logits_sum", {"reduction": "sum"}),
        ("bce_logits_pos_weight", {"pos_weight": pos_weight}),
        ("bce_logits_pos_weight_one", {"pos_weight": torch.tensor([3.0])}),
    )
    for name, options in cases:
        x = leaf(logits)
        extra = {"pos_weight": options["pos_weight"]} if "pos_weight" in options else None
        record(tensors, name, {"logits": x, "target": target},
               F.binary_cross_entropy_with_logits(x, target, **options), extra)
    return tensors


# ---------------------------------------------------------------- classification

def classification_inputs():
    """logits [6,5] (row 0 all zeros, row 1 with exact zeros) and labels [6]."""
    logits = torch.randn(6, 5) * 2
    logits[0] = 0.0
    logits[1, :2] = 0.0
    labels = torch.tensor([0, 1, 4, 2, 2, 3])
    return logits, labels


CLASS_WEIGHTS = torch.tensor([1.0, 2.0, 0.5, 0.0, 3.0])


def focal_loss(logits, labels, gamma, alpha=None, reduction="mean"):
    """Lin et al. 2017, multi-class: -alpha_t (1 - p_t)^gamma log p_t, p_t the
    softmax probability of the label; mean over samples."""
    log_pt = F.log_softmax(logits, dim=1).gather(1, labels[:, None]).squeeze(1)
    loss = -((1 - log_pt.exp()) ** gamma) * log_pt
    if alpha is not None:
        loss = alpha[labels] * loss
    return loss.mean() if reduction == "mean" else loss.sum()


def distillation_loss(student, teacher, temperature, reduction="mean"):
    """Hinton et al. 2015: T^2 KL(softmax(teacher/T) || softmax(student/T))."""
    kl = F.kl_div(F.log_softmax(student / temperature, dim=1),
                  F.softmax(teacher / temperature, dim=1),
                  reduction="batchmean" if reduction == "mean" else "sum")
    return temperature ** 2 * kl


def distillation_with_labels(student, teacher, labels, temperature, alpha, reduction="mean"):
    """Hinton et al. 2015's mix: alpha * the soft loss + (1 - alpha) * the
    cross-entropy with the hard labels (at T = 1)."""
    hard = F.cross_entropy(student, labels, reduction=reduction)
    return alpha * distillation_loss(student, teacher, temperature, reduction) + (1 - alpha) * hard


def make_classification():
    torch.manual_seed(13)
    logits_values, labels = classification_inputs()
    large_values = signed_large((6, 5))
    tensors = {}

    ce_cases = (
        ("ce_weights", {"weight": CLASS_WEIGHTS}),
        ("ce_smoothing", {"label_smoothing": 0.1}),
        ("ce_weights_smoothing", {"weight": CLASS_WEIGHTS, "label_smoothing": 0.2}),
        ("ce_weights_smoothing_sum",
         {"weight": CLASS_WEIGHTS, "label_smoothing": 0.2, "reduction": "sum"}),
        ("ce_sum", {"reduction": "sum"}),
    )
    def weights_of(options):
        return {"weights": options["weight"]} if "weight" in options else None

    for name, options in ce_cases:
        for suffix, values in (("", logits_values), ("_large", large_values)):
            x = leaf(values)
            record(tensors, name + suffix, {"logits": x, "labels": labels_as_float(labels)},
                   F.cross_entropy(x, labels, **options), weights_of(options))

    # nll on log-probabilities (a leaf: its gradient is NLL's own).
    for suffix, values in (("", logits_values), ("_large", large_values)):
        log_probs = F.log_softmax(values, dim=1)
        for name, options in (("nll", {}), ("nll_weights", {"weight": CLASS_WEIGHTS}),
                              ("nll_weights_sum", {"weight": CLASS_WEIGHTS, "reduction": "sum"})):
            x = leaf(log_probs)
            record(tensors, name + suffix, {"log_probs": x, "labels": labels_as_float(labels)},
                   F.nll_loss(x, labels, **options), weights_of(options))

    # log_softmax then weighted nll: y is log_softmax's output, dx its gradient
    # (every entry non-zero). x holds exact zeros, +-30 and +-1e4.
    x = leaf(make_fixtures.activation_input())
    y = F.log_softmax(x, dim=-1)
    softmax_labels = torch.tensor([0, 2, 3, 5])
    six_weights = torch.tensor([1.0, 0.5, 2.0, 1.5, 0.0, 3.0])
    record(tensors, "log_softmax_nll", {"x": x, "labels": labels_as_float(softmax_labels)},
           F.nll_loss(y, softmax_labels, weight=six_weights),
           {"y": y, "weights": six_weights})

    alpha = torch.tensor([0.25, 1.0, 0.5, 2.0, 0.75])
    focal_cases = (
        ("focal", 2.0, None, "mean"),
        ("focal_gamma_0", 0.0, None, "mean"),
        ("focal_gamma_0.5", 0.5, None, "mean"),
        ("focal_gamma_5_alpha", 5.0, alpha, "mean"),
        ("focal_alpha_sum", 2.0, alpha, "sum"),
    )
    for name, gamma, alpha_values, reduction in focal_cases:
        x = leaf(logits_values)
        record(tensors, name, {"logits": x, "labels": labels_as_float(labels)},
               focal_loss(x, labels, gamma, alpha_values, reduction),
               None if alpha_values is None else {"alpha": alpha_values})
    x = leaf(large_values)
    record(tensors, "focal_large", {"logits": x, "labels": labels_as_float(labels)},
           focal_loss(x, labels, 2.0, alpha), {"alpha": alpha})

    teacher_values = torch.randn(6, 5) * 3
    teacher_values[0] = 0.0
    for name, temperature, reduction, student, teacher in (
            ("distillation", 1.0, "mean", logits_values, teacher_values),
            ("distillation_t4", 4.0, "mean", logits_values, teacher_values),
            ("distillation_t2_sum", 2.0, "sum", logits_values, teacher_values),
            ("distillation_large", 2.0, "mean", large_values, signed_large((6, 5)))):
        s = leaf(student)
        record(tensors, name, {"student": s, "teacher": teacher},
               distillation_loss(s, teacher, temperature, reduction))
    for name, temperature, alpha, reduction, student, teacher in (
            ("distillation_labels", 4.0, 0.9, "mean", logits_values, teacher_values),
            ("distillation_labels_a0.3_sum", 2.0, 0.3, "sum", logits_values, teacher_values),
            ("distillation_labels_large", 2.0, 0.5, "mean", large_values, signed_large((6, 5)))):
        s = leaf(student)
        record(tensors, name, {"student": s, "teacher": teacher,
                               "labels": labels_as_float(labels)},
               distillation_with_labels(s, teacher, labels, temperature, alpha, reduction))
    return tensors


# ---------------------------------------------------------------- L-Softmax

def chebyshev(c, m):
    """cos(m theta) as a polynomial in c = cos(theta)."""
    return {1: lambda: c,
            2: lambda: 2 * c ** 2 - 1,
            3: lambda: 4 * c ** 3 - 3 * c,
            4: lambda: 8 * c ** 4 - 8 * c ** 2 + 1}[m]()


def large_margin_softmax(x, weight, labels, margin, lam=0.0, reduction="mean"):
    """Liu et al. 2016: the target logit |W_y||x| cos(theta) becomes
    (lam W_y.x + |W_y||x| psi(theta)) / (1 + lam),
    psi = (-1)^k cos(m theta) - 2k on [k pi/m, (k+1) pi/m]; then cross-entropy."""
    logits = x @ weight.t()
    target = logits.gather(1, labels[:, None]).squeeze(1)
    norms = x.norm(dim=1) * weight[labels].norm(dim=1)
    cos = target / norms
    k = torch.floor(margin * torch.acos(cos.detach().clamp(-1, 1)) / math.pi).clamp(max=margin - 1)
    psi = (-1.0) ** k * chebyshev(cos, margin) - 2 * k
    margin_target = (lam * target + norms * psi) / (1 + lam)
    margin_logits = logits.scatter(1, labels[:, None], margin_target[:, None])
    return F.cross_entropy(margin_logits, labels, reduction=reduction)


def make_large_margin():
    torch.manual_seed(14)
    x_values = torch.randn(8, 4)
    x_values[0, 1] = 0.0
    weight_values = torch.randn(5, 4)
    labels = torch.tensor([0, 1, 2, 3, 4, 0, 2, 3])
    tensors = {}
    cases = [(f"lsoftmax_m{m}", m, 0.0, "mean") for m in (1, 2, 3, 4)]
    cases += [("lsoftmax_m3_lambda2", 3, 2.0, "mean"), ("lsoftmax_m2_sum", 2, 0.0, "sum")]
    for name, margin, lam, reduction in cases:
        x, weight = leaf(x_values), leaf(weight_values)
        record(tensors, name, {"x": x, "weight": weight, "labels": labels_as_float(labels)},
               large_margin_softmax(x, weight, labels, margin, lam, reduction))
    # |x| and |W| of about 100: logits of about 1e4.
    x, weight = leaf(x_values * 100), leaf(weight_values * 100)
    record(tensors, "lsoftmax_m4_large", {"x": x, "weight": weight,
                                          "labels": labels_as_float(labels)},
           large_margin_softmax(x, weight, labels, 4))
    return tensors


FIXTURES = [
    ("losses_regression.safetensors", make_regression,
     "mse, l1, huber, smooth_l1 (mean and sum, options) forward and backward"),
    ("losses_binary.safetensors", make_binary,
     "binary_cross_entropy and binary_cross_entropy_with_logits (pos_weight) forward and backward"),
    ("losses_classification.safetensors", make_classification,
     "cross_entropy (weights, label smoothing), nll_loss, log_softmax, focal loss, "
     "distillation (with and without labels) forward and backward"),
    ("losses_large_margin.safetensors", make_large_margin,
     "L-Softmax (margins 1-4, lambda) forward and backward"),
]
