"""A small SVG chart of training loss and dev F1 per epoch; no plotting library needed."""

from __future__ import annotations

from html import escape
from typing import Sequence

from .train_state import EpochLog

WIDTH, HEIGHT, MARGIN = 640, 320, 50


def _polyline(values: Sequence[float], low: float, high: float, colour: str) -> str:
    span = (high - low) or 1.0
    steps = max(len(values) - 1, 1)
    points = " ".join(
        f"{MARGIN + i * (WIDTH - 2 * MARGIN) / steps:.1f},{HEIGHT - MARGIN - (v - low) / span * (HEIGHT - 2 * MARGIN):.1f}"
        for i, v in enumerate(values)
    )
    return f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>'


def training_chart(history: Sequence[EpochLog], title: str = "training") -> str:
    """Loss (left scale, red) and dev F1 (right scale, blue) over epochs, as an SVG document."""
    if not history:
        raise ValueError("no epochs to plot")
    losses = [e.loss for e in history]
    scores = [100 * e.f1 for e in history]
    best = max(history, key=lambda e: e.f1)
    f1_low, f1_high = min(scores), max(scores)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="12">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>',
        f'<line x1="{MARGIN}" y1="{HEIGHT - MARGIN}" x2="{WIDTH - MARGIN}" y2="{HEIGHT - MARGIN}" stroke="black"/>',
        f'<line x1="{MARGIN}" y1="{MARGIN}" x2="{MARGIN}" y2="{HEIGHT - MARGIN}" stroke="black"/>',
        f'<line x1="{WIDTH - MARGIN}" y1="{MARGIN}" x2="{WIDTH - MARGIN}" y2="{HEIGHT - MARGIN}" stroke="black"/>',
        _polyline(losses, 0.0, max(losses), "#c0392b"),
        _polyline(scores, f1_low, f1_high, "#2e6fd8"),
        f'<text x="{MARGIN}" y="{MARGIN - 8}" fill="#c0392b">loss (max {max(losses):.3g})</text>',
        f'<text x="{WIDTH - MARGIN}" y="{MARGIN - 8}" fill="#2e6fd8" text-anchor="end">dev F1 {f1_low:.2f}–{f1_high:.2f}</text>',
        f'<text x="{WIDTH / 2}" y="{HEIGHT - 15}" text-anchor="middle">epoch 1–{len(history)}; best dev F1 {100 * best.f1:.2f} at epoch {best.epoch}</text>',
        "</svg>",
    ]
    return "\n".join(parts) + "\n"
