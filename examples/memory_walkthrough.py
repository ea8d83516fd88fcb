"""What a network costs in memory: the course's worked examples, redone with minigrad.memory.

Run from the repository root:  python examples/memory_walkthrough.py   (--fast: smaller step section)

1. the course's layer sizes, sizeof(type) x (n x k + k), and where its code says otherwise;
2. the 5-8-4-2 network for a batch of 1 and of 100: parameters stay, activations grow;
3. the multiplier of each optimizer (parameters + gradients + state, over the parameters);
4. activations: what the graph really keeps, against torchinfo's "outputs x 2" estimate;
5. one training step: the predicted peaks of backward and of step() against tracemalloc.
"""

from __future__ import annotations

import math

import minigrad as torch
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.memory import format_bytes, measure, param_bytes, param_count, summary


def section(title: str) -> None:
    print(f"\n{'=' * 8} {title} {'=' * max(0, 70 - len(title))}")


def course_layers() -> dict:
    section("1. sizeof(Layer) = sizeof(type) x (n x k + k)")
    examples = [
        ("Linear(8, 4, bias=False)            course: 'no bias', 128 B", nn.Linear(8, 4, bias=False)),
        ("Linear(8, 4)              as the course's code is written", nn.Linear(8, 4)),
        ("Linear(8, 4, bias=True)             course: 'float64', 288 B", nn.Linear(8, 4, bias=True)),
        ("Linear(8, 4, bias=True, dtype=float64)", nn.Linear(8, 4, bias=True, dtype=torch.float64)),
        ("Sequential(Linear(8, 4), Linear(4, 1))   course: 40, 160 B",
         nn.Sequential(nn.Linear(8, 4), nn.Linear(4, 1))),
        ("Sequential(Linear(8, 4), Linear(4, 1, bias=False))",
         nn.Sequential(nn.Linear(8, 4), nn.Linear(4, 1, bias=False))),
    ]
    sizes = {}
    for text, model in examples:
        sizes[text.split("  ")[0].strip()] = (param_count(model), param_bytes(model))
        print(f"  {text:62} {param_count(model):3} params  {param_bytes(model):4} B")
    print("  The course's numbers hold for the models it describes; its code builds slightly different ones:")
    print("  Linear has a bias unless bias=False, and its dtype is float32 unless asked otherwise.")
    return sizes


def course_network() -> dict:
    section("2. Linear(5,8) - Linear(8,4) - Linear(4,2): 94 values, 376 B")
    model = nn.Sequential(nn.Linear(5, 8), nn.Linear(8, 4), nn.Linear(4, 2))
    reports = {}
    for batch in (1, 100):
        reports[batch] = summary(model, (batch, 5))
        print(reports[batch])
    print("The 94 values are parameters: they exist once, whatever the batch (not 376 x 100 = 37600 B).")
    print("What grows with the batch is the activations: each Linear keeps its input, B x (5 + 8 + 4) floats.")
    return reports


OPTIMIZERS = [
    ("SGD", lambda p: optim.SGD(p, lr=0.1), "2x"),
    ("SGD momentum=0.9", lambda p: optim.SGD(p, lr=0.1, momentum=0.9), "3x"),
    ("Rprop", lambda p: optim.Rprop(p), "at least 3x"),
    ("Rprop packed_signs=True", lambda p: optim.Rprop(p, packed_signs=True), "3x with bit sets"),
    ("Adagrad", lambda p: optim.Adagrad(p), "3x"),
    ("RMSprop", lambda p: optim.RMSprop(p), "3x"),
    ("RMSprop momentum=0.9", lambda p: optim.RMSprop(p, momentum=0.9), "-"),
    ("RMSprop momentum=0.9 centered", lambda p: optim.RMSprop(p, momentum=0.9, centered=True), "-"),
    ("Adam", lambda p: optim.Adam(p), "4x"),
    ("Adam amsgrad=True", lambda p: optim.Adam(p, amsgrad=True), "-"),
    ("AdamW", lambda p: optim.AdamW(p), "-"),
    ("NAdam", lambda p: optim.NAdam(p), "4x"),
    ("Adadelta", lambda p: optim.Adadelta(p), "4x"),
]


def multipliers() -> dict:
    section("3. Training memory over the bare parameters, per optimizer")
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    print(f"  model: 784-128-10, {param_count(model):,} parameters = {format_bytes(param_bytes(model))} (float32)")
    print(f"  {'optimizer':32} {'state':>11} {'full-size':>10}  {'x params':>8}  course")
    table = {}
    for name, make, course in OPTIMIZERS:
        report = summary(model, (1, 784), optimizer=make(model.parameters()))
        full = (report.param_bytes + report.grad_bytes + report.state_full_size_bytes) / report.param_bytes
        table[name] = (full, report.multiplier)
        print(f"  {name:32} {format_bytes(report.state_bytes):>11} {full:9.4g}x  {report.multiplier:7.4f}x  {course}")
    print("  'full-size': parameters + gradients + the state tensors shaped like the parameters; the last")
    print("  column adds the 0-dim step counters (4 bytes per parameter tensor, 8 under a float64 default).")
    return table


def torchinfo_estimate(report) -> int:
    """torchinfo's 'forward/backward pass size': every leaf module's output, times 2."""
    itemsize = 4 if report.dtype == "float32" else 8
    leaves = [r for r in report.rows if not r.has_children and r.output_shape is not None]
    return 2 * sum(math.prod(r.output_shape) * itemsize for r in leaves)


def activations() -> dict:
    section("4. Activations: what backward really keeps")
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 128), nn.Tanh(),
                          nn.Linear(128, 10))
    target = torch.randint(0, 10, (64,))
    report = summary(model, (64, 784), loss_fn=lambda out: F.cross_entropy(out, target))
    print(report)
    print(f"  torchinfo-style estimate (outputs x 2): {format_bytes(torchinfo_estimate(report))}")
    print(f"  kept for backward, counted from the graph: {format_bytes(report.activation_bytes)}")
    print("  Linear keeps its input, not its output; ReLU and Tanh keep their output, which the next Linear")
    print("  keeps too (one buffer, counted once); Dropout keeps a one-byte mask; the loss keeps the softmax")
    print("  probabilities and the int64 targets. Under no_grad nothing is kept at all.")
    return {"torchinfo": torchinfo_estimate(report), "kept": report.activation_bytes}


def training_step(fast: bool = False) -> list:
    section("5. One training step: predicted peaks against tracemalloc")
    print("  zero_grad(), forward, loss, backward, then optimizer.step(); absolute peaks of each phase")
    print(f"  {'model':16} {'batch':>5} {'optimizer':13} {'course sum':>11} {'backward: predicted':>20} "
          f"{'measured':>9} {'step(): predicted':>18} {'measured':>9}")
    models = [(300, 200, 10)] if fast else [(784, 256, 128, 10), (100, 400, 400, 10)]
    rows = []
    for sizes in models:
        for batch in (32, 512):
            for name, make in (("SGD", lambda p: optim.SGD(p, lr=0.01)),
                               ("SGD momentum", lambda p: optim.SGD(p, lr=0.01, momentum=0.9)),
                               ("Adam", lambda p: optim.Adam(p))):
                row = step_peaks(sizes, batch, make)
                row.update(model=sizes, batch=batch, optimizer=name)
                rows.append(row)
                print(f"  {'-'.join(map(str, sizes)):16} {batch:5} {name:13} {format_bytes(row['course_sum']):>11} "
                      f"{format_bytes(row['backward'][0]):>20} {format_bytes(row['backward'][1]):>9} "
                      f"{format_bytes(row['update'][0]):>18} {format_bytes(row['update'][1]):>9}")
    print("  'course sum' = params + grads + state + saved activations. Backward goes above it: it also holds")
    print("  the gradient of each activation. step() holds the gradients and the optimizer's temporary arrays;")
    print("  their prediction is an upper bound, one number of arrays per optimizer class, for the option that")
    print("  needs the most (plain SGD needs fewer than SGD with Nesterov and weight decay). See docs/memory.md.")
    return rows


def step_peaks(sizes: tuple, batch: int, make) -> dict:
    """Predicted and measured peaks of the two phases of a step, after a first step made the state."""
    target = torch.randint(0, sizes[-1], (batch,))
    with measure():  # one trace for the whole run, so frees of earlier arrays are seen
        with measure() as setup:  # the model made inside: arrays made before tracing are not seen
            layers: list = []
            for n_in, n_out in zip(sizes[:-1], sizes[1:]):
                layers += [nn.Linear(n_in, n_out), nn.ReLU()]
            model = nn.Sequential(*layers[:-1])
            opt = make(model.parameters())
            x = torch.randn(batch, sizes[0])
            opt.zero_grad()
            F.cross_entropy(model(x), target).backward()
            opt.step()  # the state exists from here on
        report = summary(model, (batch, sizes[0]), optimizer=opt,
                         loss_fn=lambda out: F.cross_entropy(out, target))
        with measure() as backward:
            opt.zero_grad()
            out = model(x)
            loss = F.cross_entropy(out, target)
            loss.backward()
        with measure() as update:
            opt.step()
    before = setup.array_current
    predicted_backward = report.param_bytes + report.state_bytes + report.backward_peak
    return {"course_sum": report.training_total, "largest_param": max(p.nbytes for p in model.parameters()),
            "backward": (predicted_backward, before + backward.peak),
            "update": (report.update_peak, before + backward.array_current + update.peak),
            "step": (report.step_peak, before + max(backward.peak, backward.array_current + update.peak))}


def main(fast: bool = False) -> dict:
    torch.manual_seed(0)
    return {"layers": course_layers(), "network": course_network(), "multipliers": multipliers(),
            "activations": activations(), "steps": training_step(fast)}


if __name__ == "__main__":
    import sys

    main(fast="--fast" in sys.argv)
