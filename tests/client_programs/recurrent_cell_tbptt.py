"""An Elman recurrent network built from nn.Linear cells, trained on a long noisy signal by truncated backprop.

The model reads a sum of two sine waves one step at a time and predicts the next value. Exercises a Python loop
over time steps inside forward, carrying the hidden state between chunks with hidden.detach() (truncated
backpropagation through time), torch.stack of the per-step outputs, torch.linspace / sin / cos to build the
signal, nn.utils.clip_grad_value_, nn.utils.parameters_to_vector, optim.RMSprop, and a free-running prediction
under torch.no_grad() that feeds the model its own outputs.
"""

import math

import torch
import torch.nn as nn

torch.manual_seed(14)

t = torch.linspace(0, 24 * math.pi, 1201)
signal = 0.6 * torch.sin(t) + 0.3 * torch.cos(2.5 * t) + 0.03 * torch.randn(t.shape)


class ElmanRNN(nn.Module):
    def __init__(self, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.input_to_hidden = nn.Linear(1, hidden_size)
        self.hidden_to_hidden = nn.Linear(hidden_size, hidden_size, bias=False)
        self.readout = nn.Linear(hidden_size, 1)

    def forward(self, inputs, hidden):
        # inputs: (steps, batch, 1)
        outputs = []
        for x_t in inputs:
            hidden = torch.tanh(self.input_to_hidden(x_t) + self.hidden_to_hidden(hidden))
            outputs.append(self.readout(hidden))
        return torch.stack(outputs), hidden


# four parallel streams, each a quarter of the signal; chunks of 25 steps
streams = signal[:1200].view(4, 300).t().unsqueeze(-1)  # (300, 4, 1)
targets = signal[1:1201].view(4, 300).t().unsqueeze(-1)
model = ElmanRNN(20)
optimizer = torch.optim.RMSprop(model.parameters(), lr=0.004, alpha=0.95)
loss_fn = nn.MSELoss()

for epoch in range(4):
    hidden = torch.zeros(4, 20)
    losses = []
    for start in range(0, 300, 25):
        hidden = hidden.detach()  # keep the state, cut the graph at the chunk boundary
        optimizer.zero_grad()
        predictions, hidden = model(streams[start:start + 25], hidden)
        loss = loss_fn(predictions, targets[start:start + 25])
        loss.backward()
        nn.utils.clip_grad_value_(model.parameters(), 0.5)
        optimizer.step()
        losses.append(loss.item())
    weights = nn.utils.parameters_to_vector(model.parameters())
    print(f"epoch {epoch}: mean chunk loss {sum(losses) / len(losses):.6f}, last {losses[-1]:.6f}, "
          f"weight norm {weights.norm().item():.5f}")

# warm up on the last 50 true values of stream 0, then run free for 10 steps
with torch.no_grad():
    _, hidden = model(streams[250:300, :1], torch.zeros(1, 20))
    value = targets[299, :1]
    generated = []
    for _ in range(10):
        out, hidden = model(value.unsqueeze(0), hidden)
        value = out[0]
        generated.append(value.item())
print("free-running:", " ".join(f"{v:.4f}" for v in generated))
