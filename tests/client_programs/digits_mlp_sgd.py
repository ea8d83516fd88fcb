"""Classify scikit-learn's bundled 8x8 digits with a two-layer MLP.

Exercises nn.Sequential of Linear/ReLU layers, nn.CrossEntropyLoss, optim.SGD with momentum and Nesterov, a
DataLoader with shuffle=True over a TensorDataset, switching between model.train() and model.eval(), evaluation under
torch.no_grad(), and accuracy counted from logits.argmax(dim=1) == labels.
"""

import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

digits = load_digits()
features = torch.tensor(digits.data / 16.0, dtype=torch.float32)  # pixel values 0..16 scaled to [0, 1]
labels = torch.tensor(digits.target)
x_train, y_train = features[:1400], labels[:1400]
x_test, y_test = features[1400:], labels[1400:]

train_loader = DataLoader(TensorDataset(x_train, y_train), batch_size=64, shuffle=True)

model = nn.Sequential(
    nn.Linear(64, 48),
    nn.ReLU(),
    nn.Linear(48, 10),
)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)


def evaluate(x, y):
    model.eval()
    with torch.no_grad():
        logits = model(x)
        loss = criterion(logits, y)
        correct = (logits.argmax(dim=1) == y).sum().item()
    return loss.item(), correct


for epoch in range(4):
    model.train()
    total, seen = 0.0, 0
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
        # weight each batch by its size: the last batch is smaller
        total += loss.item() * xb.shape[0]
        seen += xb.shape[0]
    test_loss, correct = evaluate(x_test, y_test)
    print(f"epoch {epoch}: train loss {total / seen:.5f}  test loss {test_loss:.5f}  "
          f"test accuracy {correct}/{len(y_test)} ({100.0 * correct / len(y_test):.2f}%)")

train_loss, train_correct = evaluate(x_train, y_train)
print(f"final train loss {train_loss:.5f}, train accuracy {train_correct / len(y_train):.4f}")
