"""The per-direction CPU path of nertag.birnn equals nn.LSTM/GRU on packed sequences."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from nertag.birnn import bidirectional, reversal_index


def packed_reference(rnn: nn.RNNBase, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    packed = pack_padded_sequence(inputs, lengths, batch_first=True, enforce_sorted=False)
    output, _ = rnn(packed)
    return pad_packed_sequence(output, batch_first=True, total_length=inputs.size(1))[0]


def test_reversal_index_flips_each_sentence_within_its_length() -> None:
    index = reversal_index(torch.tensor([3, 1, 4]), 4)
    assert index.tolist() == [[2, 1, 0, 3], [0, 1, 2, 3], [3, 2, 1, 0]]


@pytest.mark.parametrize("kind", [nn.LSTM, nn.GRU])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("packed", [False, True])  # True: the path CUDA takes, run here on the CPU
def test_outputs_and_gradients_match_the_packed_module(kind: type[nn.RNNBase], layers: int, packed: bool) -> None:
    torch.manual_seed(0)
    rnn = kind(6, 5, num_layers=layers, bidirectional=True, batch_first=True).eval()
    lengths = torch.tensor([7, 3, 1, 7, 5])
    inputs = torch.randn(5, 7, 6, requires_grad=True)
    mask = (torch.arange(7)[None, :] < lengths[:, None]).unsqueeze(2)

    expected = packed_reference(rnn, inputs, lengths)
    expected_grads = torch.autograd.grad((expected * mask).square().sum(), [inputs, *rnn.parameters()])
    forward, backward = bidirectional(rnn, inputs, lengths, packed=packed)
    got = torch.cat([forward, backward], 2)
    got_grads = torch.autograd.grad((got * mask).square().sum(), [inputs, *rnn.parameters()])

    torch.testing.assert_close(got * mask, expected, atol=1e-5, rtol=1e-5)
    for mine, theirs in zip(got_grads, expected_grads):
        torch.testing.assert_close(mine, theirs, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("packed", [False, True])
def test_time_major_inputs_give_the_batch_first_outputs_transposed(packed: bool) -> None:
    torch.manual_seed(0)
    rnn = nn.LSTM(6, 5, num_layers=2, bidirectional=True, batch_first=True).eval()
    lengths = torch.tensor([7, 3, 1, 7, 5])
    inputs = torch.randn(5, 7, 6)
    mask = (torch.arange(7)[None, :] < lengths[:, None]).unsqueeze(2)
    batch_first = torch.cat(bidirectional(rnn, inputs, lengths, packed=packed), 2)
    time_major = torch.cat(bidirectional(rnn, inputs.transpose(0, 1).contiguous(), lengths, packed=packed, time_major=True), 2)
    assert time_major.shape == (7, 5, 10)
    assert torch.equal(time_major.transpose(0, 1) * mask, batch_first * mask)


@pytest.mark.parametrize("time_major", [False, True])
def test_one_bfloat16_cast_gives_what_autocast_gives_in_each_call(time_major: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    import nertag.birnn

    torch.manual_seed(0)
    rnn = nn.LSTM(6, 5, num_layers=2, bidirectional=True, batch_first=True).eval()
    lengths = torch.tensor([7, 3, 1, 7, 5])
    inputs = torch.randn(7, 5, 6) if time_major else torch.randn(5, 7, 6)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        once = torch.cat(bidirectional(rnn, inputs, lengths, time_major=time_major), 2)
        monkeypatch.setattr(nertag.birnn, "_autocast_dtype", lambda _: None)  # each call casts its own input
        per_call = torch.cat(bidirectional(rnn, inputs, lengths, time_major=time_major), 2)
    assert once.dtype == per_call.dtype == torch.bfloat16
    assert torch.equal(once, per_call)


def test_unidirectional_modules_are_refused() -> None:
    with pytest.raises(ValueError, match="bidirectional"):
        bidirectional(nn.LSTM(2, 2, batch_first=True), torch.zeros(1, 1, 2), torch.tensor([1]))


def test_batches_keep_lengths_on_the_host() -> None:
    from nertag.features import Batch

    batch = Batch(words=torch.ones(2, 3, dtype=torch.long), mask=torch.ones(2, 3, dtype=torch.bool),
                  lengths=torch.tensor([3, 3]))
    moved = batch.to("meta")  # a device other than the CPU, without needing a GPU
    assert moved.words.device.type == "meta" and moved.mask.device.type == "meta"
    assert moved.lengths.device.type == "cpu"
