"""A two-layer softmax classifier trained with raw tensors and autograd only, no nn and no optim.

Exercises leaf tensors created with requires_grad=True and with .requires_grad_(), matrix products with @,
a numerically stable log-softmax written out (max subtraction, exp, log, sum with keepdim), gathering the target
log-probabilities with advanced indexing, loss.backward(), manual SGD with momentum updates in place under
torch.no_grad(), .grad.zero_(), checking that .grad is None before the first backward, and detach().
"""

import torch

torch.manual_seed(9)

n, d, hidden, classes = 200, 6, 16, 3
x = torch.randn(n, d)
teacher = torch.randn(d, classes)
y = (x @ teacher + 0.3 * torch.randn(n, classes)).argmax(dim=1)

w1 = (torch.randn(d, hidden) / d ** 0.5).requires_grad_()
b1 = torch.zeros(hidden, requires_grad=True)
w2 = (torch.randn(hidden, classes) / hidden ** 0.5).requires_grad_()
b2 = torch.zeros(classes, requires_grad=True)
params = [w1, b1, w2, b2]
velocity = [torch.zeros_like(p) for p in params]
print(f"before any backward, w1.grad is None: {w1.grad is None}")


def forward(inputs):
    h = torch.tanh(inputs @ w1 + b1)
    logits = h @ w2 + b2
    shifted = logits - logits.max(dim=1, keepdim=True).values
    return shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))


lr, momentum = 0.3, 0.8
for step in range(80):
    log_probs = forward(x)
    loss = -log_probs[torch.arange(n), y].mean()
    loss.backward()
    with torch.no_grad():
        for p, v in zip(params, velocity):
            v.mul_(momentum).add_(p.grad)
            p -= lr * v
            p.grad.zero_()
    if step % 10 == 0:
        accuracy = (log_probs.detach().argmax(dim=1) == y).float().mean().item()
        print(f"step {step:2d}: loss {loss.item():.6f}, accuracy {accuracy:.3f}, |w1| {w1.norm().item():.5f}")

# the gradients were zeroed in place, not replaced
print(f"after training: w2.grad is zero {bool((w2.grad == 0).all())}, w2 requires grad {w2.requires_grad}")
with torch.no_grad():
    final = -forward(x)[torch.arange(n), y].mean()
print(f"final loss {final.item():.6f}, b2 {[round(v, 5) for v in b2.tolist()]}")
