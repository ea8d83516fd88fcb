"""User programs written for torch, run unchanged on minigrad and on torch, with the same results.

Each program is a function ``program(torch, ...)`` in the style of torch's tutorials and of
everyday training scripts. It runs once with ``minigrad`` and once with the real ``torch``
(float64, the same initial weights copied in from a seeded NumPy generator) and the two
results, plain Python values, must agree to 1e-10; where torch raises, minigrad must raise the
same exception type.
"""

from __future__ import annotations

import copy
import io
import math
from collections import OrderedDict

import numpy as np
import pytest
import torch as real_torch

import minigrad

LIBS = (minigrad, real_torch)
_rng = np.random.default_rng(0)
XS = _rng.normal(size=(30, 4))
YS = _rng.integers(0, 3, size=30)
XV = _rng.normal(size=(12, 4))
YV = _rng.integers(0, 3, size=12)


def assert_same(ours, theirs, path="result"):
    """Plain Python results equal: numbers to 1e-10, containers element by element, the rest by ==."""
    if isinstance(theirs, bool) or theirs is None or isinstance(theirs, str):
        assert ours == theirs, f"{path}: {ours!r} != {theirs!r}"
    elif isinstance(theirs, (int, float)):
        assert isinstance(ours, (int, float)) and not isinstance(ours, bool), f"{path}: {ours!r} is not a number"
        assert type(ours) is type(theirs), f"{path}: {type(ours).__name__} != {type(theirs).__name__}"
        assert math.isclose(ours, theirs, rel_tol=1e-10, abs_tol=1e-10) or (math.isnan(ours) and math.isnan(theirs)), \
            f"{path}: {ours!r} != {theirs!r}"
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs), f"{path}: keys {list(ours)} != {list(theirs)}"
        for k in theirs:
            assert_same(ours[k], theirs[k], f"{path}[{k!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(theirs), f"{path}: {ours!r} != {theirs!r}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, f"{path}[{i}]")
    else:
        raise TypeError(f"{path}: programs return plain Python values, got {type(theirs)}")


def same_on_both(program, *args):
    ours, theirs = (program(lib, *args) for lib in LIBS)
    assert_same(ours, theirs)
    return ours


def raises_same(program, *args):
    """torch raises; minigrad raises the same exception type."""
    with pytest.raises(Exception) as expected:
        program(real_torch, *args)
    with pytest.raises(expected.type):
        program(minigrad, *args)


# -- building blocks that user programs share ------------------------------------------------


def init_weights(torch, model, seed=1):
    """Copy the same seeded values into every parameter (the usual no_grad + copy_ idiom)."""
    r = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.tensor(r.normal(size=tuple(p.shape)) * 0.5))
    return model


def make_mlp(torch, hidden=8):
    nn = torch.nn
    model = nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), nn.Linear(hidden, 3)).double()
    return init_weights(torch, model)


def flat_params(model):
    return [x for p in model.parameters() for x in p.detach().numpy().ravel().tolist()]


def loaders(torch, batch_size=8):
    data = torch.utils.data
    train = data.DataLoader(data.TensorDataset(torch.tensor(XS), torch.tensor(YS)), batch_size=batch_size)
    val = data.DataLoader(data.TensorDataset(torch.tensor(XV), torch.tensor(YV)), batch_size=5)
    return train, val


def train_epoch(torch, model, optimizer, loader, loss_fn, clip=None):
    model.train()
    total = 0.0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=clip)
        optimizer.step()
        total += loss.item() * xb.size(0)
    return total / len(loader.dataset)


def evaluate(torch, model, loader, loss_fn):
    model.eval()
    correct, total, loss_sum = 0, 0, 0.0
    with torch.no_grad():
        for xb, yb in loader:
            out = model(xb)
            loss_sum += loss_fn(out, yb).item() * len(yb)
            _, predicted = torch.max(out, 1)
            total += yb.size(0)
            correct += (predicted == yb).sum().item()
    return loss_sum / total, correct / total, out.requires_grad


OPTIMIZERS = {
    "SGD": {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3},
    "Rprop": {"lr": 0.01},
    "Adagrad": {"lr": 0.1, "lr_decay": 0.01},
    "RMSprop": {"lr": 0.01, "momentum": 0.5, "centered": True},
    "Adam": {"lr": 0.01, "amsgrad": True, "weight_decay": 1e-3},
    "AdamW": {"lr": 0.01, "weight_decay": 0.1},
    "NAdam": {"lr": 0.01},
    "Adadelta": {"lr": 1.0},
}


# -- training loops ---------------------------------------------------------------------------


def classification_program(torch, opt_name):
    torch.manual_seed(0)
    model = make_mlp(torch)
    optimizer = getattr(torch.optim, opt_name)(model.parameters(), **OPTIMIZERS[opt_name])
    criterion = torch.nn.CrossEntropyLoss()
    train, val = loaders(torch)
    history = []
    for _epoch in range(3):
        train_loss = train_epoch(torch, model, optimizer, train, criterion, clip=1.0)
        val_loss, val_acc, grad_in_eval = evaluate(torch, model, val, criterion)
        history.append([train_loss, val_loss, val_acc, grad_in_eval, model.training])
    return history + [flat_params(model)]


@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
def test_training_loop_with_validation(opt_name):
    history = same_on_both(classification_program, opt_name)
    assert history[0][0] != history[-2][0]  # it trained


def checkpoint_program(torch, opt_name, where):
    """Train, save {'model', 'optimizer', 'epoch'}, load into fresh objects, resume; and train straight through."""
    criterion = torch.nn.CrossEntropyLoss()
    train, _ = loaders(torch)
    model = make_mlp(torch)
    optimizer = getattr(torch.optim, opt_name)(model.parameters(), **OPTIMIZERS[opt_name])
    for _epoch in range(2):
        train_epoch(torch, model, optimizer, train, criterion)
    checkpoint = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 2, "loss": 0.5}
    target = where if where is not None else io.BytesIO()
    torch.save(checkpoint, target)
    if where is None:
        target.seek(0)
    for _epoch in range(2):  # the run that never stopped
        train_epoch(torch, model, optimizer, train, criterion)

    loaded = torch.load(target, map_location="cpu") if where is not None else torch.load(target)
    resumed = make_mlp(torch, hidden=8)
    init_weights(torch, resumed, seed=7)
    opt2 = getattr(torch.optim, opt_name)(resumed.parameters(), **OPTIMIZERS[opt_name])
    resumed.load_state_dict(loaded["model"])
    opt2.load_state_dict(loaded["optimizer"])
    start = loaded["epoch"]
    for _epoch in range(start, 4):
        train_epoch(torch, resumed, opt2, train, criterion)
    straight, again = flat_params(model), flat_params(resumed)
    return [start, loaded["loss"], straight, again, max(abs(a - b) for a, b in zip(straight, again))]


@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
def test_checkpoint_resume_in_memory(opt_name):
    result = same_on_both(checkpoint_program, opt_name, None)
    assert result[-1] < 1e-12  # resuming gives the uninterrupted run


@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
def test_checkpoint_resume_through_a_file(opt_name, tmp_path):
    result = same_on_both(lambda torch: checkpoint_program(torch, opt_name, str(tmp_path / f"{torch.__name__}.pt")))
    assert result[-1] < 1e-12


SCHEDULERS = {
    "StepLR": {"step_size": 2, "gamma": 0.5},
    "MultiStepLR": {"milestones": [1, 3], "gamma": 0.1},
    "ExponentialLR": {"gamma": 0.9},
    "CosineAnnealingLR": {"T_max": 4, "eta_min": 0.001},
    "LambdaLR": {"lr_lambda": lambda epoch: 1.0 / (1 + epoch)},
}


def scheduler_program(torch, name):
    criterion = torch.nn.CrossEntropyLoss()
    train, val = loaders(torch)
    model = make_mlp(torch)
    optimizer = torch.optim.SGD([{"params": model[0].parameters()},
                                 {"params": model[2].parameters(), "lr": 0.05}], lr=0.1, momentum=0.9)
    scheduler = getattr(torch.optim.lr_scheduler, name)(optimizer, **SCHEDULERS[name])
    lrs = []
    for epoch in range(3):
        train_epoch(torch, model, optimizer, train, criterion)
        scheduler.step()
        lrs.append([g["lr"] for g in optimizer.param_groups] + scheduler.get_last_lr())
        if epoch == 1:
            saved = copy.deepcopy({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                                   "model": model.state_dict()})
    # resume from the end of epoch 1 in new objects
    model2 = make_mlp(torch)
    model2.load_state_dict(saved["model"])
    opt2 = torch.optim.SGD([{"params": model2[0].parameters()},
                            {"params": model2[2].parameters(), "lr": 0.05}], lr=0.1, momentum=0.9)
    sched2 = getattr(torch.optim.lr_scheduler, name)(opt2, **SCHEDULERS[name])
    opt2.load_state_dict(saved["optimizer"])
    sched2.load_state_dict(saved["scheduler"])
    for _epoch in range(2, 3):
        train_epoch(torch, model2, opt2, train, criterion)
        sched2.step()
    return [lrs, [g["lr"] for g in opt2.param_groups], sched2.last_epoch, flat_params(model), flat_params(model2)]


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_scheduler_per_epoch_and_resume(name):
    lrs, resumed_lrs, _, straight, again = same_on_both(scheduler_program, name)
    assert resumed_lrs == lrs[-1][:2] and straight == again


def plateau_program(torch):
    criterion = torch.nn.CrossEntropyLoss()
    train, val = loaders(torch)
    model = make_mlp(torch)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=0)
    out = []
    for _epoch in range(5):
        train_epoch(torch, model, optimizer, train, criterion)
        val_loss, val_acc, _ = evaluate(torch, model, val, criterion)
        scheduler.step(val_loss)
        out.append([val_loss, optimizer.param_groups[0]["lr"]])
    return out


def test_reduce_lr_on_plateau_on_validation_loss():
    same_on_both(plateau_program)


def early_stopping_program(torch):
    """Keep the best weights with copy.deepcopy(model.state_dict()) and restore them at the end."""
    criterion = torch.nn.CrossEntropyLoss()
    train, val = loaders(torch)
    model = make_mlp(torch)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    best_loss, best_state, best_epoch = float("inf"), None, -1
    for epoch in range(6):
        train_epoch(torch, model, optimizer, train, criterion)
        val_loss, _, _ = evaluate(torch, model, val, criterion)
        if val_loss < best_loss:
            best_loss, best_epoch = val_loss, epoch
            best_state = copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    final_loss, final_acc, _ = evaluate(torch, model, val, criterion)
    return [best_epoch, best_loss, final_loss, final_acc]


def test_early_stopping_restores_best_weights():
    best_epoch, best_loss, final_loss, _ = same_on_both(early_stopping_program)
    assert final_loss == pytest.approx(best_loss, abs=1e-12)


def regression_program(torch):
    """Linear regression by hand: leaf tensors, in-place updates under no_grad, grad.zero_()."""
    x = torch.tensor(XS)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]], dtype=torch.float64) + 0.1
    w = torch.zeros(4, 1, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    losses = []
    for _ in range(20):
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= 0.1 * w.grad
            b.sub_(0.1 * b.grad)
            w.grad.zero_()
            b.grad.zero_()
        losses.append(loss.item())
    return [losses, w.detach().numpy().ravel().tolist(), b.item(), w.is_leaf, w.requires_grad]


def test_manual_gradient_descent():
    same_on_both(regression_program)


def binary_program(torch):
    nn = torch.nn
    model = init_weights(torch, nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 1)).double())
    x = torch.tensor(XS)
    y = (x[:, 0] + x[:, 1] > 0).double().unsqueeze(1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(10):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        probs = torch.sigmoid(model(x))
        preds = (probs > 0.5).float()
        acc = (preds == y).float().mean().item()
        bce = nn.BCELoss()(probs, y).item()
    return [loss.item(), acc, bce, probs.squeeze(1).tolist()[:5]]


def test_binary_classification_with_logits():
    same_on_both(binary_program)


# -- models ------------------------------------------------------------------------------------


def custom_module_program(torch):
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, width):
            super().__init__()
            self.fc = nn.Linear(width, width)
            self.act = nn.Tanh()

        def forward(self, x):
            return x + self.act(self.fc(x))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([Block(4) for _ in range(2)])
            self.helpers = [nn.Linear(4, 4)]  # a plain list: not registered, as in torch
            self.heads = {"a": nn.Linear(4, 2)}  # a plain dict: not registered either
            self.out = nn.Linear(4, 3, bias=False)
            self.register_buffer("scale", torch.ones(1, dtype=torch.float64) * 2)
            self.alpha = nn.Parameter(torch.tensor(0.5, dtype=torch.float64))

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return self.out(x) * self.scale * self.alpha

    net = init_weights(torch, Net().double())
    out = net(torch.tensor(XS))
    out.pow(2).mean().backward()
    names = [n for n, _ in net.named_parameters()]
    grads = {n: p.grad.abs().sum().item() for n, p in net.named_parameters()}
    n_trainable = sum(p.numel() for p in net.parameters() if p.requires_grad)
    return [names, list(net.state_dict().keys()), [n for n, _ in net.named_buffers()], n_trainable,
            [n for n, _ in net.named_modules()], len(list(net.children())), out.sum().item(), grads,
            net.helpers[0].weight.grad is None, type(net.state_dict()["alpha"]) is torch.Tensor]


def test_custom_module_with_lists_dicts_buffers():
    same_on_both(custom_module_program)


def init_apply_program(torch):
    nn = torch.nn

    def init_fn(m):
        if isinstance(m, nn.Linear):
            nn.init.constant_(m.weight, 0.05)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
                m.bias.data.fill_(0.01)

    model = nn.Sequential(OrderedDict([("fc1", nn.Linear(4, 5)), ("relu", nn.ReLU()),
                                       ("fc2", nn.Linear(5, 2))])).double()
    returned = model.apply(init_fn)
    out = model(torch.tensor(XS))
    # a fixed xavier/kaiming bound never exceeded
    w = torch.empty(50, 100)
    nn.init.xavier_uniform_(w, gain=nn.init.calculate_gain("tanh"))
    k = torch.empty(50, 100)
    nn.init.kaiming_uniform_(k, nonlinearity="relu")
    return [returned is model, out.sum().item(), list(model.state_dict()), model.fc2.out_features,
            w.abs().max().item() <= 5 / 3 * math.sqrt(6 / 150), k.abs().max().item() <= math.sqrt(6 / 100),
            [nn.init.calculate_gain(n) for n in ("relu", "tanh", "linear", "sigmoid")]]


def test_weight_init_with_apply():
    same_on_both(init_apply_program)


def param_groups_program(torch):
    model = make_mlp(torch)
    optimizer = torch.optim.Adam([{"params": model[0].parameters()},
                                  {"params": model[2].parameters(), "lr": 1e-2, "weight_decay": 0.0}],
                                 lr=1e-3, weight_decay=1e-2)
    x, y = torch.tensor(XS), torch.tensor(YS)
    norms = []
    for step in range(6):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5).item())
        optimizer.step()
        if step == 2:
            for group in optimizer.param_groups:
                group["lr"] *= 0.5
    sgd = torch.optim.SGD(model[0].parameters(), lr=0.1, momentum=0.9)
    sgd.add_param_group({"params": model[2].parameters(), "lr": 0.01})
    for _ in range(2):
        sgd.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        sgd.step()
    state = optimizer.state[model[0].weight]
    return [norms, [g["lr"] for g in optimizer.param_groups], [g["weight_decay"] for g in optimizer.param_groups],
            sorted(state), float(state["step"]), [g["momentum"] for g in sgd.param_groups], flat_params(model)]


def test_parameter_groups_clipping_and_lr_edits():
    same_on_both(param_groups_program)


def freeze_program(torch):
    """Fine-tuning: freeze the first layer, train, unfreeze, train on (one optimizer throughout)."""
    model = make_mlp(torch)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    x, y = torch.tensor(XS), torch.tensor(YS)
    for param in model[0].parameters():
        param.requires_grad = False
    for _ in range(2):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    frozen_grad = model[0].weight.grad is None
    model[0].requires_grad_(True)
    for _ in range(2):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    return [frozen_grad, sorted(len(s) for s in optimizer.state.values()), flat_params(model)]


def test_freeze_then_unfreeze():
    same_on_both(freeze_program)


def accumulation_program(torch):
    """Gradient accumulation over micro-batches, grads scaled in place, a gradient set by hand."""
    model = make_mlp(torch)
    optimizer = torch.optim.RMSprop(model.parameters(), lr=0.01)
    x, y = torch.tensor(XS), torch.tensor(YS)
    optimizer.zero_grad()
    for i in range(6):
        loss = torch.nn.functional.cross_entropy(model(x[i * 5:(i + 1) * 5]), y[i * 5:(i + 1) * 5]) / 2
        loss.backward()
        if i % 2 == 1:
            for p in model.parameters():
                p.grad.mul_(0.5)
            model[2].bias.grad = torch.ones_like(model[2].bias)
            optimizer.step()
            optimizer.zero_grad()
    return [model[0].weight.grad is None, flat_params(model)]


def test_gradient_accumulation():
    same_on_both(accumulation_program)


def two_optimizers_program(torch):
    model = make_mlp(torch)
    opt_body = torch.optim.SGD(model[0].parameters(), lr=0.1, momentum=0.9)
    opt_head = torch.optim.Adam(model[2].parameters(), lr=0.01)
    x, y = torch.tensor(XS), torch.tensor(YS)
    for _ in range(3):
        opt_body.zero_grad()
        opt_head.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt_body.step()
        opt_head.step()
    return flat_params(model)


def test_two_optimizers_on_parts_of_a_model():
    same_on_both(two_optimizers_program)


def closure_program(torch):
    model = make_mlp(torch)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.tensor(XS), torch.tensor(YS)

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        return loss

    losses = [optimizer.step(closure).item() for _ in range(3)]
    return [losses, flat_params(model)]


def test_step_with_closure():
    same_on_both(closure_program)


def eval_mode_program(torch):
    nn = torch.nn
    model = init_weights(torch, nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3)).double())
    x = torch.tensor(XV)
    model.eval()
    with torch.no_grad():
        a = model(x)
        b = model(x)
    model.train()
    dropped = nn.Dropout(p=0.25)(torch.ones(2000, dtype=torch.float64))
    values = sorted({round(v, 12) for v in dropped.tolist()})
    return [a.tolist() == b.tolist(), a.argmax(dim=1).tolist(), model.training, model[2].training,
            values, nn.Dropout(1.0)(torch.ones(3, dtype=torch.float64)).tolist(),
            nn.functional.dropout(x, 0.5, training=False).tolist() == x.tolist()]


def test_dropout_train_and_eval():
    same_on_both(eval_mode_program)


# -- tensor idioms ---------------------------------------------------------------------------


def tensor_idioms_program(torch):
    x = torch.tensor(np.arange(24.0).reshape(2, 3, 4) - 11, dtype=torch.float64)
    flat = x.view(-1)
    rows = x.reshape(x.size(0), -1)
    values, indices = rows.max(dim=1)
    col_min = torch.min(rows, dim=0, keepdim=True)
    mask = x > 0
    y = torch.cat([x, x * 2], dim=2)
    z = torch.cat((x, x), -1)
    s = torch.stack([flat, flat], dim=1)
    v = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    return {
        "shapes": [list(flat.shape), list(rows.shape), list(y.shape), list(z.shape), list(s.shape),
                   list(v[:, None].shape), list(v[None, :].shape), list(v.unsqueeze(0).expand(4, -1).shape),
                   list(x[..., 0].shape), list(x.permute(2, 0, 1).shape), list(x.transpose(0, 1).shape),
                   list(x.flatten(1).shape), list(x.unsqueeze(-1).squeeze().shape), x.dim(), x.numel(),
                   x.size(-1), len(x), list(x.sum(dim=1, keepdim=True).shape), list(x.mean((0, 2)).shape)],
        "max": [values.tolist(), indices.tolist(), rows.max(1)[0].tolist(), col_min.values.tolist(),
                col_min.indices.tolist(), rows.argmax(dim=1).tolist(), rows.argmin().item(), x.max().item()],
        "masked": [x[mask].tolist(), mask.sum().item(), mask.float().mean().item(), mask.long().sum(dim=2).tolist()],
        "reductions": [x.sum().item(), x.sum(dim=(0, 2)).tolist(), x.mean(dim=-1).tolist(), x.std().item(),
                       x.var(dim=1, unbiased=False).tolist(), rows.std(1).tolist(), torch.sum(x, 0).tolist()],
        "broadcast": [(v[:, None] * v[None, :]).tolist(), (v - v.mean()).tolist(), (1 - v).tolist(),
                      (2 ** v).tolist(), (v / 2).tolist(), (torch.tensor([1, 2]) / 2).tolist()],
        "items": [v.sum().item(), type(v.sum().item()).__name__, torch.tensor([1, 2]).sum().item(),
                  type(torch.tensor([1, 2]).sum().item()).__name__, v.tolist(), torch.tensor(2.5).tolist(),
                  v.detach().numpy().tolist(), int(torch.tensor(3)), float(v[1]), v[v > 1.5].numel(),
                  [r.sum().item() for r in rows]],
        "where": [torch.where(v > 1.5, v, torch.zeros_like(v)).tolist(), torch.clamp(v, min=1.5).tolist(),
                  v.clamp(1.2, 2.5).tolist()],
    }


def test_tensor_manipulation_idioms():
    same_on_both(tensor_idioms_program)


def accuracy_program(torch):
    logits = torch.tensor(XV[:, :3])
    labels = torch.tensor(YV)
    acc1 = (logits.argmax(dim=1) == labels).float().mean().item()
    acc2 = (torch.argmax(logits, 1) == labels).sum().item() / labels.size(0)
    _, pred = logits.max(1)
    acc3 = pred.eq(labels).sum().item()
    probs = torch.softmax(logits, dim=1)
    confident = (probs.max(dim=1).values > 0.5).sum().item()
    one_hot = torch.nn.functional.one_hot(labels, num_classes=3)
    return [acc1, acc2, acc3, confident, probs.sum(1).tolist(), one_hot.sum(0).tolist(),
            str(pred.dtype).split(".")[1], str(one_hot.dtype).split(".")[1]]


def test_accuracy_idioms():
    same_on_both(accuracy_program)


def variance_positional_program(torch):
    """torch's positional order is var(dim, unbiased, keepdim); a bool alone is unbiased."""
    x = torch.tensor(np.arange(12.0).reshape(3, 4) ** 1.5, dtype=torch.float64)
    return [x.var(0, False).tolist(), x.std(1, True).tolist(), x.var(1, False, True).tolist(),
            x.std(False).item(), x.var(True).item(), torch.std(x, 0, False).tolist(),
            x.var(0, keepdim=True).tolist(), x.std(dim=1, correction=0).tolist()]


def test_var_and_std_positional_unbiased():
    same_on_both(variance_positional_program)


def where_scalars_program(torch):
    x = torch.tensor([-1.5, 0.0, 2.0], dtype=torch.float64)
    ones = torch.where(x > 0, 1.0, 0.0)
    labels = torch.where(x > 0, 1, 0)
    mixed = torch.where(x > 0, 1, 0.5)
    return [ones.tolist(), str(ones.dtype).split(".")[1], labels.tolist(), str(labels.dtype).split(".")[1],
            mixed.tolist(), str(mixed.dtype).split(".")[1], torch.where(x > 0, x, 0.0).tolist()]


def test_where_with_two_python_scalars():
    same_on_both(where_scalars_program)


def element_view_program(torch):
    """x[i, j] is a view: writing into it writes into x (also into a parameter, under no_grad)."""
    x = torch.tensor(np.arange(6.0).reshape(2, 3), dtype=torch.float64)
    x[0, 0].fill_(100.0)
    x[1][2] = -1.0
    x[1, 1] += 5
    flat = x.view(-1)
    flat[1] = 7.0
    x[:, 2].mul_(10)
    lin = init_weights(torch, torch.nn.Linear(2, 2).double())
    with torch.no_grad():
        lin.weight[0, 1].fill_(3.0)
        lin.bias[1] = 0.0
        lin.weight[1].zero_()
    return [x.tolist(), lin.weight.tolist(), lin.bias.tolist()]


def test_element_indexing_returns_views():
    same_on_both(element_view_program)


def autograd_idioms_program(torch):
    x = torch.tensor(XV[:3], requires_grad=True)
    h = x * 2
    h.retain_grad()
    out = (h.tanh() @ torch.tensor(XV[:4, :2])).sum()
    out.backward()
    y = torch.tensor([1.0, 3.0, 3.0], dtype=torch.float64, requires_grad=True)
    y.max().backward()
    z = torch.tensor(XV[:2], requires_grad=True)
    (z * 3).backward(torch.ones_like(z))
    w = torch.tensor(XV[:3], requires_grad=True)
    w[[0, 0, 2]].sum().backward()
    m = torch.tensor(XV[:3], requires_grad=True)
    m[m > 0].pow(2).sum().backward()

    @torch.no_grad()
    def predict(t):
        return t * 2

    with torch.set_grad_enabled(False):
        in_ctx = (x * 2).requires_grad
    return [x.grad.tolist(), h.grad.tolist(), x.is_leaf, h.is_leaf, h.grad_fn is not None, y.grad.tolist(),
            z.grad.tolist(), w.grad.tolist(), m.grad.tolist(), predict(x).requires_grad, in_ctx,
            torch.is_grad_enabled(), x.detach().requires_grad, (x.detach() * 2).requires_grad]


def test_autograd_idioms():
    same_on_both(autograd_idioms_program)


# -- data ------------------------------------------------------------------------------------


def dataloader_program(torch):
    data = torch.utils.data
    ds = data.TensorDataset(torch.tensor(XS), torch.tensor(YS))
    out = [len(ds), len(data.DataLoader(ds, batch_size=8)), len(data.DataLoader(ds, batch_size=8, drop_last=True))]
    for i, (xb, yb) in enumerate(data.DataLoader(ds, batch_size=8)):
        out.append([i, list(xb.shape), yb.tolist(), xb.sum().item(), str(yb.dtype).split(".")[1]])
    x0, y0 = ds[0]
    out.append([list(x0.shape), y0.item()])
    batch = next(iter(data.DataLoader(ds, batch_size=4, shuffle=True)))
    out.append([type(batch).__name__, len(batch), list(batch[0].shape)])
    samples = [(torch.tensor(XS[i]), int(YS[i])) for i in range(5)]
    for xb, yb in data.DataLoader(samples, batch_size=2):
        out.append([list(xb.shape), yb.tolist(), str(yb.dtype).split(".")[1]])

    class DictDataset(data.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"x": torch.tensor(XS[i]), "y": float(YS[i])}

    for batch in data.DataLoader(DictDataset(), batch_size=3):
        out.append([sorted(batch), list(batch["x"].shape), batch["y"].tolist(), str(batch["y"].dtype).split(".")[1]])
    return out


def test_dataloader_idioms():
    same_on_both(dataloader_program)


def module_tools_program(torch):
    nn = torch.nn
    model = make_mlp(torch)
    activations = {}

    def save_activation(name):
        def hook(module, inputs, output):
            activations[name] = output.detach().sum().item()
        return hook

    handle = model[1].register_forward_hook(save_activation("relu"))
    model(torch.tensor(XS))
    handle.remove()
    model(torch.tensor(XS) * 2)
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    x.register_hook(lambda grad: grad * 2)
    (x * 3).sum().backward()
    h = torch.tensor(XV[:2], dtype=torch.float64)
    nn.ReLU(inplace=True)(h)
    model.append(nn.Softmax(dim=1))
    appended = model(torch.tensor(XV)).sum(1).tolist()
    del model[3]
    layers = nn.ModuleList([nn.Linear(2, 2)])
    layers.extend([nn.ReLU(), nn.Tanh()])
    return [activations, x.grad.tolist(), h.tolist(), appended, len(model), [type(m).__name__ for m in model],
            len(layers), type(layers[-1]).__name__, [n for n, _ in model.named_children()],
            repr(model.load_state_dict(model.state_dict()))]


def test_hooks_inplace_activations_and_containers():
    same_on_both(module_tools_program)


def save_values_program(torch, tmp_dir):
    path = f"{tmp_dir}/{torch.__name__}.pt"
    w = torch.tensor([1.0, 2.0], dtype=torch.float64)
    torch.save({"epoch": 3, "history": [0.5, 0.25, float("inf")], "config": {"lr": 0.1, "betas": (0.9, 0.99)},
                "name": "mlp", "none": None, 0: "zero", "w": w, "w_again": w, "loss": torch.tensor(0.125)}, path)
    back = torch.load(path)
    return [list(back), back["epoch"], back["history"], back["config"], back["name"], back["none"], back[0],
            back["w"].tolist(), back["w"] is back["w_again"], back["loss"].item(),
            type(back["config"]["betas"]).__name__]


def test_save_and_load_plain_values(tmp_path):
    same_on_both(save_values_program, str(tmp_path))


# -- state dicts -----------------------------------------------------------------------------


def state_dict_program(torch):
    model = make_mlp(torch)
    sd = model.state_dict()
    other = make_mlp(torch, hidden=8)
    init_weights(torch, other, seed=5)
    result = other.load_state_dict(sd)
    with torch.no_grad():
        model[0].bias.fill_(3.0)  # the loaded model holds copies
    partial = dict(sd)
    del partial["2.bias"]
    partial["extra.weight"] = torch.zeros(1)
    r = make_mlp(torch).load_state_dict(partial, strict=False)
    as_float32 = {k: v.float() for k, v in sd.items()}
    third = make_mlp(torch)
    third.load_state_dict(as_float32)
    return [list(sd), [v.requires_grad for v in sd.values()], list(result.missing_keys), other[0].bias.tolist(),
            list(r.missing_keys), list(r.unexpected_keys), str(third[0].weight.dtype).split(".")[1],
            [v.requires_grad for v in model.state_dict(keep_vars=True).values()]]


def test_state_dict_round_trip():
    same_on_both(state_dict_program)


def _missing_key(torch):
    model = make_mlp(torch)
    sd = model.state_dict()
    del sd["0.bias"]
    model.load_state_dict(sd)


def _wrong_shape(torch):
    model = make_mlp(torch)
    sd = model.state_dict()
    sd["0.bias"] = torch.zeros(3, dtype=torch.float64)
    model.load_state_dict(sd)


def _backward_non_scalar(torch):
    (torch.tensor(XV, requires_grad=True) * 2).backward()


def _inplace_on_leaf(torch):
    torch.nn.Linear(2, 2).weight.add_(1.0)


def _numpy_of_requires_grad(torch):
    torch.tensor(XV, requires_grad=True).numpy()


def _backward_twice(torch):
    y = torch.tensor(XV, requires_grad=True).exp().sum()
    y.backward()
    y.backward()


def _item_of_many(torch):
    torch.tensor(XV).sum(0).item()


def _integer_requires_grad(torch):
    torch.tensor([1, 2], requires_grad=True)


def _bad_view(torch):
    torch.tensor(XV).view(5, -1)


def _cat_mismatch(torch):
    torch.cat([torch.zeros(2, 3), torch.zeros(3, 2)], dim=0)


def _matmul_mismatch(torch):
    torch.tensor(XV) @ torch.tensor(XV)


def _cross_entropy_target_out_of_range(torch):
    torch.nn.functional.cross_entropy(torch.tensor(XV[:, :3]), torch.tensor([0, 1, 9] * 4))


def _mean_of_integers(torch):
    torch.tensor([1, 2, 3]).mean()


def _dim_out_of_range(torch):
    torch.tensor(XV).sum(dim=2)


def _ambiguous_bool(torch):
    if torch.tensor([1.0, 2.0]) > 0:
        pass


@pytest.mark.parametrize("program", [_missing_key, _wrong_shape, _backward_non_scalar, _inplace_on_leaf,
                                     _numpy_of_requires_grad, _backward_twice, _item_of_many, _integer_requires_grad,
                                     _bad_view, _cat_mismatch, _matmul_mismatch, _cross_entropy_target_out_of_range,
                                     _mean_of_integers, _dim_out_of_range, _ambiguous_bool],
                         ids=lambda f: f.__name__.strip("_"))
def test_same_exception_as_torch(program):
    raises_same(program)


# -- reductions of bool tensors, and views that share memory with parameters --------------------


def reductions_along_dim_program(torch):
    x = torch.tensor(XV)
    return [(x > 0).all(dim=1).tolist(), (x > 0).any(1).tolist(), (x > -3).all().item(),
            torch.all(x > 0, dim=0).tolist(), torch.any(x > 0, 1, keepdim=True).tolist()]


def test_all_and_any_along_a_dim():
    same_on_both(reductions_along_dim_program)


def aliasing_program(torch):
    """state_dict() values, detach() and numpy() share memory with the parameters, through optimizer steps,
    whether they were taken before the optimizer existed or after."""
    model = make_mlp(torch)
    sd = model.state_dict()
    detached = model[0].weight.detach()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    array = model[2].bias.detach().numpy()
    x, y = torch.tensor(XS), torch.tensor(YS)
    for _ in range(2):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    return [(sd["0.weight"] - model[0].weight).abs().max().item(), (detached - model[0].weight).abs().max().item(),
            float(np.abs(array - model[2].bias.detach().numpy()).max())]


def test_views_of_parameters_follow_optimizer_steps():
    same_on_both(aliasing_program)
