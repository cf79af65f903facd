"""Dictionary and rule matching on one long line: seconds as the line grows, to show how time scales.

    python benchmarks/long_line_extras.py [--sizes 4000 8000 16000]

For each size N it times, best of 3:
- the built-in rules (``Rules.of(["all"]).matches``) on a line of N digits, and on a
  comma-separated list of numbers N characters long (a numeric CSV line);
- merging a dictionary's matches into a model's entities (``ExtraEntities.apply``, policy "model")
  on "张三去北京。" repeated to N characters, one model entity and two dictionary matches a sentence.
Linear work doubles with N; work that compares everything with everything quadruples.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from nertag.dictionary import PhraseDictionary  # noqa: E402
from nertag.merge import ExtraEntities  # noqa: E402
from nertag.records import Entity, TaggedText  # noqa: E402
from nertag.rules import Rules  # noqa: E402
from tagging_profile import fastest  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[4000, 8000, 16000])
    args = parser.parse_args()
    rules = Rules.of(["all"])
    extra = ExtraEntities(PhraseDictionary([("北京", "LOC"), ("三去", "ORG")]), policy="model")
    print("characters   rules on digits   rules on a CSV line   dictionary merge")
    for size in args.sizes:
        digits = "1" * size
        csv = ",".join(str(i % 1000) for i in range(size))[:size]
        text = ("张三去北京。" * (size // 6 + 1))[:size]
        model = [Entity(i, i + 2, "PER", "张三", 0.9) for i in range(0, len(text) - 1, 6)]
        tagged = TaggedText(text, model, [[(i, i + 1) for i in range(len(text))]])
        print(f"{size:>10,}   {fastest(lambda: rules.matches(digits)):>13.3f} s   {fastest(lambda: rules.matches(csv)):>17.3f} s"
              f"   {fastest(lambda: extra.apply(tagged)):>14.3f} s")


if __name__ == "__main__":
    main()
