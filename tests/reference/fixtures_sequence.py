"""PyTorch references for the sequence plumbing (tests/test_parity_sequence.c):
token ids into vectors, nn.Linear over every step, and the losses over
[N, T, C] scores. Loaded by make_fixtures.py (FIXTURES below).

nerve keeps the class dimension last ([N, T, C], batch-first), where torch's
losses want it at dim 1: every class-label case below computes torch's loss
on logits.permute(0, 2, 1), [N, C, T], with targets [N, T], which is the
same mean over the N * T steps (a weighted mean with class weights).

sequence.safetensors
    embedding.ids [3,5] (ids 0..6, several repeated; float32),
    embedding.weight [7,4], embedding.y [3,5,4], embedding.dy [3,5,4],
    embedding.dweight [7,4]              F.embedding(ids, weight)
    padding.*                            the same for nn.Embedding(7, 4,
                                         padding_idx=2): weight row 2 is 0 and
                                         its gradient stays 0
    one_hot.ids [3,5], one_hot.y [3,5,7] F.one_hot(ids, 7).float()
    linear.x [3,5,6], linear.weight [4,6], linear.bias [4], linear.y [3,5,4],
    linear.dy [3,5,4], linear.dx, linear.dweight, linear.dbias
                                         nn.Linear over every step
    <case>.logits [3,5,6], <case>.labels [3,5], <case>.loss [1],
    <case>.dlogits [3,5,6] for the cases
        ce                       F.cross_entropy
        ce_weights_smoothing     weight=weights, label_smoothing=0.2
        ce_weights_smoothing_sum the same, reduction='sum'
    (with <case>.weights [6] where the case has them; class 3 weighs 0)
    nll_weights.log_probs [3,5,6], .labels, .weights, .loss, .dlog_probs
                                         F.nll_loss on log_softmax(dim=-1)
    mse.pred [3,5,2], mse.target [3,5,2], mse.loss, mse.dpred
                                         F.mse_loss over every element
    model.*  a per-step classifier, Embedding(6, 4) -> Linear(4, 6) per step,
        with F.cross_entropy(weight=model.weights, label_smoothing=0.1) over
        the steps: model.ids [3,5], model.labels [3,5], model.emb.weight
        [6,4], model.out.weight [6,4], model.out.bias [6] (its state_dict,
        the cfg's layer names emb and out), model.logits [3,5,6],
        model.probabilities [3,5,6] (softmax over the classes), model.loss,
        and model.grad.<p> for each parameter.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from make_fixtures import as_loss, labels_as_float

N, T, VOCAB, DIM, CLASSES = 3, 5, 7, 4, 6
CLASS_WEIGHTS = torch.tensor([1.0, 2.0, 0.5, 0.0, 3.0, 1.5])


def ids_with_repeats(vocab):
    """[N, T] ids in 0..vocab-1; the first row repeats ids 1 and 2."""
    ids = torch.randint(0, vocab, (N, T))
    ids[0] = torch.tensor([1, 2, 1, 2, 1])
    return ids


def embedding_case(tensors, prefix, padding_idx=None):
    ids = ids_with_repeats(VOCAB)
    layer = nn.Embedding(VOCAB, DIM, padding_idx=padding_idx)
    y = layer(ids)
    dy = torch.randn(N, T, DIM)
    y.backward(dy)
    tensors.update({prefix + "ids": labels_as_float(ids), prefix + "weight": layer.weight,
                    prefix + "y": y, prefix + "dy": dy, prefix + "dweight": layer.weight.grad})


def class_label_case(tensors, case, logits_values, labels, **options):
    logits = logits_values.clone().requires_grad_(True)
    loss = F.cross_entropy(logits.permute(0, 2, 1), labels, **options)
    loss.backward()
    tensors.update({case + ".logits": logits, case + ".labels": labels_as_float(labels),
                    case + ".loss": as_loss(loss), case + ".dlogits": logits.grad})
    if "weight" in options:
        tensors[case + ".weights"] = options["weight"]


class PerStepClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(CLASSES, DIM)
        self.out = nn.Linear(DIM, CLASSES)

    def forward(self, ids):
        return self.out(self.emb(ids))


def make_sequence():
    torch.manual_seed(21)
    tensors = {}
    embedding_case(tensors, "embedding.")
    embedding_case(tensors, "padding.", padding_idx=2)

    ids = ids_with_repeats(VOCAB)
    tensors["one_hot.ids"] = labels_as_float(ids)
    tensors["one_hot.y"] = F.one_hot(ids, VOCAB).float()

    x = torch.randn(N, T, 6, requires_grad=True)
    linear = nn.Linear(6, DIM)
    y = linear(x)
    dy = torch.randn(N, T, DIM)
    y.backward(dy)
    tensors.update({"linear.x": x, "linear.weight": linear.weight, "linear.bias": linear.bias,
                    "linear.y": y, "linear.dy": dy, "linear.dx": x.grad,
                    "linear.dweight": linear.weight.grad, "linear.dbias": linear.bias.grad})

    logits = torch.randn(N, T, CLASSES) * 2
    labels = torch.randint(0, CLASSES, (N, T))
    labels[0] = torch.tensor([0, 1, 2, 3, 4])
    class_label_case(tensors, "ce", logits, labels)
    class_label_case(tensors, "ce_weights_smoothing", logits, labels, weight=CLASS_WEIGHTS,
                     label_smoothing=0.2)
    class_label_case(tensors, "ce_weights_smoothing_sum", logits, labels, weight=CLASS_WEIGHTS,
                     label_smoothing=0.2, reduction="sum")

    log_probs = F.log_softmax(logits, dim=-1).requires_grad_(True)
    loss = F.nll_loss(log_probs.permute(0, 2, 1), labels, weight=CLASS_WEIGHTS)
    loss.backward()
    tensors.update({"nll_weights.log_probs": log_probs,
                    "nll_weights.labels": labels_as_float(labels),
                    "nll_weights.weights": CLASS_WEIGHTS, "nll_weights.loss": as_loss(loss),
                    "nll_weights.dlog_probs": log_probs.grad})

    pred = torch.randn(N, T, 2, requires_grad=True)
    target = torch.randn(N, T, 2)
    loss = F.mse_loss(pred, target)
    loss.backward()
    tensors.update({"mse.pred": pred, "mse.target": target, "mse.loss": as_loss(loss),
                    "mse.dpred": pred.grad})

    model = PerStepClassifier()
    ids = ids_with_repeats(CLASSES)
    labels = torch.randint(0, CLASSES, (N, T))
    for name, parameter in model.state_dict().items():
        tensors["model." + name] = parameter.clone()
    logits = model(ids)
    loss = F.cross_entropy(logits.permute(0, 2, 1), labels, weight=CLASS_WEIGHTS,
                           label_smoothing=0.1)
    loss.backward()
    tensors.update({"model.ids": labels_as_float(ids), "model.labels": labels_as_float(labels),
                    "model.weights": CLASS_WEIGHTS, "model.logits": logits,
                    "model.probabilities": F.softmax(logits, dim=-1),
                    "model.loss": as_loss(loss)})
    for name, parameter in model.named_parameters():
        tensors["model.grad." + name] = parameter.grad
    return tensors


FIXTURES = [
    ("sequence.safetensors", make_sequence,
     "embedding (padding_idx), one_hot, Linear over steps, cross_entropy / nll / mse over "
     "[N, T, C] and a per-step classifier, forward and backward"),
]
