"""Save a training run to disk half-way, resume it in a fresh model and optimizer, and check it continues exactly.

Exercises torch.save / torch.load of a checkpoint dict holding model.state_dict(), optimizer.state_dict() (Adam's
moments and step counts), a StepLR scheduler's state_dict() and plain Python values, in a tempfile directory;
load_state_dict on a freshly built model, optimizer and scheduler; saving and loading a single tensor; and that the
resumed run ends on bit-identical parameters to the uninterrupted one.
"""

import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(4)
x = torch.randn(320, 8)
y = torch.randint(0, 3, (320,))
x[torch.arange(320), y] += 2.0  # make the classes separable enough to learn
# the batch order of every epoch is drawn up front, so both runs see the same batches
orders = [torch.randperm(320) for _ in range(6)]


def build():
    model = nn.Sequential(nn.Linear(8, 24), nn.ReLU(), nn.Linear(24, 3))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    return model, optimizer, scheduler


def train_epoch(model, optimizer, scheduler, epoch):
    total = 0.0
    for i in range(0, 320, 32):
        idx = orders[epoch][i:i + 32]
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x[idx]), y[idx])
        loss.backward()
        optimizer.step()
        total += loss.item()
    scheduler.step()
    return total / 10


with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "checkpoint.pt")

    model, optimizer, scheduler = build()
    for epoch in range(3):
        print(f"run A epoch {epoch}: loss {train_epoch(model, optimizer, scheduler, epoch):.6f}")
    torch.save({
        "epoch": 3,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
    }, path)
    for epoch in range(3, 6):
        print(f"run A epoch {epoch}: loss {train_epoch(model, optimizer, scheduler, epoch):.6f}, "
              f"lr {scheduler.get_last_lr()[0]:.5f}")

    # a new process would start here: nothing is shared with run A but the file
    model_b, optimizer_b, scheduler_b = build()
    checkpoint = torch.load(path)
    model_b.load_state_dict(checkpoint["model"])
    optimizer_b.load_state_dict(checkpoint["optimizer"])
    scheduler_b.load_state_dict(checkpoint["scheduler"])
    adam_state = optimizer_b.state_dict()["state"][0]
    print(f"resumed at epoch {checkpoint['epoch']}, Adam step {int(adam_state['step'])}, "
          f"lr {scheduler_b.get_last_lr()[0]:.5f}, exp_avg_sq sum {adam_state['exp_avg_sq'].sum().item():.6e}")
    for epoch in range(checkpoint["epoch"], 6):
        print(f"run B epoch {epoch}: loss {train_epoch(model_b, optimizer_b, scheduler_b, epoch):.6f}, "
              f"lr {scheduler_b.get_last_lr()[0]:.5f}")

    diff = max((a - b).abs().max().item() for a, b in zip(model.parameters(), model_b.parameters()))
    print(f"largest parameter difference between run A and run B: {diff}")

    # a single tensor round-trips too
    weights_path = os.path.join(tmp, "first_layer.pt")
    torch.save(model_b[0].weight.detach(), weights_path)
    loaded = torch.load(weights_path)
    print(f"saved tensor: shape {tuple(loaded.shape)}, equal {torch.equal(loaded, model_b[0].weight)}")

    with torch.no_grad():
        accuracy = (model_b(x).argmax(dim=1) == y).float().mean().item()
    print(f"final accuracy {accuracy:.4f}")
