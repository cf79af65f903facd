"""A linear-chain CRF whose forward algorithm, Viterbi and backtrace are batched tensor operations.

Transitions are indexed ``[from, to]`` throughout.  Illegal transitions of the tag scheme get a
large negative score, in training and decoding alike, so decoded paths are always well-formed.
Masks must be left-aligned (every sentence starts at position 0) and every sentence non-empty.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import torch
from torch import nn

ILLEGAL = -10000.0
_TINY = torch.finfo(torch.float32).tiny


def _log_matmul(scores: torch.Tensor, exp_transitions: torch.Tensor) -> torch.Tensor:
    """log(exp(scores) @ exp(transitions)), batched over rows: the forward algorithm's step.

    One small matrix product instead of a logsumexp over a (batch, tags, tags) tensor: about three
    times faster on CPU, where these steps are dominated by per-operation overhead. Products that
    underflow (tags with no legal predecessor) are clamped, so they score -88 below the best tag
    rather than -inf, whose gradient would be NaN.
    """
    top = scores.amax(1, keepdim=True)
    return torch.mm((scores - top).exp(), exp_transitions).clamp_min(_TINY).log() + top


def _alphas(
    emissions: torch.Tensor, mask: torch.Tensor, transitions: torch.Tensor, start: torch.Tensor
) -> list[torch.Tensor]:
    """alpha[t][b, j]: log-sum of all paths of sentence b ending in tag j at step t, one (batch, tags)
    tensor a step; log Z needs only the last, so stacking is left to those who want them all.

    Past a sentence's end alpha stays at its last real value.
    """
    exp_transitions = transitions.exp()
    steps = emissions.unbind(1)  # one stack in backward, where per-step indexing zero-fills a copy each step
    live = mask.unsqueeze(2).unbind(1)
    alpha = start + steps[0]
    alphas = [alpha]
    for emission, alive in zip(steps[1:], live[1:]):
        alpha = torch.where(alive, _log_matmul(alpha, exp_transitions) + emission, alpha)
        alphas.append(alpha)
    return alphas


def _alphas_and_betas(
    emissions: torch.Tensor, mask: torch.Tensor, transitions: torch.Tensor, start: torch.Tensor, end: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """alpha and beta as :meth:`CRF.forward_backward` gives them, (batch, time, tags) each.

    Forward step t and backward step time-1-t run as one (2, batch, tags) tensor through one
    batched product: the steps are dominated by per-operation overhead on CPU, so doing both
    directions in each operation nearly halves the time confidences take.
    """
    steps = emissions.transpose(0, 1)  # (time, batch, tags)
    alive = mask.t().unsqueeze(2)  # (time, batch, 1)
    zeros = torch.zeros_like(steps[1:])
    # Step s computes alpha[s + 1] = where(alive, log(exp(alpha[s]) @ exp(T)) + e[s + 1], alpha[s]) and
    # beta[u] = where(alive, log(exp(e[u + 1] + beta[u + 1]) @ exp(T')), beta[u + 1]) for u = time - 2 - s.
    added_before = torch.stack([zeros, steps.flip(0)[:-1]], 1)  # (time - 1, 2, batch, tags)
    added_after = torch.stack([steps[1:], zeros], 1)
    alive_at = torch.stack([alive[1:], alive.flip(0)[:-1]], 1)  # (time - 1, 2, batch, 1)
    exp_both = torch.stack([transitions.exp(), transitions.t().exp()])
    last_beta = end.expand(emissions.size(0), -1)
    scores = torch.stack([start + steps[0], last_beta])
    found = []
    for before, after, live in zip(added_before.unbind(0), added_after.unbind(0), alive_at.unbind(0)):
        inputs = scores + before
        top = inputs.amax(2, keepdim=True)
        stepped = torch.bmm((inputs - top).exp(), exp_both).clamp_min(_TINY).log() + top + after
        scores = torch.where(live, stepped, scores)
        found.append(scores)
    if not found:
        return (start + steps[0]).unsqueeze(1), last_beta.unsqueeze(1).contiguous()
    both = torch.stack(found)  # (time - 1, 2, batch, tags)
    alpha = torch.cat([(start + steps[:1]), both[:, 0]])
    beta = torch.cat([both[:, 1].flip(0), last_beta.unsqueeze(0)])
    return alpha.transpose(0, 1), beta.transpose(0, 1)


class CRF(nn.Module):
    """CRF over ``num_tags`` tags with optional transition constraints.

    ``allowed`` is ``(pairs, starts, ends)`` as given by :func:`nertag.schemes.allowed_transitions`:
    legal ``(from, to)`` pairs and the tags that may open and close a sentence.  ``continuations``
    gives, per tag, the tags that would lengthen an entity ending on it, as given by
    :func:`nertag.schemes.continuation_tags`; :meth:`segment_log_probs` needs them to fix an entity's
    right edge.
    """

    def __init__(
        self,
        num_tags: int,
        allowed: tuple[Iterable[tuple[int, int]], Iterable[int], Iterable[int]] | None = None,
        continuations: Sequence[Iterable[int]] | None = None,
    ) -> None:
        super().__init__()
        if num_tags < 1:
            raise ValueError(f"num_tags must be positive, got {num_tags}")
        if continuations is not None and len(continuations) != num_tags:
            raise ValueError(f"continuations must give one set per tag, {num_tags}, got {len(continuations)}")
        self.num_tags = num_tags
        self.transitions = nn.Parameter(torch.empty(num_tags, num_tags).uniform_(-0.1, 0.1))
        self.start_transitions = nn.Parameter(torch.empty(num_tags).uniform_(-0.1, 0.1))
        self.end_transitions = nn.Parameter(torch.empty(num_tags).uniform_(-0.1, 0.1))
        # Constraints derive from the tag list and scheme, so they are rebuilt on load, not saved.
        transition_penalty = torch.zeros(num_tags, num_tags)
        start_penalty = torch.zeros(num_tags)
        end_penalty = torch.zeros(num_tags)
        if allowed is not None:
            pairs, starts, ends = allowed
            transition_penalty.fill_(ILLEGAL)
            start_penalty.fill_(ILLEGAL)
            end_penalty.fill_(ILLEGAL)
            for i, j in pairs:
                transition_penalty[i, j] = 0.0
            start_penalty[list(starts)] = 0.0
            end_penalty[list(ends)] = 0.0
        self.register_buffer("transition_penalty", transition_penalty, persistent=False)
        self.register_buffer("start_penalty", start_penalty, persistent=False)
        self.register_buffer("end_penalty", end_penalty, persistent=False)
        # continues[i, j]: tag j right after tag i lengthens the entity ending on i.
        continues = torch.zeros(num_tags, num_tags, dtype=torch.bool)
        for i, following in enumerate(continuations or ()):
            continues[i, list(following)] = True
        self.register_buffer("continues", continues, persistent=False)

    def _scores(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return (
            self.transitions + self.transition_penalty,
            self.start_transitions + self.start_penalty,
            self.end_transitions + self.end_penalty,
        )

    def _check(self, emissions: torch.Tensor, mask: torch.Tensor, tags: torch.Tensor | None = None) -> None:
        if emissions.dim() != 3 or emissions.size(2) != self.num_tags:
            raise ValueError(f"emissions must be (batch, time, {self.num_tags}), got {tuple(emissions.shape)}")
        if mask.shape != emissions.shape[:2]:
            raise ValueError(f"mask must be {tuple(emissions.shape[:2])}, got {tuple(mask.shape)}")
        if tags is not None and tags.shape != emissions.shape[:2]:
            raise ValueError(f"tags must be {tuple(emissions.shape[:2])}, got {tuple(tags.shape)}")

    def log_likelihood(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Log-probability of each gold path.

        emissions: (batch, time, tags); tags: (batch, time) long; mask: (batch, time) bool.
        Returns (batch,).
        """
        self._check(emissions, mask, tags)
        return self._path_score(emissions, tags, mask) - self.log_partition(emissions, mask)

    def distillation_loss(
        self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor, targets: torch.Tensor, weight: float
    ) -> torch.Tensor:
        """Per sentence, (batch,): ``1 - weight`` times the gold path's negative log-likelihood plus
        ``weight`` times the cross-entropy of each token's posterior against ``targets``, (batch,
        time, tags) probabilities (a teacher's, zero on padding), summed over the tokens."""
        self._check(emissions, mask, tags)
        alpha, beta, log_z = self.forward_backward(emissions, mask)
        negative_log_likelihood = log_z - self._path_score(emissions, tags, mask)
        log_posteriors = alpha + beta - log_z[:, None, None]
        cross_entropy = -(targets * log_posteriors).sum(2).masked_fill(~mask, 0.0).sum(1)
        return (1 - weight) * negative_log_likelihood + weight * cross_entropy

    def _path_score(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        transitions, start, end = self._scores()
        maskf = mask.to(emissions.dtype)
        emitted = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # (batch, time)
        score = start[tags[:, 0]] + (emitted * maskf).sum(1)
        moves = transitions[tags[:, :-1], tags[:, 1:]]  # (batch, time - 1)
        score = score + (moves * maskf[:, 1:]).sum(1)
        last = tags.gather(1, (mask.sum(1) - 1).unsqueeze(1)).squeeze(1)
        return score + end[last]

    def log_partition(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """log Z of each sentence, (batch,)."""
        transitions, start, end = self._scores()
        return torch.logsumexp(_alphas(emissions, mask, transitions, start)[-1] + end, dim=1)

    def forward_backward(
        self, emissions: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Forward and backward log-scores, (batch, time, tags) each, and log Z, (batch,).

        alpha[b, t, j] sums the paths up to step t ending in j (emission at t included);
        beta[b, t, j] sums the paths from j at step t to the end (emission at t excluded).
        """
        self._check(emissions, mask)
        transitions, start, end = self._scores()
        alpha, beta = _alphas_and_betas(emissions, mask, transitions, start, end)
        return alpha, beta, torch.logsumexp(alpha[:, -1] + end, dim=1)

    def marginals(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Posterior probability of each tag at each step by forward-backward, (batch, time, tags)."""
        alpha, beta, log_z = self.forward_backward(emissions, mask)
        return (alpha + beta - log_z[:, None, None]).exp() * mask.unsqueeze(2)

    def segment_log_probs(
        self, emissions: torch.Tensor, mask: torch.Tensor, tags: torch.Tensor, segments: torch.Tensor
    ) -> torch.Tensor:
        """Log-probability that each segment of ``tags`` is labelled as given and ends where it ends.

        emissions: (batch, time, tags); mask: (batch, time) bool; tags: (batch, time) long, a path per
        sentence (usually the Viterbi path); segments: (n, 3) long rows of (sentence, start, end),
        half-open.  Returns (n,), each at most 0.

        Steps start..end-1 must carry the path's tags and the step after (if any) none of the
        continuation tags of the segment's last tag: in BIO, ``B-PER I-PER`` is the entity PER only
        if no ``I-PER`` follows.  For a segment that opens with a tag opening an entity whatever
        precedes it (B or S: every entity of a path decoded under BIO or BIOES constraints) this is
        the probability that the labelling holds exactly that entity.  Without continuation tags
        it is the probability of the segment's tags alone.
        """
        self._check(emissions, mask, tags)
        if segments.dim() != 2 or segments.size(1) != 3:
            raise ValueError(f"segments must be (n, 3) rows of (sentence, start, end), got {tuple(segments.shape)}")
        transitions, _, end = self._scores()
        alpha, beta, log_z = self.forward_backward(emissions, mask)
        emitted = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # (batch, time)
        moves = torch.zeros_like(emitted)
        moves[:, 1:] = transitions[tags[:, :-1], tags[:, 1:]]
        inside = torch.cumsum(emitted + moves, dim=1)  # (batch, time) path score up to each step
        b, first, last = segments[:, 0], segments[:, 1], segments[:, 2] - 1
        closing = tags[b, last]  # (n,)
        # Right edge: log-sum over the tags that may follow without continuing the segment, each
        # with everything after it; a logsumexp over the survivors, not a subtraction of the
        # continuing paths' mass, which would cancel catastrophically for confident entities.
        after = (last + 1).clamp_max(emissions.size(1) - 1)  # read only where the sentence goes on
        onward = transitions[closing] + emissions[b, after] + beta[b, after]  # (n, tags)
        onward = onward.masked_fill(self.continues[closing], float("-inf")).logsumexp(dim=1)
        at_end = last + 1 >= mask.sum(1)[b]
        right = torch.where(at_end, end[closing], onward)
        log_p = alpha[b, first, tags[b, first]] + inside[b, last] - inside[b, first] + right - log_z[b]
        # A probability cannot exceed 1; float32 rounding in the sums above can push it past.
        return log_p.clamp_max(0.0)

    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Best path of each sentence by Viterbi, backtrace included, without leaving the device.

        Returns tags (batch, time), 0 on padding, and the best path scores (batch,).
        """
        self._check(emissions, mask)
        transitions, start, end = self._scores()
        batch, steps, num_tags = emissions.shape
        score = start + emissions[:, 0]
        keep = torch.arange(num_tags, device=emissions.device).expand(batch, num_tags)
        pointers = []
        for t in range(1, steps):
            best, best_from = (score.unsqueeze(2) + transitions).max(dim=1)  # (batch, tags)
            score = torch.where(mask[:, t, None], best + emissions[:, t], score)
            # Past a sentence's end the pointer is the identity, so its last tag carries through.
            pointers.append(torch.where(mask[:, t, None], best_from, keep))
        best_score, last = (score + end).max(dim=1)
        path = [last]
        for back in reversed(pointers):
            last = back.gather(1, last.unsqueeze(1)).squeeze(1)
            path.append(last)
        path.reverse()
        return torch.stack(path, dim=1) * mask, best_score

    def nbest(self, emissions: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The ``k`` best paths of one sentence and their log-probabilities.

        emissions: (time, tags).  Returns paths (n, time) and log-probabilities (n,), best first,
        with n = min(k, number of legal paths).  Keeps the k best partial scores per tag at each step.
        """
        if emissions.dim() != 2 or emissions.size(1) != self.num_tags:
            raise ValueError(f"emissions must be (time, {self.num_tags}), got {tuple(emissions.shape)}")
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        transitions, start, end = self._scores()
        steps, num_tags = emissions.shape
        scores = (start + emissions[0]).unsqueeze(1)  # (tags, kept): best partial scores ending in a tag
        pointers: list[torch.Tensor] = []  # per step (tags, kept): flat (previous tag, previous rank)
        for t in range(1, steps):
            kept = scores.size(1)
            # candidates[(previous tag, previous rank), next tag]
            candidates = (scores.unsqueeze(2) + transitions.unsqueeze(1)).reshape(num_tags * kept, num_tags)
            best, index = candidates.topk(min(k, num_tags * kept), dim=0)  # (new kept, tags)
            scores = (best + emissions[t]).t()
            pointers.append(index.t())
        final = (scores + end.unsqueeze(1)).reshape(-1)  # (tags * kept)
        top, flat = final.topk(min(k, final.numel()))
        legal = top > ILLEGAL / 2
        top, flat = top[legal], flat[legal]
        paths = []
        for position in flat.tolist():
            tag, rank = divmod(position, scores.size(1))
            path = [tag]
            for t in range(len(pointers) - 1, -1, -1):
                previous_kept = pointers[t - 1].size(1) if t > 0 else 1
                tag, rank = divmod(int(pointers[t][tag, rank]), previous_kept)
                path.append(tag)
            paths.append(path[::-1])
        everything = torch.ones(1, steps, dtype=torch.bool, device=emissions.device)
        log_z = self.log_partition(emissions.unsqueeze(0), everything)
        return torch.tensor(paths, dtype=torch.long).reshape(len(paths), steps), top - log_z
