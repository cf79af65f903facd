"""The CRF against brute-force enumeration of every path, and against pytorch-crf."""

from __future__ import annotations

import itertools

import pytest
import torch
from torchcrf import CRF as ReferenceCRF

from nertag.crf import CRF
from nertag.schemes import Scheme, allowed_transitions, tag_set


def path_score(crf: CRF, emissions: torch.Tensor, path: tuple[int, ...]) -> torch.Tensor:
    transitions, start, end = crf._scores()
    total = start[path[0]] + end[path[-1]]
    for t, tag in enumerate(path):
        total = total + emissions[t, tag]
        if t:
            total = total + transitions[path[t - 1], tag]
    return total


def random_case(seed: int, batch: int = 3, steps: int = 4, tags: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    emissions = torch.randn(batch, steps, tags, generator=generator, dtype=torch.float64)
    lengths = torch.tensor([steps] + [int(x) for x in torch.randint(1, steps + 1, (batch - 1,), generator=generator)])
    mask = torch.arange(steps)[None, :] < lengths[:, None]
    return emissions, mask


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("constrained", [False, True])
@torch.no_grad()
def test_against_brute_force(seed: int, constrained: bool) -> None:
    vocabulary = tag_set(["X"], Scheme.BIO)  # O, B-X, I-X
    allowed = allowed_transitions(vocabulary, Scheme.BIO) if constrained else None
    torch.manual_seed(seed)
    crf = CRF(len(vocabulary), allowed).double()
    emissions, mask = random_case(seed)
    best, best_scores = crf.decode(emissions, mask)
    log_z = crf.log_partition(emissions, mask)
    marginals = crf.marginals(emissions, mask)
    for b in range(emissions.size(0)):
        length = int(mask[b].sum())
        paths = list(itertools.product(range(3), repeat=length))
        scores = torch.stack([path_score(crf, emissions[b], p) for p in paths])
        assert torch.allclose(log_z[b], torch.logsumexp(scores, 0), atol=1e-9)
        winner = paths[int(scores.argmax())]
        assert tuple(best[b, :length].tolist()) == winner
        assert torch.allclose(best_scores[b], scores.max(), atol=1e-9)
        assert best[b, length:].eq(0).all()
        probabilities = (scores - torch.logsumexp(scores, 0)).exp()
        for t in range(length):
            for tag in range(3):
                expected = sum(p for p, path in zip(probabilities, paths) if path[t] == tag)
                assert abs(float(marginals[b, t, tag]) - float(expected)) < 1e-9
        gold = torch.tensor(winner + (0,) * (emissions.size(1) - length))
        likelihood = crf.log_likelihood(emissions[b : b + 1], gold[None], mask[b : b + 1])
        assert torch.allclose(likelihood[0], scores.max() - log_z[b], atol=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_matches_pytorch_crf(seed: int) -> None:
    torch.manual_seed(seed)
    num_tags = 5
    ours = CRF(num_tags)
    reference = ReferenceCRF(num_tags, batch_first=True)
    with torch.no_grad():
        reference.transitions.copy_(ours.transitions)
        reference.start_transitions.copy_(ours.start_transitions)
        reference.end_transitions.copy_(ours.end_transitions)
    emissions, mask = random_case(seed, batch=6, steps=7, tags=num_tags)
    emissions = emissions.float()
    tags = torch.randint(0, num_tags, mask.shape) * mask
    expected = reference(emissions, tags, mask, reduction="none")
    assert torch.allclose(ours.log_likelihood(emissions, tags, mask), expected, atol=1e-5)
    paths = reference.decode(emissions, mask)
    decoded, _ = ours.decode(emissions, mask)
    assert [decoded[b, : len(p)].tolist() for b, p in enumerate(paths)] == paths


def test_constrained_decoding_is_always_well_formed() -> None:
    vocabulary = tag_set(["PER", "LOC"], Scheme.BIOES)
    pairs, starts, ends = allowed_transitions(vocabulary, Scheme.BIOES)
    crf = CRF(len(vocabulary), (pairs, starts, ends))
    emissions = torch.randn(50, 9, len(vocabulary)) * 5  # strong, random emissions
    mask = torch.arange(9)[None, :] < torch.randint(1, 10, (50,))[:, None]
    decoded, _ = crf.decode(emissions, mask)
    for row, length in zip(decoded.tolist(), mask.sum(1).tolist()):
        path = row[:length]
        assert path[0] in starts and path[-1] in ends
        assert all((a, b) in pairs for a, b in zip(path, path[1:]))


def test_shapes_are_validated() -> None:
    crf = CRF(3)
    with pytest.raises(ValueError, match=r"emissions must be \(batch, time, 3\), got \(2, 4, 5\)"):
        crf.decode(torch.zeros(2, 4, 5), torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="mask must be"):
        crf.decode(torch.zeros(2, 4, 3), torch.ones(2, 3, dtype=torch.bool))


@pytest.mark.parametrize("seed", range(4))
@torch.no_grad()
def test_segment_probabilities_against_brute_force(seed: int) -> None:
    torch.manual_seed(seed)
    crf = CRF(3).double()
    emissions, mask = random_case(seed, batch=2, steps=4)
    best, _ = crf.decode(emissions, mask)
    segments = [(b, s, e) for b in range(2) for s in range(int(mask[b].sum())) for e in range(s + 1, int(mask[b].sum()) + 1)]
    got = crf.segment_log_probs(emissions, mask, best, torch.tensor(segments)).exp()
    for (b, s, e), probability in zip(segments, got.tolist()):
        length = int(mask[b].sum())
        paths = list(itertools.product(range(3), repeat=length))
        scores = torch.stack([path_score(crf, emissions[b], p) for p in paths])
        weights = (scores - torch.logsumexp(scores, 0)).exp()
        wanted = tuple(best[b, s:e].tolist())
        expected = sum(float(w) for w, p in zip(weights, paths) if p[s:e] == wanted)
        assert abs(probability - expected) < 1e-9


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("constrained", [False, True])
@torch.no_grad()
def test_nbest_against_brute_force(seed: int, constrained: bool) -> None:
    vocabulary = tag_set(["X"], Scheme.BIOES)  # 5 tags
    allowed = allowed_transitions(vocabulary, Scheme.BIOES) if constrained else None
    torch.manual_seed(seed)
    crf = CRF(len(vocabulary), allowed).double()
    emissions = torch.randn(4, len(vocabulary), dtype=torch.float64)
    paths, log_probs = crf.nbest(emissions, 6)
    everything = list(itertools.product(range(len(vocabulary)), repeat=4))
    scores = torch.stack([path_score(crf, emissions, p) for p in everything])
    log_z = torch.logsumexp(scores, 0)
    ranked = sorted(zip(scores.tolist(), everything), reverse=True)
    ranked = [(s, p) for s, p in ranked if s > -5000][:6]
    assert [tuple(p) for p in paths.tolist()] == [p for _, p in ranked]
    assert torch.allclose(log_probs, torch.tensor([s for s, _ in ranked], dtype=torch.float64) - log_z)
    assert torch.equal(paths[0], crf.decode(emissions[None], torch.ones(1, 4, dtype=torch.bool))[0][0])


@pytest.mark.parametrize("seed", range(3))
def test_gradients_match_pytorch_crf(seed: int) -> None:
    torch.manual_seed(seed)
    ours = CRF(5)
    reference = ReferenceCRF(5, batch_first=True)
    with torch.no_grad():
        reference.transitions.copy_(ours.transitions)
        reference.start_transitions.copy_(ours.start_transitions)
        reference.end_transitions.copy_(ours.end_transitions)
    emissions, mask = random_case(seed, batch=6, steps=9, tags=5)
    emissions = emissions.float().requires_grad_()
    tags = torch.randint(0, 5, mask.shape) * mask
    mine = torch.autograd.grad(ours.log_likelihood(emissions, tags, mask).sum(), [emissions, ours.transitions])
    theirs = torch.autograd.grad(reference(emissions, tags, mask), [emissions, reference.transitions])
    for a, b in zip(mine, theirs):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_constrained_training_gradients_stay_finite_on_long_sentences() -> None:
    vocabulary = tag_set(["PER", "LOC", "ORG"], Scheme.BIOES)
    crf = CRF(len(vocabulary), allowed_transitions(vocabulary, Scheme.BIOES))
    emissions = (torch.randn(4, 300, len(vocabulary)) * 30).requires_grad_()
    mask = torch.ones(4, 300, dtype=torch.bool)
    mask[1, 17:] = False
    tags = torch.zeros(4, 300, dtype=torch.long)  # all O: a legal path
    loss = -crf.log_likelihood(emissions, tags, mask).sum()
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(emissions.grad).all() and torch.isfinite(crf.transitions.grad).all()
