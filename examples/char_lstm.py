"""A character-level language model: Embedding → LSTM → Linear, trained on the source of a
module that ships with Python (``argparse.py``), then sampled.

    python examples/char_lstm.py

The first 90 % of the text is for training, the last 10 % for validation. With the
defaults (300 steps of Adam on 32 windows of 64 characters, float32, seed 0) the
validation loss falls from ln V ≈ 4.5 nats per character (uniform guessing over V = 88
characters, Python 3.11's argparse.py) to 1.15, in about 7 seconds of one core; guessing
the training text's character frequencies scores 2.94. tests/app/test_examples_sequence.py
holds it below 1.5. A sample from the trained model looks like Python: indentation,
``self.``, underscores, quotes and parentheses come out in the right places.

The per-step matrices are small: on a machine busy with other work, one BLAS thread
(``OPENBLAS_NUM_THREADS=1``) is several times faster than BLAS's default of one per core.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

import autograd_nn as ag
import autograd_nn.functional as F
from autograd_nn import nn, optim


def corpus() -> str:
    """The text: argparse's source, as this Python installed it."""
    return Path(argparse.__file__).read_text(encoding="utf-8")


class CharModel(nn.Module):
    def __init__(self, vocabulary: int, embedding: int = 32, hidden: int = 128):
        super().__init__()
        self.embed = nn.Embedding(vocabulary, embedding, dtype=np.float32)
        self.lstm = nn.LSTM(embedding, hidden, batch_first=True, dtype=np.float32)
        self.head = nn.Linear(hidden, vocabulary, dtype=np.float32)

    def forward(self, codes, state=None):
        output, state = self.lstm(self.embed(codes), state)
        return self.head(output), state


def batches(codes: np.ndarray, rng: np.random.Generator, batch: int, length: int):
    """Random windows: inputs and the next character of each position (the targets)."""
    while True:
        starts = rng.integers(0, len(codes) - length - 1, batch)
        window = np.stack([codes[s : s + length + 1] for s in starts])
        yield window[:, :-1], window[:, 1:]


def loss_of(model: CharModel, inputs: np.ndarray, targets: np.ndarray):
    logits, _ = model(inputs)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def validation_loss(model: CharModel, codes: np.ndarray, length: int = 256) -> float:
    """Mean cross-entropy (nats per character) over the held-out text, in windows."""
    usable = (len(codes) - 1) // length * length
    inputs = codes[:usable].reshape(-1, length)
    targets = codes[1 : usable + 1].reshape(-1, length)
    with ag.no_grad():
        return float(loss_of(model, inputs, targets).item())


def sample(model: CharModel, alphabet: list[str], prompt: str, count: int, rng: np.random.Generator, temperature=0.7):
    """Continue ``prompt`` by ``count`` characters, drawing each from softmax(logits / T)."""
    index = {c: i for i, c in enumerate(alphabet)}
    codes = np.array([[index[c] for c in prompt]])
    out = list(prompt)
    state = None
    with ag.no_grad():
        for _ in range(count):
            logits, state = model(codes, state)
            p = F.softmax(logits.data[0, -1] / temperature).data.astype(np.float64)
            code = int(rng.choice(len(alphabet), p=p / p.sum()))
            out.append(alphabet[code])
            codes = np.array([[code]])
    return "".join(out)


def main(steps: int = 300, seed: int = 0, batch: int = 32, length: int = 64, lr: float = 0.005) -> dict:
    text = corpus()
    alphabet = sorted(set(text))
    lookup = {c: i for i, c in enumerate(alphabet)}
    codes = np.array([lookup[c] for c in text], dtype=np.int64)
    split = int(0.9 * len(codes))
    train, held_out = codes[:split], codes[split:]
    counts = np.bincount(train, minlength=len(alphabet)) + 1
    unigram = float(-(np.log(counts / counts.sum())[held_out]).mean())

    nn.init.manual_seed(seed)
    model = CharModel(len(alphabet))
    optimizer = optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    stream = batches(train, rng, batch, length)
    start = validation_loss(model, held_out)
    print(f"{len(text)} characters, {len(alphabet)} distinct; validation loss {start:.3f} (ln V = "
          f"{math.log(len(alphabet)):.3f}; character frequencies alone: {unigram:.3f})")  # fmt: skip
    for step in range(1, steps + 1):
        optimizer.zero_grad()
        loss = loss_of(model, *next(stream))
        loss.backward()
        optimizer.step()
        if step % 100 == 0:
            print(f"step {step}: training loss {loss.item():.3f}")
    final = validation_loss(model, held_out)
    text_out = sample(model, alphabet, "    def ", 200, np.random.default_rng(seed))
    print(f"validation loss {final:.3f} nats per character\n--- sample ---\n{text_out}")
    return {"validation_loss": final, "initial_loss": start, "unigram_loss": unigram, "sample": text_out}


if __name__ == "__main__":
    main()
