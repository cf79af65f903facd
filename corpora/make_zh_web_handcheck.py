"""Write `corpora/zh-web-handcheck/test.bio`: Chinese web-style sentences annotated by hand.

    python corpora/make_zh_web_handcheck.py

A small check of what news-trained models miss on today's text: sports clubs, internet companies
and brands, Latin-script names, region names and names followed by a function word. Labels are
PER, LOC and ORG; companies, clubs and government bodies are ORG, products and works are not
entities. Each entity is written with its label; the script finds it in the sentence, so offsets
come from the text itself.
"""

from __future__ import annotations

from pathlib import Path

SENTENCES: list[tuple[str, list[tuple[str, str]]]] = [
    ("阿森纳在主场以2比1战胜了切尔西。", [("阿森纳", "ORG"), ("切尔西", "ORG")]),
    ("费耶诺德俱乐部宣布与荷兰门将续约。", [("费耶诺德俱乐部", "ORG"), ("荷兰", "LOC")]),
    ("Google今天发布了新的搜索功能。", [("Google", "ORG")]),
    ("CAPCOM宣布《怪物猎人》新作将于明年发售。", [("CAPCOM", "ORG")]),
    ("苹果公司在加州库比蒂诺发布了新款iPhone。", [("苹果公司", "ORG"), ("加州", "LOC"), ("库比蒂诺", "LOC")]),
    ("腾讯和百度的股价周一双双上涨。", [("腾讯", "ORG"), ("百度", "ORG")]),
    ("奇瑞汽车在芜湖的工厂扩建完成。", [("奇瑞汽车", "ORG"), ("芜湖", "LOC")]),
    ("迪士尼公司宣布在上海新建酒店。", [("迪士尼公司", "ORG"), ("上海", "LOC")]),
    ("京津冀协同发展规划纲要正式发布。", [("京津冀", "LOC")]),
    ("这部电影由费穆所写的剧本改编。", [("费穆", "PER")]),
    ("华为在深圳总部召开了年度发布会。", [("华为", "ORG"), ("深圳", "LOC")]),
    ("马云在杭州会见了来自日本的企业家代表团。", [("马云", "PER"), ("杭州", "LOC"), ("日本", "LOC")]),
    ("小米创始人雷军表示将继续加大研发投入。", [("小米", "ORG"), ("雷军", "PER")]),
    ("字节跳动旗下的抖音在海外用户增长迅速。", [("字节跳动", "ORG")]),
    ("中国证监会对康美药业作出行政处罚。", [("中国证监会", "ORG"), ("康美药业", "ORG")]),
    ("皇家马德里客场不敌巴塞罗那。", [("皇家马德里", "ORG"), ("巴塞罗那", "ORG")]),
    ("梅西在比赛中打进了两个进球。", [("梅西", "PER")]),
    ("NBA总裁萧华宣布新赛季赛程。", [("NBA", "ORG"), ("萧华", "PER")]),
    ("阿里巴巴集团在纽约证券交易所上市。", [("阿里巴巴集团", "ORG"), ("纽约证券交易所", "ORG")]),
    ("特斯拉CEO马斯克访问了上海超级工厂。", [("特斯拉", "ORG"), ("马斯克", "PER"), ("上海", "LOC")]),
    ("微软与OpenAI扩大了合作。", [("微软", "ORG"), ("OpenAI", "ORG")]),
    ("周杰伦在台北举行了演唱会。", [("周杰伦", "PER"), ("台北", "LOC")]),
    ("国家统计局公布了十月份的经济数据。", [("国家统计局", "ORG")]),
    ("广东省人民政府发布了防台风通知。", [("广东省人民政府", "ORG")]),
    ("网易游戏与暴雪娱乐的合作已经结束。", [("网易游戏", "ORG"), ("暴雪娱乐", "ORG")]),
]


def bio_lines(text: str, entities: list[tuple[str, str]]) -> list[str]:
    """One `char tag` line per character; entities are found left to right, in the order given."""
    tags = ["O"] * len(text)
    position = 0
    for surface, label in entities:
        start = text.index(surface, position)
        tags[start] = f"B-{label}"
        for inside in range(start + 1, start + len(surface)):
            tags[inside] = f"I-{label}"
        position = start + len(surface)
    return [f"{char} {tag}" for char, tag in zip(text, tags)]


def main() -> None:
    out = Path(__file__).resolve().parent / "zh-web-handcheck" / "test.bio"
    out.parent.mkdir(exist_ok=True)
    blocks = ["\n".join(bio_lines(text, entities)) + "\n" for text, entities in SENTENCES]
    out.write_text("\n".join(blocks), encoding="utf-8")
    print(f"{out}: {len(SENTENCES)} sentences, {sum(len(e) for _, e in SENTENCES)} entities")


if __name__ == "__main__":
    main()
