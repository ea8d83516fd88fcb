"""A bag-of-embeddings classifier for short token sequences, the way a first text model is often written.

Sequences of token ids (0 is padding) are generated at random; the class is decided by which of a few "keyword"
tokens occur most often. Exercises nn.Embedding with padding_idx (its row stays zero and gets no gradient), masked
mean pooling (mask.unsqueeze(-1), sum over the sequence, division by the clamped lengths), F.cross_entropy with
label_smoothing, a Dataset subclass served by DataLoader(shuffle=True), optim.Adam, F.softmax probabilities, and
the nearest neighbours of a token by cosine similarity of the learned embeddings.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

torch.manual_seed(6)

vocab_size, max_len, n_classes = 40, 12, 3
keywords = torch.tensor([[5, 6], [7, 8], [9, 10]])  # two keywords per class


def make_sequences(n):
    tokens = torch.randint(11, vocab_size, (n, max_len))
    lengths = torch.randint(4, max_len + 1, (n,))
    labels = torch.randint(0, n_classes, (n,))
    # plant two or three keywords of the label's class at random positions inside the sequence
    for i in range(n):
        count = 2 + int(torch.randint(0, 2, ()).item())
        positions = torch.randperm(int(lengths[i]))[:count]
        tokens[i, positions] = keywords[labels[i], torch.randint(0, 2, (count,))]
    # one keyword of another class as a distractor
    tokens[:, 0] = keywords[(labels + 1) % n_classes, 0]
    tokens[torch.arange(max_len).unsqueeze(0) >= lengths.unsqueeze(1)] = 0
    return tokens, labels


class Sequences(Dataset):
    def __init__(self, tokens, labels):
        self.tokens, self.labels = tokens, labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.tokens[i], self.labels[i]


class BagClassifier(nn.Module):
    def __init__(self, vocab_size, dim, n_classes):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim, padding_idx=0)
        self.out = nn.Linear(dim, n_classes)

    def forward(self, tokens):
        mask = (tokens != 0).float()
        summed = (self.embed(tokens) * mask.unsqueeze(-1)).sum(dim=1)
        mean = summed / mask.sum(dim=1, keepdim=True).clamp(min=1.0)
        return self.out(mean)


train_tokens, train_labels = make_sequences(400)
test_tokens, test_labels = make_sequences(100)
loader = DataLoader(Sequences(train_tokens, train_labels), batch_size=32, shuffle=True)

model = BagClassifier(vocab_size, 16, n_classes)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
for epoch in range(6):
    total, batches = 0.0, 0
    for tokens, labels in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(tokens), labels, label_smoothing=0.1)
        loss.backward()
        optimizer.step()
        total, batches = total + loss.item(), batches + 1
    with torch.no_grad():
        logits = model(test_tokens)
        test_loss = F.cross_entropy(logits, test_labels)
        accuracy = (logits.argmax(dim=1) == test_labels).float().mean()
    print(f"epoch {epoch}: train loss {total / batches:.6f}, test loss {test_loss.item():.6f}, "
          f"test accuracy {accuracy.item():.2f}")

with torch.no_grad():
    print(f"padding row still zero: {bool((model.embed.weight[0] == 0).all())}")
    probs = F.softmax(model(test_tokens[:2]), dim=1)
    print("first two test probabilities:", [[round(p, 4) for p in row] for row in probs.tolist()])
    table = model.embed.weight[1:]  # leave the padding row out: row i is token i + 1
    similarity = F.cosine_similarity(table, table[5 - 1].unsqueeze(0), dim=1)  # token 5, a keyword of class 0
    print(f"tokens nearest to 5: {(similarity.topk(3).indices + 1).tolist()}")
