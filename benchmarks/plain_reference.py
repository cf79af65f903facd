"""A plain BiLSTM-CRF, written the way tutorials write it, as the yardstick for nertag's speed.

Character BiLSTM over every token + word embedding -> BiLSTM -> linear -> pytorch-crf, batch 32,
batches padded with Python loops, decoding through pytorch-crf's per-sentence backtrace.
Not part of the package: it exists only to be timed against.
"""

from __future__ import annotations

import random
from typing import Sequence

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from torchcrf import CRF


class PlainBiLstmCrf(nn.Module):
    def __init__(self, num_words: int, num_chars: int, num_tags: int, word_dim: int = 100, char_dim: int = 30,
                 char_hidden: int = 50, hidden: int = 200, dropout: float = 0.5) -> None:
        super().__init__()
        self.word_embedding = nn.Embedding(num_words, word_dim, padding_idx=0)
        self.char_embedding = nn.Embedding(num_chars, char_dim, padding_idx=0)
        self.char_lstm = nn.LSTM(char_dim, char_hidden, bidirectional=True, batch_first=True)
        self.lstm = nn.LSTM(word_dim + 2 * char_hidden, hidden, bidirectional=True, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(2 * hidden, num_tags)
        self.crf = CRF(num_tags, batch_first=True)

    def emissions(self, words, chars, char_lengths, lengths):
        batch, steps = words.shape
        packed = pack_padded_sequence(self.char_embedding(chars), char_lengths, batch_first=True, enforce_sorted=False)
        _, (final, _) = self.char_lstm(packed)
        char_vectors = torch.cat([final[0], final[1]], 1).view(batch, steps, -1)
        inputs = self.dropout(torch.cat([self.word_embedding(words), char_vectors], 2))
        packed = pack_padded_sequence(inputs, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=steps)
        return self.linear(self.dropout(out))


class PlainData:
    """Vocabularies as dicts; batches built token by token in Python."""

    def __init__(self, sentences: Sequence[Sequence[str]], tags: Sequence[Sequence[str]]) -> None:
        self.words = {"<pad>": 0, "<unk>": 1}
        self.chars = {"<pad>": 0, "<unk>": 1}
        self.tags: dict[str, int] = {}
        for sentence, sentence_tags in zip(sentences, tags):
            for token, tag in zip(sentence, sentence_tags):
                self.words.setdefault(token.lower(), len(self.words))
                for char in token:
                    self.chars.setdefault(char, len(self.chars))
                self.tags.setdefault(tag, len(self.tags))

    def batch(self, sentences: Sequence[Sequence[str]], tags: Sequence[Sequence[str]] | None = None):
        steps = max(len(s) for s in sentences)
        longest = max(len(t) for s in sentences for t in s)
        words, chars, char_lengths, mask, tag_ids = [], [], [], [], []
        for i, sentence in enumerate(sentences):
            row, row_mask, row_tags = [], [], []
            for j in range(steps):
                if j < len(sentence):
                    token = sentence[j]
                    row.append(self.words.get(token.lower(), 1))
                    ids = [self.chars.get(c, 1) for c in token]
                    chars.append(ids + [0] * (longest - len(ids)))
                    char_lengths.append(len(ids))
                    row_mask.append(1)
                    row_tags.append(self.tags[tags[i][j]] if tags else 0)
                else:
                    row.append(0)
                    chars.append([0] * longest)
                    char_lengths.append(1)
                    row_mask.append(0)
                    row_tags.append(0)
            words.append(row)
            mask.append(row_mask)
            tag_ids.append(row_tags)
        return (torch.tensor(words), torch.tensor(chars), torch.tensor(char_lengths),
                torch.tensor([len(s) for s in sentences]), torch.tensor(mask, dtype=torch.bool), torch.tensor(tag_ids))


def train_epoch(model: PlainBiLstmCrf, data: PlainData, sentences, tags, batch_size: int = 32, seed: int = 1) -> float:
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    order = list(range(len(sentences)))
    random.Random(seed).shuffle(order)
    total = 0.0
    for start in range(0, len(order), batch_size):
        chosen = order[start : start + batch_size]
        words, chars, char_lengths, lengths, mask, tag_ids = data.batch([sentences[i] for i in chosen], [tags[i] for i in chosen])
        loss = -model.crf(model.emissions(words, chars, char_lengths, lengths), tag_ids, mask, reduction="mean")
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        total += loss.item()
    return total


@torch.no_grad()
def decode(model: PlainBiLstmCrf, data: PlainData, sentences, batch_size: int = 32) -> list[list[int]]:
    model.eval()
    paths: list[list[int]] = []
    for start in range(0, len(sentences), batch_size):
        chunk = sentences[start : start + batch_size]
        words, chars, char_lengths, lengths, mask, _ = data.batch(chunk)
        paths.extend(model.crf.decode(model.emissions(words, chars, char_lengths, lengths), mask))
    return paths
