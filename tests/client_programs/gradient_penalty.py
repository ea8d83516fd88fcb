"""Second-order gradients: a critic trained with a gradient penalty, plus a few derivatives checked by hand.

The critic separates samples of a 2-D "real" distribution from a fixed "fake" one while the norm of its input
gradient is pushed towards 1 on points interpolated between the two (the gradient penalty used for Wasserstein
critics). Exercises torch.autograd.grad with create_graph=True and grad_outputs, backpropagating through a gradient,
torch.rand interpolation weights, nn.Softplus / nn.Tanh (nonzero second derivatives), optim.Adam with custom betas,
and second and third derivatives of a scalar function taken by repeated autograd.grad calls.
"""

import torch
import torch.nn as nn

torch.manual_seed(12)

# d/dx and d2/dx2 of x^3 * sin(x) at a few points, against the formulas
x = torch.tensor([0.5, 1.0, -2.0], requires_grad=True)
f = x ** 3 * torch.sin(x)
(df,) = torch.autograd.grad(f.sum(), x, create_graph=True)
(d2f,) = torch.autograd.grad(df.sum(), x, create_graph=True)
(d3f,) = torch.autograd.grad(d2f.sum(), x)
with torch.no_grad():
    d2f_formula = 6 * x * torch.sin(x) + 6 * x ** 2 * torch.cos(x) - x ** 3 * torch.sin(x)
print(f"f'   {[round(v, 5) for v in df.tolist()]}")
print(f"f''  {[round(v, 5) for v in d2f.tolist()]} (formula {[round(v, 5) for v in d2f_formula.tolist()]})")
print(f"f''' {[round(v, 4) for v in d3f.tolist()]}")

real = torch.randn(256, 2) * 0.5 + torch.tensor([2.0, 1.0])
fake = torch.randn(256, 2) * 0.8

critic = nn.Sequential(nn.Linear(2, 32), nn.Softplus(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))
optimizer = torch.optim.Adam(critic.parameters(), lr=0.005, betas=(0.5, 0.9))
penalty_weight = 5.0


def gradient_penalty(critic, real, fake):
    alpha = torch.rand(real.shape[0], 1)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    scores = critic(mixed)
    (grads,) = torch.autograd.grad(outputs=scores, inputs=mixed, grad_outputs=torch.ones_like(scores),
                                   create_graph=True)
    return ((grads.norm(2, dim=1) - 1) ** 2).mean(), grads.norm(2, dim=1).mean()


for step in range(50):
    optimizer.zero_grad()
    distance = critic(real).mean() - critic(fake).mean()
    penalty, mean_norm = gradient_penalty(critic, real, fake)
    loss = -distance + penalty_weight * penalty
    loss.backward()
    optimizer.step()
    if step % 10 == 0 or step == 49:
        print(f"step {step:2d}: distance {distance.item():.6f}, penalty {penalty.item():.6f}, "
              f"mean grad norm {mean_norm.item():.5f}")

# the penalty depends on the weights only through the input gradient, so its weight gradient is second-order
critic.zero_grad()
penalty, _ = gradient_penalty(critic, real, fake)
penalty.backward()
print(f"penalty alone: {penalty.item():.6f}, first-layer weight grad norm {critic[0].weight.grad.norm().item():.6f}")
