"""Hand-written autograd Functions inside a model: a swish activation and a scaled soft-threshold.

Exercises subclassing torch.autograd.Function with static forward/backward, ctx.save_for_backward and
ctx.saved_tensors, a non-tensor argument kept on ctx (whose gradient is None), ctx.needs_input_grad, Function.apply
inside an nn.Module's forward, checking the backward against finite differences with torch.autograd.gradcheck in
float64, and training the model with optim.SGD and nn.BCEWithLogitsLoss.
"""

import torch
import torch.nn as nn


class Swish(torch.autograd.Function):
    """x * sigmoid(x), with the derivative written out by hand."""

    @staticmethod
    def forward(ctx, x):
        s = torch.sigmoid(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad_output):
        x, s = ctx.saved_tensors
        return grad_output * (s + x * s * (1 - s))


class SoftShrink(torch.autograd.Function):
    """Shrinks values towards zero by `lam` (zero inside [-lam, lam]), then scales by a learnable factor."""

    @staticmethod
    def forward(ctx, x, scale, lam):
        shrunk = torch.sign(x) * torch.clamp(x.abs() - lam, min=0.0)
        ctx.save_for_backward(x, scale, shrunk)
        ctx.lam = lam
        return scale * shrunk

    @staticmethod
    def backward(ctx, grad_output):
        x, scale, shrunk = ctx.saved_tensors
        grad_x = grad_scale = None
        if ctx.needs_input_grad[0]:
            grad_x = grad_output * scale * (x.abs() > ctx.lam).to(grad_output.dtype)
        if ctx.needs_input_grad[1]:
            # scale is a 1-element parameter broadcast over the batch: sum the gradient back to its shape
            grad_scale = (grad_output * shrunk).sum().reshape(scale.shape)
        return grad_x, grad_scale, None  # no gradient for the float lam


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(5, 20)
        self.out = nn.Linear(20, 1)
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        h = Swish.apply(self.hidden(x))
        h = SoftShrink.apply(h, self.scale, 0.1)
        return self.out(h)


torch.manual_seed(5)

# the hand-written backward passes agree with finite differences
x64 = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
scale64 = torch.tensor([1.5], dtype=torch.float64, requires_grad=True)
print(f"gradcheck Swish: {torch.autograd.gradcheck(Swish.apply, (x64,))}")
print(f"gradcheck SoftShrink: {torch.autograd.gradcheck(lambda a, b: SoftShrink.apply(a, b, 0.1), (x64, scale64))}")

x = torch.randn(300, 5)
# label: which side of a curved boundary the point lies on
y = ((x[:, 0] * x[:, 1] + x[:, 2] - 0.5 * x[:, 3] ** 2) > 0).float().unsqueeze(1)

model = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.5)
loss_fn = nn.BCEWithLogitsLoss()
for step in range(60):
    optimizer.zero_grad()
    logits = model(x)
    loss = loss_fn(logits, y)
    loss.backward()
    optimizer.step()
    if step % 10 == 0 or step == 59:
        accuracy = ((logits > 0).float() == y).float().mean()
        print(f"step {step}: loss {loss.item():.6f}, accuracy {accuracy.item():.4f}, scale {model.scale.item():.6f}")

# the input gradient flows through both Functions
probe = x[:3].clone().requires_grad_(True)
model(probe).sum().backward()
print("input gradient row 0:", [round(v, 5) for v in probe.grad[0].tolist()])
