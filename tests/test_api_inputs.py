"""What the Python API refuses, and how: one clear error naming the argument, never a torch traceback."""

from __future__ import annotations

import pytest

import nertag


@pytest.mark.parametrize("bad", [None, 5, {"张三": 1}, {"张三"}, b"bytes", ["ok", None]])
def test_tag_refuses_what_is_not_text(bad: object) -> None:
    with pytest.raises(TypeError, match="takes a string or a list of strings"):
        nertag.tag(bad, model="zh-general")  # type: ignore[arg-type]


@pytest.mark.parametrize("device", ["gpu", "mps", "cuda:x"])
def test_unknown_device_names_are_refused_clearly(device: str) -> None:
    with pytest.raises(ValueError, match="expected 'cpu', 'cuda' or 'cuda:N'"):
        nertag.load("zh-general", device=device)


def test_the_onnx_backend_does_not_pretend_to_run_on_a_gpu() -> None:
    pytest.importorskip("onnxruntime")
    with pytest.raises(ValueError, match="device 'cuda'"):
        nertag.load("zh-general", device="cuda", backend="onnx")


@pytest.mark.parametrize("dictionary", [{"腾讯": 5}, {"腾讯": ""}, {"腾讯": "O"}, {"腾讯": "A B"}, {"": "ORG"}])
def test_dictionary_entries_need_a_phrase_and_a_one_word_label(dictionary: dict) -> None:
    with pytest.raises(ValueError, match="expected a"):
        nertag.load("zh-general", dictionary=dictionary)


def test_a_loaded_tagger_refuses_what_is_not_text_with_the_same_words() -> None:
    tagger = nertag.load("zh-general")
    for bad in (None, 5, {"张三": 1}, b"bytes", ["ok", None]):
        with pytest.raises(TypeError, match="takes a string or a list of strings"):
            tagger.tag(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="take a list of strings"):  # a string was tagged a character at a time
        tagger.tag_texts("张三去北京")  # type: ignore[arg-type]
    assert tagger.tag_texts(("张三去北京",))[0].entities == tagger.tag("张三去北京")
