"""Train the same small classifier from the same starting weights with each optimizer in torch.optim.

Exercises SGD (plain, momentum with dampening, weight decay), Rprop, Adagrad, RMSprop (momentum, centered),
Adam (amsgrad), AdamW, NAdam and Adadelta; restoring the initial weights with copy.deepcopy(model.state_dict()) and
model.load_state_dict() between runs, a deep copy of the whole model with copy.deepcopy, optimizer.zero_grad(),
and reading the optimizer's state_dict (the number of parameters with state, the step count).
"""

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(3)

# three Gaussian blobs in 10 dimensions
centers = torch.randn(3, 10) * 1.5
labels = torch.randint(0, 3, (240,))
inputs = centers[labels] + torch.randn(240, 10)

model = nn.Sequential(nn.Linear(10, 16), nn.Tanh(), nn.Linear(16, 3))
with torch.no_grad():
    print(f"loss at the start: {F.cross_entropy(model(inputs), labels).item():.6f}")
initial_state = copy.deepcopy(model.state_dict())

optimizers = {
    "SGD": lambda p: torch.optim.SGD(p, lr=0.1),
    "SGD momentum": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=1e-3),
    "Rprop": lambda p: torch.optim.Rprop(p, lr=0.01, etas=(0.5, 1.2), step_sizes=(1e-6, 1.0)),
    "Adagrad": lambda p: torch.optim.Adagrad(p, lr=0.1, lr_decay=1e-3, initial_accumulator_value=0.1),
    "RMSprop": lambda p: torch.optim.RMSprop(p, lr=0.005, alpha=0.9, momentum=0.5, centered=True),
    "Adam amsgrad": lambda p: torch.optim.Adam(p, lr=0.02, amsgrad=True),
    "AdamW": lambda p: torch.optim.AdamW(p, lr=0.02, weight_decay=0.05),
    "NAdam": lambda p: torch.optim.NAdam(p, lr=0.02),
    "Adadelta": lambda p: torch.optim.Adadelta(p, lr=1.0, rho=0.9),
}

final_losses = {}
for name, make_optimizer in optimizers.items():
    model.load_state_dict(initial_state)
    optimizer = make_optimizer(model.parameters())
    for step in range(30):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(inputs), labels)
        loss.backward()
        optimizer.step()
        if step % 10 == 0:
            print(f"{name:>12} step {step:2d}: loss {loss.item():.6f}")
    with torch.no_grad():
        logits = model(inputs)
        final_losses[name] = F.cross_entropy(logits, labels).item()
        accuracy = (logits.argmax(dim=1) == labels).float().mean().item()
    # plain SGD keeps no state; SGD with momentum keeps a buffer but no step count
    state = optimizer.state_dict()["state"]
    first = state.get(0, {})
    steps = int(first["step"]) if "step" in first else "-"
    weight_size = sum(p.abs().sum() for p in model.parameters()).item()
    print(f"{name:>12} final: loss {final_losses[name]:.6f}, accuracy {accuracy:.4f}, sum |w| {weight_size:.5f}, "
          f"state for {len(state)} parameters, step count {steps}")

best = min(final_losses, key=final_losses.get)
print(f"lowest final loss: {best} ({final_losses[best]:.6f})")

# a deep copy trains independently of the original
model.load_state_dict(initial_state)
twin = copy.deepcopy(model)
opt = torch.optim.SGD(twin.parameters(), lr=0.5)
for _ in range(5):
    opt.zero_grad()
    F.cross_entropy(twin(inputs), labels).backward()
    opt.step()
moved = sum((a - b).abs().sum() for a, b in zip(twin.parameters(), model.parameters()))
print(f"twin moved by {moved.item():.5f}; original still at the start: "
      f"{all(torch.equal(p, initial_state[k]) for k, p in model.state_dict().items())}")
