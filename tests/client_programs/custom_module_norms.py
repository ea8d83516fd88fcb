"""A residual MLP written as an nn.Module subclass, with normalization, dropout and a choice of activations.

Exercises nn.ModuleList of blocks, nn.ModuleDict of activations picked by name (GELU, SiLU, LeakyReLU), BatchNorm1d
(running statistics and num_batches_tracked, train vs eval behaviour), LayerNorm, Dropout, residual connections,
register_buffer for a fixed input normalization, named_parameters / parameter counting, optim.AdamW, and
evaluation in eval mode under torch.no_grad().
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, width, activation, p_drop):
        super().__init__()
        # no bias: BatchNorm subtracts the batch mean, so a bias here would get only rounding noise as its
        # gradient, which AdamW would then scale up into full-size steps
        self.linear = nn.Linear(width, width, bias=False)
        self.norm = nn.BatchNorm1d(width)
        self.activation = activation
        self.drop = nn.Dropout(p_drop)

    def forward(self, x):
        return x + self.drop(self.activation(self.norm(self.linear(x))))


class ResidualMLP(nn.Module):
    def __init__(self, n_in, width, n_classes, activations, mean, std):
        super().__init__()
        # stored with the model (and in its state_dict) but not trained
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)
        self.stem = nn.Linear(n_in, width)
        self.acts = nn.ModuleDict({
            "gelu": nn.GELU(),
            "silu": nn.SiLU(),
            "leaky": nn.LeakyReLU(0.05),
        })
        self.blocks = nn.ModuleList([Block(width, self.acts[name], 0.1) for name in activations])
        self.final_norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, n_classes)

    def forward(self, x):
        x = self.stem((x - self.mean) / self.std)
        for block in self.blocks:
            x = block(x)
        return self.head(self.acts["gelu"](self.final_norm(x)))


torch.manual_seed(2)
n_classes = 4
x = torch.randn(512, 12) * 3 + 1
# four classes from the signs of two random projections
proj = torch.randn(12, 2)
y = ((x - 1) @ proj > 0).long() @ torch.tensor([1, 2])
x_train, y_train, x_test, y_test = x[:400], y[:400], x[400:], y[400:]

model = ResidualMLP(12, 32, n_classes, ["gelu", "silu", "leaky"], x_train.mean(dim=0), x_train.std(dim=0))
n_params = sum(p.numel() for p in model.parameters())
print(f"{len(list(model.named_parameters()))} parameter tensors, {n_params} numbers; "
      f"{len(model.state_dict())} state entries")

optimizer = torch.optim.AdamW(model.parameters(), lr=0.005, weight_decay=0.02)
for epoch in range(5):
    model.train()
    perm = torch.randperm(400)
    for i in range(0, 400, 40):
        idx = perm[i:i + 40]
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        test_logits = model(x_test)
        test_loss = F.cross_entropy(test_logits, y_test)
        accuracy = (test_logits.argmax(dim=1) == y_test).float().mean()
    print(f"epoch {epoch}: last train loss {loss.item():.6f}, test loss {test_loss.item():.6f}, "
          f"test accuracy {accuracy.item():.4f}")

bn = model.blocks[0].norm
print(f"first BatchNorm: {int(bn.num_batches_tracked)} batches tracked, running mean[:3] "
      f"{[round(v, 5) for v in bn.running_mean[:3].tolist()]}, running var[:3] "
      f"{[round(v, 5) for v in bn.running_var[:3].tolist()]}")

# in eval mode the output does not depend on the rest of the batch; in train mode it does
with torch.no_grad():
    alone = model(x_test[:1])
    with_others = model(x_test[:8])[:1]
    print(f"eval: same output alone and in a batch: {torch.allclose(alone, with_others, atol=1e-6)}")
    model.train()
    print(f"train: same output alone and in a batch: {torch.allclose(model(x_test[:2])[:1], model(x_test[:8])[:1])}")
