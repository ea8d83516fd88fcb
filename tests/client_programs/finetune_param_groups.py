"""Pretrain a small network on one task, then fine-tune it on an imbalanced binary task with a frozen backbone.

Exercises custom initialization through model.apply with nn.init.kaiming_normal_ / xavier_uniform_ / zeros_,
freezing with requires_grad_(False) (frozen parameters get no .grad), optimizer parameter groups with their own lr
and weight_decay, optimizer.add_param_group when the backbone is unfrozen, nn.BCEWithLogitsLoss with pos_weight,
nn.HuberLoss for the pretraining task, torch.sigmoid thresholding, and precision / recall from boolean tensors.
"""

import torch
import torch.nn as nn

torch.manual_seed(13)


def init_weights(module):
    if isinstance(module, nn.Linear):
        if module.out_features == 1:
            nn.init.xavier_uniform_(module.weight)
        else:
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        nn.init.zeros_(module.bias)


backbone = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU())
pretrain_head = nn.Linear(16, 2)
backbone.apply(init_weights)
pretrain_head.apply(init_weights)

# pretraining: regress two smooth functions of the inputs
x = torch.randn(400, 8)
targets = torch.stack([x[:, 0] * x[:, 1], torch.sin(x[:, 2] + x[:, 3])], dim=1)
optimizer = torch.optim.SGD([
    {"params": backbone.parameters()},
    {"params": pretrain_head.parameters(), "lr": 0.05, "weight_decay": 1e-4},
], lr=0.02, momentum=0.9)
huber = nn.HuberLoss(delta=0.5)
for step in range(40):
    optimizer.zero_grad()
    loss = huber(pretrain_head(backbone(x)), targets)
    loss.backward()
    optimizer.step()
    if step % 10 == 9:
        print(f"pretrain step {step}: huber loss {loss.item():.6f}")

# fine-tuning: rare positives (about 1 in 6), so positives are weighted up in the loss
x_ft = torch.randn(300, 8)
y_ft = ((x_ft[:, 0] * x_ft[:, 1] > 0.8) | (x_ft[:, 4] > 1.6)).float().unsqueeze(1)
positives = y_ft.sum()
print(f"fine-tuning set: {int(positives)} positives of {len(y_ft)}")
head = nn.Linear(16, 1)
head.apply(init_weights)
criterion = nn.BCEWithLogitsLoss(pos_weight=(len(y_ft) - positives) / positives)

# drop the gradients left over from pretraining (zero_grad sets them to None), then freeze
backbone.zero_grad()
for p in backbone.parameters():
    p.requires_grad_(False)
optimizer = torch.optim.Adam([{"params": head.parameters(), "lr": 0.05}])


def report(stage, step, loss):
    with torch.no_grad():
        predicted = torch.sigmoid(head(backbone(x_ft))) > 0.5
        actual = y_ft.bool()
        true_pos = (predicted & actual).sum().item()
        precision = true_pos / max(predicted.sum().item(), 1)
        recall = true_pos / actual.sum().item()
    print(f"{stage} step {step}: loss {loss.item():.6f}, precision {precision:.4f}, recall {recall:.4f}")


for step in range(30):
    optimizer.zero_grad()
    loss = criterion(head(backbone(x_ft)), y_ft)
    loss.backward()
    optimizer.step()
    if step % 10 == 9:
        report("frozen", step, loss)
print(f"frozen backbone has no gradients: {all(p.grad is None for p in backbone.parameters())}, "
      f"head bias grad {head.bias.grad.item():.6f}")

for p in backbone.parameters():
    p.requires_grad_(True)
optimizer.add_param_group({"params": backbone.parameters(), "lr": 0.002, "weight_decay": 1e-3})
print("param groups: " + ", ".join(f"lr {g['lr']} wd {g['weight_decay']} ({len(g['params'])} tensors)"
                                   for g in optimizer.param_groups))
for step in range(30):
    optimizer.zero_grad()
    loss = criterion(head(backbone(x_ft)), y_ft)
    loss.backward()
    optimizer.step()
    if step % 10 == 9:
        report("unfrozen", step, loss)
