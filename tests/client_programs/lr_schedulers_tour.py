"""Drive one small regression model through the common learning-rate schedulers, printing the rate as it changes.

Exercises OneCycleLR (per-batch stepping, with momentum cycling on SGD), CyclicLR (triangular2, with momentum
cycling), CosineAnnealingLR with eta_min, LinearLR warm-up chained into ExponentialLR by SequentialLR, and
ReduceLROnPlateau stepped with a validation loss; scheduler.get_last_lr(), optimizer.param_groups[0]["lr"] and
["momentum"], and the order optimizer.step() then scheduler.step().
"""

import torch
import torch.nn as nn
from torch.optim import SGD, Adam
from torch.optim.lr_scheduler import (
    CosineAnnealingLR,
    CyclicLR,
    ExponentialLR,
    LinearLR,
    OneCycleLR,
    ReduceLROnPlateau,
    SequentialLR,
)

torch.manual_seed(11)

x = torch.randn(256, 4)
y = (x[:, :1] - 2 * x[:, 1:2]).tanh() + 0.3 * x[:, 2:3] ** 2
x_val = torch.randn(64, 4)
y_val = (x_val[:, :1] - 2 * x_val[:, 1:2]).tanh() + 0.3 * x_val[:, 2:3] ** 2
batches = [(x[i:i + 32], y[i:i + 32]) for i in range(0, 256, 32)]
loss_fn = nn.MSELoss()


def fresh_model():
    return nn.Sequential(nn.Linear(4, 24), nn.SiLU(), nn.Linear(24, 1))


def one_epoch(model, optimizer, scheduler=None):
    """One pass over the batches; a scheduler given here is stepped after every batch."""
    for xb, yb in batches:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
    return loss.item()


def validate(model):
    with torch.no_grad():
        return loss_fn(model(x_val), y_val).item()


print("OneCycleLR, stepped per batch")
model = fresh_model()
optimizer = SGD(model.parameters(), lr=0.01, momentum=0.9)
scheduler = OneCycleLR(optimizer, max_lr=0.1, epochs=4, steps_per_epoch=len(batches))
for epoch in range(4):
    loss = one_epoch(model, optimizer, scheduler)
    group = optimizer.param_groups[0]
    print(f"  epoch {epoch}: loss {loss:.6f}, lr {scheduler.get_last_lr()[0]:.6f}, momentum {group['momentum']:.4f}")

print("CyclicLR triangular2, stepped per batch")
model = fresh_model()
optimizer = SGD(model.parameters(), lr=0.01, momentum=0.8)
scheduler = CyclicLR(optimizer, base_lr=0.005, max_lr=0.05, step_size_up=6, mode="triangular2")
lrs = []
for epoch in range(3):
    for xb, yb in batches:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    print(f"  epoch {epoch}: loss {loss.item():.6f}, val {validate(model):.6f}")
print("  lr per batch: " + " ".join(f"{lr:.4f}" for lr in lrs))

print("CosineAnnealingLR, stepped per epoch")
model = fresh_model()
optimizer = Adam(model.parameters(), lr=0.02)
scheduler = CosineAnnealingLR(optimizer, T_max=6, eta_min=0.001)
for epoch in range(6):
    loss = one_epoch(model, optimizer)
    scheduler.step()
    print(f"  epoch {epoch}: loss {loss:.6f}, next lr {scheduler.get_last_lr()[0]:.6f}")

print("LinearLR warm-up, then ExponentialLR (SequentialLR)")
model = fresh_model()
optimizer = SGD(model.parameters(), lr=0.1)
warmup = LinearLR(optimizer, start_factor=0.2, end_factor=1.0, total_iters=3)
decay = ExponentialLR(optimizer, gamma=0.8)
scheduler = SequentialLR(optimizer, schedulers=[warmup, decay], milestones=[3])
for epoch in range(7):
    lr_used = optimizer.param_groups[0]["lr"]
    loss = one_epoch(model, optimizer)
    scheduler.step()
    print(f"  epoch {epoch}: lr used {lr_used:.6f}, loss {loss:.6f}")

print("ReduceLROnPlateau on the validation loss")
model = fresh_model()
optimizer = SGD(model.parameters(), lr=0.3)
# an improvement under 5% counts as no improvement, so the plateau comes within a few epochs
scheduler = ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=1, threshold=0.05, cooldown=1)
for epoch in range(12):
    one_epoch(model, optimizer)
    val_loss = validate(model)
    scheduler.step(val_loss)
    print(f"  epoch {epoch}: val loss {val_loss:.6f}, lr now {optimizer.param_groups[0]['lr']:.6f}")
