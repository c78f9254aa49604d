"""PyTorch references for the recurrent layers (tests/test_parity_recurrent.c).

Loaded by make_fixtures.py (FIXTURES below); run that script to regenerate.

recurrent.safetensors -- nn.RNN, nn.LSTM and nn.GRU with batch_first=True on
    x [3,5,4] (3 sequences of 5 steps, 4 features), hidden size 6, each case
    <c> with the module's own (default) initialisation:
      <c>.x, <c>.y (the output sequence), <c>.dy (random), <c>.dx,
      <c>.h_n [layers * directions, 3, 6] (and <c>.c_n for an LSTM),
      <c>.<p> and <c>.grad.<p> for every state_dict entry <p>
      (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, ..._l1,
      ..._reverse), after y.backward(dy).
    Cases: rnn_tanh, rnn_relu, rnn_nobias (bias=False), lstm, lstm_nobias,
    lstm_2layer, lstm_bidirectional, lstm_2layer_bidirectional, gru,
    gru_2layer_bidirectional.
    <c>_last cases (lstm_last, gru_2layer_bidirectional_last,
    rnn_relu_last): the same module and x, but the output is the last
    layer's h_n, forward then reverse, [3, D * 6]: <c>.x, <c>.y, <c>.dy,
    <c>.dx, <c>.<p>, <c>.grad.<p>.
    lstm_carried (a 2-layer LSTM): <c>.x and <c>.x2, two batches; the
    second starts from the first's final (h_n, c_n), detached: <c>.y2,
    <c>.dy2, <c>.dx2, <c>.h_n2, <c>.c_n2 and <c>.grad.<p> from
    y2.backward(dy2), <c>.<p> the weights.
"""

import torch
import torch.nn as nn

BATCH, STEPS, FEATURES, HIDDEN = 3, 5, 4, 6


def recorded_parameters(tensors, prefix, module):
    for name, parameter in module.named_parameters():
        tensors[f"{prefix}.{name}"] = parameter.detach().clone()
        tensors[f"{prefix}.grad.{name}"] = parameter.grad.clone()


def final_states(tensors, prefix, states, suffix=""):
    if isinstance(states, tuple):
        tensors[f"{prefix}.h_n{suffix}"] = states[0]
        tensors[f"{prefix}.c_n{suffix}"] = states[1]
    else:
        tensors[f"{prefix}.h_n{suffix}"] = states


def last_states(module, states):
    """The last layer's h_n, its directions side by side: [N, D * H]."""
    h_n = states[0] if isinstance(states, tuple) else states
    directions = 2 if module.bidirectional else 1
    return torch.cat(list(h_n[-directions:]), dim=1)


def record_case(tensors, prefix, module, last=False):
    x = torch.randn(BATCH, STEPS, FEATURES, requires_grad=True)
    output, states = module(x)
    y = last_states(module, states) if last else output
    dy = torch.randn(y.shape)
    y.backward(dy)
    tensors[prefix + ".x"] = x
    tensors[prefix + ".y"] = y
    tensors[prefix + ".dy"] = dy
    tensors[prefix + ".dx"] = x.grad
    if not last:
        final_states(tensors, prefix, states)
    recorded_parameters(tensors, prefix, module)


def record_carried(tensors, prefix, module):
    x = torch.randn(BATCH, STEPS, FEATURES)
    with torch.no_grad():
        _, (h, c) = module(x)
    x2 = torch.randn(BATCH, STEPS, FEATURES, requires_grad=True)
    y2, states2 = module(x2, (h.detach(), c.detach()))
    dy2 = torch.randn(y2.shape)
    y2.backward(dy2)
    tensors[prefix + ".x"] = x
    tensors[prefix + ".x2"] = x2
    tensors[prefix + ".y2"] = y2
    tensors[prefix + ".dy2"] = dy2
    tensors[prefix + ".dx2"] = x2.grad
    final_states(tensors, prefix, states2, "2")
    recorded_parameters(tensors, prefix, module)


def make_recurrent():
    torch.manual_seed(51)
    common = dict(input_size=FEATURES, hidden_size=HIDDEN, batch_first=True)
    cases = (
        ("rnn_tanh", lambda: nn.RNN(**common), False),
        ("rnn_relu", lambda: nn.RNN(nonlinearity="relu", **common), False),
        ("rnn_nobias", lambda: nn.RNN(bias=False, **common), False),
        ("lstm", lambda: nn.LSTM(**common), False),
        ("lstm_nobias", lambda: nn.LSTM(bias=False, **common), False),
        ("lstm_2layer", lambda: nn.LSTM(num_layers=2, **common), False),
        ("lstm_bidirectional", lambda: nn.LSTM(bidirectional=True, **common), False),
        ("lstm_2layer_bidirectional",
         lambda: nn.LSTM(num_layers=2, bidirectional=True, **common), False),
        ("gru", lambda: nn.GRU(**common), False),
        ("gru_2layer_bidirectional",
         lambda: nn.GRU(num_layers=2, bidirectional=True, **common), False),
        ("lstm_last", lambda: nn.LSTM(**common), True),
        ("gru_2layer_bidirectional_last",
         lambda: nn.GRU(num_layers=2, bidirectional=True, **common), True),
        ("rnn_relu_last", lambda: nn.RNN(nonlinearity="relu", num_layers=2, **common), True),
    )
    tensors = {}
    for prefix, make_module, last in cases:
        record_case(tensors, prefix, make_module(), last)
    record_carried(tensors, "lstm_carried", nn.LSTM(num_layers=2, **common))
    return tensors


FIXTURES = [
    ("recurrent.safetensors", make_recurrent,
     "nn.RNN (tanh, relu), nn.LSTM and nn.GRU, batch_first, 1-2 layers, bidirectional, with and "
     "without bias: outputs, final states, all gradients; h_n outputs; a second batch from a "
     "carried state"),
]
