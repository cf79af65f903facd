"""Dictionary-match features: lengths and name classes from jieba's dictionary, per character role."""

from __future__ import annotations

import torch

from nertag.lexicon import (
    CELLS_PER_ROLE,
    LENGTH_BUCKETS,
    NAME_CLASSES,
    WIDTH,
    lexicon_features,
)

BEGIN, MIDDLE, END = 0, 1, 2
PLACE = NAME_CLASSES["ns"]
PERSON = NAME_CLASSES["nr"]


def cell(role: int, name_class: int) -> int:
    return role * CELLS_PER_ROLE + LENGTH_BUCKETS + name_class


def test_places_and_people_light_their_class_cells() -> None:
    features = lexicon_features([list("姚明出生于郑州市")])
    assert features.shape == (8, WIDTH)
    # 郑州市 is a place name in jieba's dictionary: 郑 begins it, 州 is inside, 市 ends it.
    assert features[5, cell(BEGIN, PLACE)] > 0
    assert features[6, cell(MIDDLE, PLACE)] > 0
    assert features[7, cell(END, PLACE)] > 0
    # 姚明 is a person name.
    assert features[0, cell(BEGIN, PERSON)] > 0
    assert features[1, cell(END, PERSON)] > 0
    # 出生 is a common word, no name: its characters get length cells only.
    assert features[2, LENGTH_BUCKETS:CELLS_PER_ROLE].eq(0).all()
    assert bool(((features >= 0) & (features <= 1)).all())


def test_multi_character_tokens_take_their_first_characters_features() -> None:
    per_char = lexicon_features([list("郑州市很大")])
    per_token = lexicon_features([["郑州", "市", "很大"]])
    assert torch.equal(per_token, per_char[[0, 2, 3]])


def test_words_never_cross_sentences() -> None:
    together = lexicon_features([list("郑州市")])
    apart = lexicon_features([list("郑"), [], list("州市")])
    assert apart.shape == together.shape
    assert together[0].any() and not apart[0].any()  # 郑 alone begins no word
    assert torch.equal(apart[1:], lexicon_features([list("州市")]))


def test_lac_classes_change_only_the_name_class_cells() -> None:
    sentence = [list("华为和微软在郑州市出生")]
    jieba, lac = lexicon_features(sentence), lexicon_features(sentence, "lac")
    length_cells = [role * CELLS_PER_ROLE + bucket for role in range(3) for bucket in range(LENGTH_BUCKETS)]
    assert torch.equal(jieba[:, length_cells], lac[:, length_cells])
    organisation = NAME_CLASSES["nt"]
    # 华为: a person to jieba, an organisation to LAC.
    assert jieba[0, cell(BEGIN, PERSON)] > 0 and jieba[0, cell(BEGIN, organisation)] == 0
    assert lac[0, cell(BEGIN, organisation)] > 0 and lac[0, cell(BEGIN, PERSON)] == 0
    assert lac[3, cell(BEGIN, organisation)] > 0 and lac[4, cell(END, organisation)] > 0  # 微软
    assert lac[6, cell(BEGIN, PLACE)] > 0  # 郑州市 stays a place
