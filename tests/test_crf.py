"""The CRF against brute-force enumeration of every path, and against pytorch-crf."""

from __future__ import annotations

import itertools

import pytest
import torch
from torchcrf import CRF as ReferenceCRF

from nertag.config import ModelConfig
from nertag.crf import CRF
from nertag.model import BiLstmCrf
from nertag.schemes import (
    Scheme,
    allowed_transitions,
    continuation_tags,
    spans,
    tag_set,
)


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


def scheme_crf(scheme: Scheme, labels: list[str], seed: int) -> tuple[CRF, list[str]]:
    """A float64 CRF under ``scheme``'s constraints with transitions strong enough to matter."""
    vocabulary = tag_set(labels, scheme)
    crf = CRF(len(vocabulary), allowed_transitions(vocabulary, scheme), continuation_tags(vocabulary, scheme)).double()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for weights in (crf.transitions, crf.start_transitions, crf.end_transitions):
            weights.copy_(torch.randn(weights.shape, generator=generator, dtype=torch.float64))
    return crf, vocabulary


def all_path_log_probs(crf: CRF, emissions: torch.Tensor) -> tuple[list[tuple[int, ...]], torch.Tensor]:
    """Every tag path over emissions (time, tags) with its log-probability, by enumeration."""
    steps, num_tags = emissions.shape
    paths = list(itertools.product(range(num_tags), repeat=steps))
    ids = torch.tensor(paths)  # (paths, time)
    transitions, start, end = crf._scores()
    scores = start[ids[:, 0]] + end[ids[:, -1]] + emissions[torch.arange(steps), ids].sum(1)
    scores = scores + transitions[ids[:, :-1], ids[:, 1:]].sum(1)
    return paths, scores - torch.logsumexp(scores, 0)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("scheme", [Scheme.BIO, Scheme.BIOES])
@torch.no_grad()
def test_entity_probabilities_against_brute_force(scheme: Scheme, seed: int) -> None:
    crf, vocabulary = scheme_crf(scheme, ["X", "Y"], seed)
    generator = torch.Generator().manual_seed(100 + seed)
    lengths = [5, 3, 4, 1] if scheme is Scheme.BIO else [4, 3, 2, 1]  # BIOES has 9 tags: keep 9**4 paths
    steps = max(lengths)
    mask = torch.arange(steps)[None, :] < torch.tensor(lengths)[:, None]
    emissions = torch.randn(len(lengths), steps, len(vocabulary), generator=generator, dtype=torch.float64) * 2
    # Pull the first sentence towards an X entity over its last two tokens, so one touches the end,
    # and fill the padding with large scores that must not leak into any sentence.
    closing = "I-X" if scheme is Scheme.BIO else "E-X"
    emissions[0, steps - 2, vocabulary.index("B-X")] += 6
    emissions[0, steps - 1, vocabulary.index(closing)] += 6
    emissions = torch.where(mask[:, :, None], emissions, torch.full_like(emissions, 50.0))
    best, _ = crf.decode(emissions, mask)
    found = [
        (b, span)
        for b, length in enumerate(lengths)
        for span in spans([vocabulary[t] for t in best[b, :length].tolist()])
    ]
    assert any(span.end == lengths[b] for b, span in found)  # entities at the sentence end are tested
    segments = torch.tensor([(b, span.start, span.end) for b, span in found])
    got = crf.segment_log_probs(emissions, mask, best, segments).exp().tolist()
    for (b, span), probability in zip(found, got):
        paths, log_probs = all_path_log_probs(crf, emissions[b, : lengths[b]])
        expected = sum(
            float(p.exp())
            for path, p in zip(paths, log_probs)
            if p > -1000 and span in spans([vocabulary[t] for t in path])
        )
        assert abs(probability - expected) < 1e-9, (scheme, b, span)


@torch.no_grad()
def test_bio_entity_probability_excludes_a_longer_entity() -> None:
    # B-X I-X then a likely I-X: the tags B-X I-X over the first two tokens are near certain, the
    # entity X over exactly those two tokens is not.
    crf, vocabulary = scheme_crf(Scheme.BIO, ["X"], 0)
    with torch.no_grad():
        crf.transitions.zero_()
        crf.start_transitions.zero_()
        crf.end_transitions.zero_()
    emissions = torch.zeros(1, 3, 3, dtype=torch.float64)
    emissions[0, 0, vocabulary.index("B-X")] = 30
    emissions[0, 1, vocabulary.index("I-X")] = 30
    emissions[0, 2, vocabulary.index("I-X")] = 0.5  # a shade likelier than O or B-X
    mask = torch.ones(1, 3, dtype=torch.bool)
    path = torch.tensor([[vocabulary.index("B-X"), vocabulary.index("I-X"), vocabulary.index("O")]])
    probability = float(crf.segment_log_probs(emissions, mask, path, torch.tensor([[0, 0, 2]])).exp())
    odds = torch.tensor([0.0, 0.0, 0.5], dtype=torch.float64).exp()  # O, B-X, I-X at the last token
    assert probability == pytest.approx(float((odds[0] + odds[1]) / odds.sum()), abs=1e-9)


@pytest.mark.parametrize("scheme", [Scheme.BIO, Scheme.BIOES])
@torch.no_grad()
def test_entity_probabilities_never_exceed_one(scheme: Scheme) -> None:
    # Float32, long sentences and confident emissions: the sums that make up a near-certain entity's
    # log-probability round to a little above 0 unless clamped.
    vocabulary = tag_set(["PER", "LOC", "ORG"], scheme)
    torch.manual_seed(0)
    crf = CRF(len(vocabulary), allowed_transitions(vocabulary, scheme), continuation_tags(vocabulary, scheme))
    emissions = torch.randn(16, 200, len(vocabulary)) * 25
    mask = torch.arange(200)[None, :] < torch.randint(1, 201, (16,))[:, None]
    best, _ = crf.decode(emissions, mask)
    segments = [
        (b, span.start, span.end)
        for b, length in enumerate(mask.sum(1).tolist())
        for span in spans([vocabulary[t] for t in best[b, :length].tolist()])
    ]
    probabilities = crf.segment_log_probs(emissions, mask, best, torch.tensor(segments)).exp()
    assert len(segments) > 100
    assert float(probabilities.max()) <= 1.0 and float(probabilities.min()) >= 0.0


def test_continuation_facts_are_not_saved() -> None:
    vocabulary = tag_set(["X"], Scheme.BIO)
    crf = CRF(len(vocabulary), allowed_transitions(vocabulary, Scheme.BIO), continuation_tags(vocabulary, Scheme.BIO))
    assert "continues" not in crf.state_dict()
    assert crf.continues.tolist() == [[False, False, False], [False, False, True], [False, False, True]]
    CRF(len(vocabulary)).load_state_dict(crf.state_dict())  # models saved before still load
    with pytest.raises(ValueError, match="one set per tag, 3, got 2"):
        CRF(3, continuations=[[], []])


@pytest.mark.parametrize("scheme", [Scheme.BIO, Scheme.BIOES])
def test_model_hands_its_scheme_continuations_to_the_crf(scheme: Scheme) -> None:
    vocabulary = tag_set(["PER", "LOC"], scheme)
    net = BiLstmCrf(ModelConfig(scheme=scheme.value, word_dim=4, char_dim=0, hidden_size=4), vocabulary, num_words=5)
    expected = [sorted(following) for following in continuation_tags(vocabulary, scheme)]
    assert [row.nonzero().flatten().tolist() for row in net.crf.continues] == expected
    assert not any(name.endswith("continues") for name in net.state_dict())


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
