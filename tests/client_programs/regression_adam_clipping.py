"""Fit a noisy nonlinear function of 6 inputs with an MLP, under two learning-rate schedules.

Exercises synthetic data from torch.randn/torch.rand, nn.Sequential with Tanh, nn.MSELoss, optim.Adam with
weight_decay, StepLR and MultiStepLR (scheduler.step() once per epoch, get_last_lr()), mini-batches drawn with
torch.randperm, gradient clipping with nn.utils.clip_grad_norm_ (and the total norm it returns), and a held-out
validation loss under torch.no_grad().
"""

import torch
import torch.nn as nn
from torch.optim.lr_scheduler import MultiStepLR, StepLR

torch.manual_seed(7)

n_samples, n_features = 600, 6
x = torch.randn(n_samples, n_features)
true_w = torch.rand(n_features) * 2 - 1
# target: a smooth nonlinear function of the inputs plus a little noise
y = torch.sin(x @ true_w).unsqueeze(1) + 0.5 * x[:, :1] * x[:, 1:2] + 0.05 * torch.randn(n_samples, 1)
x_train, y_train = x[:500], y[:500]
x_val, y_val = x[500:], y[500:]


def make_model():
    return nn.Sequential(nn.Linear(n_features, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))


def train(model, optimizer, scheduler, epochs, batch_size=50, max_norm=1.0):
    loss_fn = nn.MSELoss()
    for epoch in range(epochs):
        order = torch.randperm(len(x_train))
        clipped = 0
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            loss.backward()
            total_norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            if total_norm > max_norm:
                clipped += 1
            optimizer.step()
        scheduler.step()
        with torch.no_grad():
            val_loss = loss_fn(model(x_val), y_val)
        print(f"  epoch {epoch}: last batch loss {loss.item():.6f}, grad norm {total_norm.item():.5f}, "
              f"clipped {clipped} batches, val loss {val_loss.item():.6f}, next lr {scheduler.get_last_lr()[0]:.6f}")
    return val_loss.item()


print("Adam + StepLR")
model = make_model()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-4)
step_val = train(model, optimizer, StepLR(optimizer, step_size=3, gamma=0.5), epochs=8)

print("Adam + MultiStepLR")
model = make_model()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.85, 0.99), weight_decay=1e-3)
multi_val = train(model, optimizer, MultiStepLR(optimizer, milestones=[2, 5], gamma=0.3), epochs=8, max_norm=0.5)

print(f"validation loss: StepLR {step_val:.6f}, MultiStepLR {multi_val:.6f}")
