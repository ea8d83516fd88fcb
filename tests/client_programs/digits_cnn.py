"""A small convolutional network on scikit-learn's 8x8 digits, reshaped to 1x8x8 images.

Exercises nn.Conv2d (with padding), nn.MaxPool2d, F.relu, flattening both with nn.Flatten inside nn.Sequential and
with x.view(x.size(0), -1) in a forward method, nn.NLLLoss on F.log_softmax, optim.Adadelta for one model and
optim.SGD with momentum for the other, DataLoader(shuffle=True) batches, and per-class accuracy through boolean
masks.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(8)

digits = load_digits()
images = torch.from_numpy(digits.images).float().unsqueeze(1) / 16.0  # (N, 1, 8, 8)
images = (images - images.mean()) / images.std()
targets = torch.from_numpy(digits.target).long()
train_set = TensorDataset(images[:1500], targets[:1500])
x_test, y_test = images[1500:], targets[1500:]
print(f"train images {tuple(train_set[0][0].shape)}, {len(train_set)} of them; test {tuple(x_test.shape)}")


class DigitNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(16 * 2 * 2, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))  # 8 x 4 x 4
        x = self.pool(F.relu(self.conv2(x)))  # 16 x 2 x 2
        x = x.view(x.size(0), -1)
        return F.log_softmax(self.fc(x), dim=1)


sequential_net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=3),  # 6 x 6 x 6
    nn.ReLU(),
    nn.MaxPool2d(kernel_size=2, stride=2),  # 6 x 3 x 3
    nn.Flatten(),
    nn.Linear(6 * 3 * 3, 10),
    nn.LogSoftmax(dim=1),
)

digit_net = DigitNet()
setups = [
    ("DigitNet + Adadelta", digit_net, torch.optim.Adadelta(digit_net.parameters(), lr=1.0)),
    ("Sequential + SGD", sequential_net, torch.optim.SGD(sequential_net.parameters(), lr=0.05, momentum=0.9)),
]
loss_fn = nn.NLLLoss()
for name, model, optimizer in setups:
    loader = DataLoader(train_set, batch_size=50, shuffle=True)
    for epoch in range(2):
        model.train()
        total = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item()
        model.eval()
        with torch.no_grad():
            log_probs = model(x_test)
            test_loss = F.nll_loss(log_probs, y_test, reduction="sum").item() / len(y_test)
            predicted = log_probs.argmax(dim=1)
        correct = predicted.eq(y_test).sum().item()
        print(f"{name} epoch {epoch}: train loss {total / len(loader):.5f}, test loss {test_loss:.5f}, "
              f"accuracy {correct}/{len(y_test)}")
    per_class = [(predicted[y_test == c] == c).float().mean().item() for c in range(10)]
    print(f"{name} per-class accuracy: " + " ".join(f"{a:.2f}" for a in per_class))
