"""Attention pooling over variable-size sets of points, written with a broad range of tensor operations.

Each example is a padded set of up to 10 points with 6 features and a per-point group id; the model scores the
points, pools them with a masked softmax, adds per-group sums and the mean of the top-3 scores, and classifies.
Exercises torch.einsum, masked_fill with a boolean mask, torch.logsumexp (dim, keepdim), topk, sort with indices,
cumsum, scatter_add to sum points per group, index_select, chunk / split / cat / stack, unsqueeze / expand /
flatten, where, gather, max(dim).values, clamp, and training all of it with optim.Adam.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(10)

batch, max_points, features, groups = 64, 10, 6, 3
points = torch.randn(batch, max_points, features)
lengths = torch.randint(3, max_points + 1, (batch,))
mask = torch.arange(max_points).unsqueeze(0) < lengths.unsqueeze(1)  # (batch, max_points), True for real points
group_id = torch.randint(0, groups, (batch, max_points))
points = points.masked_fill(~mask.unsqueeze(-1), 0.0)
# label: does the largest first feature among the real points exceed the mean of the second feature
first = points[..., 0].masked_fill(~mask, float("-inf")).max(dim=1).values
second_mean = points[..., 1].sum(dim=1) / lengths
labels = (first > second_mean + 1.0).long()
print(f"{int(mask.sum())} real points, class balance {labels.float().mean().item():.4f}")


class SetClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.query = nn.Parameter(torch.randn(features) * 0.3)
        self.keys = nn.Linear(features, features)
        self.gate = nn.Linear(features, 2 * features)  # split into value and gate halves
        self.head = nn.Linear(features + groups * features + 2, 2)
        # which input features the group sums use, in order
        self.register_buffer("feature_order", torch.tensor([5, 4, 3, 2, 1, 0]))

    def forward(self, x, mask, group_id):
        scores = torch.einsum("bnd,d->bn", self.keys(x), self.query)
        scores = scores.masked_fill(~mask, float("-inf"))
        weights = torch.exp(scores - torch.logsumexp(scores, dim=1, keepdim=True))
        value, gate = self.gate(x).chunk(2, dim=-1)
        pooled = torch.einsum("bn,bnd->bd", weights, value * torch.sigmoid(gate))

        # per-group sums of the (reordered) point features: scatter along the points axis into `groups` slots
        reordered = x.index_select(-1, self.feature_order)
        index = group_id.unsqueeze(-1).expand(-1, -1, features)
        per_group = torch.zeros(x.shape[0], groups, features).scatter_add(1, index, reordered * mask.unsqueeze(-1))

        # mean of the three highest scores and the share of weight they carry
        top_scores, _ = torch.where(mask, scores, torch.full_like(scores, -1e4)).topk(3, dim=1)
        sorted_weights, _ = weights.sort(dim=1, descending=True)
        top3_share = sorted_weights.cumsum(dim=1)[:, 2:3]
        extras = torch.stack([top_scores.clamp(min=-10.0).mean(dim=1), top3_share.squeeze(1)], dim=1)
        return self.head(torch.cat([pooled, per_group.flatten(1), extras], dim=1))


model = SetClassifier()
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
train_idx, test_idx = torch.arange(48), torch.arange(48, 64)
for step in range(40):
    optimizer.zero_grad()
    logits = model(points[train_idx], mask[train_idx], group_id[train_idx])
    loss = F.cross_entropy(logits, labels[train_idx])
    loss.backward()
    optimizer.step()
    if step % 8 == 0:
        print(f"step {step:2d}: loss {loss.item():.6f}, query grad norm {model.query.grad.norm().item():.6f}")

with torch.no_grad():
    logits = model(points[test_idx], mask[test_idx], group_id[test_idx])
    log_probs = F.log_softmax(logits, dim=1)
    picked = log_probs.gather(1, labels[test_idx].unsqueeze(1)).squeeze(1)
    accuracy = (logits.argmax(1) == labels[test_idx]).float().mean()
    print(f"test loss {-picked.mean().item():.6f}, accuracy {accuracy:.4f}")

    # which points the trained model attends to in the first test set with at least 8 points
    i = next(j for j in test_idx.tolist() if lengths[j] >= 8)
    n = int(lengths[i])
    scores = torch.einsum("nd,d->n", model.keys(points[i]), model.query).masked_fill(~mask[i], float("-inf"))
    order = scores.sort(descending=True).indices
    top_values, top_index = scores.topk(3)
    print(f"test set {i} ({n} points): attention order {order[:n].tolist()}, "
          f"top 3 {top_index.tolist()} with scores {[round(v, 4) for v in top_values.tolist()]}")
    halves = [part.sum().item() for part in points[i].split([4, 6], dim=0)]
    print(f"sums of its first 4 and last 6 rows: {halves[0]:.5f}, {halves[1]:.5f}")
