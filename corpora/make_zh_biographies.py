"""Write a small templated corpus of Chinese biographies tagged PER, LOC and ORG in BIO.

The sentences come from templates filled with names, places and organisations drawn by a seeded
random generator, so the entity boundaries are known by construction rather than annotated by hand,
and the same command always writes the same bytes.  Standard library only: it runs before nertag is
installed.  One character a token, ``char tag`` per line, a blank line after each sentence.

    python corpora/make_zh_biographies.py            # writes corpora/zh-biographies/{train,dev}.bio
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Callable, Sequence, TypeVar

# A sentence is built as pieces: plain text (label None) or one entity with its label.
Piece = tuple[str, str | None]
T = TypeVar("T")

SURNAMES = (
    "王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗 郑 梁 谢 宋 唐 许 韩 冯 邓 曹"
    " 彭 曾 肖 田 董 袁 潘 于 蒋 蔡 余 杜 叶 程 苏 魏 吕 丁 任 沈 姚 卢 姜 崔 钟 谭 陆 汪 范 金 石"
    " 廖 贾 夏 韦 付 方 白 邹 孟 熊 秦 邱 江 尹 薛 闫 段 雷 侯 龙 史 陶 黎 贺 顾 毛 郝 龚 邵 万 钱"
).split()
COMPOUND_SURNAMES = "欧阳 司马 诸葛 上官 东方 皇甫 令狐 慕容 尉迟 夏侯 司徒 公孙".split()
GIVEN_NAME_CHARACTERS = (
    "伟 芳 娜 秀 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 兰 霞 平 刚 桂 英 华 建 国 文 辉 力 晨 宇 浩"
    " 鹏 斌 婷 颖 琳 雪 梅 亮 飞 志 红 玉 峰 云 海 波 鑫 俊 欣 然 佳 怡 思 远 博 睿 哲 瑞 嘉 子 涵 轩"
    " 凯 昊 天 晓 光 春 秋 德 福 荣 松 柏 岚 薇 蕾 璐 翔 宁 安 健 一 正 新 永 成 家 立 振 东 南 仁"
).split()

# Province (or autonomous region), some of its cities, some of its counties (by their older names:
# the people were born decades ago).
PROVINCES = (
    ("河南", "郑州 洛阳 开封 南阳", "兰考县 林县 杞县"),
    ("河北", "石家庄 保定 唐山 邯郸", "正定县 蔚县"),
    ("山东", "济南 青岛 烟台 潍坊", "沂水县 莒县"),
    ("山西", "太原 大同 运城", "平遥县 五台县"),
    ("江苏", "南京 苏州 无锡 扬州", "昆山县 宜兴县 如皋县"),
    ("浙江", "杭州 宁波 温州 绍兴", "桐乡县 青田县 长兴县"),
    ("安徽", "合肥 芜湖 安庆", "歙县 黟县"),
    ("福建", "福州 厦门 泉州", "安溪县 永定县"),
    ("江西", "南昌 九江 赣州", "婺源县 瑞金县"),
    ("湖北", "武汉 宜昌 襄阳", "秭归县 红安县"),
    ("湖南", "长沙 岳阳 湘潭", "汨罗县 宁乡县"),
    ("广东", "广州 深圳 汕头 佛山", "梅县 台山县"),
    ("广西", "南宁 桂林 柳州", "阳朔县 恭城县"),
    ("四川", "成都 绵阳 宜宾", "郫县 江油县"),
    ("贵州", "贵阳 遵义", "仁怀县"),
    ("云南", "昆明 大理 丽江", "腾冲县"),
    ("陕西", "西安 宝鸡 延安", "延川县 米脂县"),
    ("甘肃", "兰州 天水", "敦煌县"),
    ("辽宁", "沈阳 大连 鞍山", "庄河县"),
    ("吉林", "长春 延吉 四平", ""),
    ("黑龙江", "哈尔滨 齐齐哈尔 牡丹江", "呼兰县"),
    ("海南", "海口 三亚", "文昌县"),
    ("青海", "西宁", "湟源县"),
    ("内蒙古", "呼和浩特 包头", ""),
    ("新疆", "乌鲁木齐 喀什", ""),
    ("西藏", "拉萨", ""),
    ("宁夏", "银川", ""),
)
# Autonomous regions are never written with 省.
REGIONS = frozenset("广西 内蒙古 新疆 西藏 宁夏".split())
# Cities that belong to no province.
MUNICIPALITIES = "北京 上海 天津 重庆".split()
CITIES = [*MUNICIPALITIES, *(city for _, cities, _ in PROVINCES for city in cities.split())]
COUNTRIES = "中国 美国 日本 德国 法国 英国 加拿大 澳大利亚 新加坡 俄罗斯 意大利 荷兰 瑞士 韩国 新西兰".split()
# Country, some of its cities, some of its universities.
ABROAD = (
    ("美国", "纽约 波士顿 旧金山 芝加哥 西雅图 洛杉矶".split(), "哈佛大学 斯坦福大学 麻省理工学院 耶鲁大学".split()),
    ("日本", "东京 大阪 京都 横滨".split(), "东京大学 京都大学".split()),
    ("德国", "柏林 慕尼黑 汉堡 法兰克福".split(), "慕尼黑工业大学 海德堡大学".split()),
    ("法国", "巴黎 里昂 马赛".split(), "巴黎高等师范学校".split()),
    ("英国", "伦敦 曼彻斯特 爱丁堡".split(), "剑桥大学 牛津大学 帝国理工学院".split()),
    ("加拿大", "多伦多 温哥华 蒙特利尔".split(), "多伦多大学 麦吉尔大学".split()),
    ("澳大利亚", "悉尼 墨尔本 布里斯班".split(), "墨尔本大学 悉尼大学".split()),
    ("新加坡", [], "新加坡国立大学".split()),
)

UNIVERSITIES = (
    "北京大学 清华大学 复旦大学 浙江大学 南京大学 武汉大学 中山大学 四川大学 厦门大学 南开大学 吉林大学"
    " 山东大学 郑州大学 兰州大学 同济大学 上海交通大学 中国人民大学 中国科学技术大学 哈尔滨工业大学"
    " 北京师范大学 华中科技大学 西安交通大学 东南大学 天津大学 中南大学"
).split()
COMPANIES = (
    "华为技术有限公司 阿里巴巴集团 腾讯公司 中国银行 中国工商银行 中国移动通信集团 国家电网公司 中国石油化工集团"
    " 联想集团 小米科技有限责任公司 招商银行 中国建筑集团 中信证券 比亚迪股份有限公司 海尔集团 格力电器"
    " 新华社 人民日报社 中央电视台"
).split()
# Invented firms: a trade name that is no place, then a trade and a legal form.
FIRM_NAMES = "恒达 华信 远航 鼎盛 瑞丰 嘉禾 宏图 金桥 正泰 博远 中联 天成 永信 汇通 明德".split()
FIRM_TRADES = "科技 电子 物流 投资 建设 医药 能源 传媒 软件 食品".split()
FIRM_FORMS = "有限公司 股份有限公司 集团".split()
INSTITUTES = (
    "中国科学院 中国工程院 中国社会科学院 国务院发展研究中心 世界卫生组织 联合国 世界银行 国际奥委会"
    " 中国足球协会 中国作家协会 中华医学会 国家统计局"
).split()
ACADEMIES = "中国科学院 中国工程院".split()
CLUBS = (
    ("篮球", "北京首钢篮球俱乐部 广东宏远篮球俱乐部 辽宁本钢篮球俱乐部 新疆广汇篮球俱乐部".split()),
    ("足球", "上海申花足球俱乐部 山东泰山足球俱乐部 北京国安足球俱乐部".split()),
)

PROFESSIONS = "职业篮球运动员 足球运动员 作家 物理学家 经济学家 企业家 外交官 建筑师 画家 歌手 导演 律师".split()
MAJORS = "物理学 计算机科学 经济学 法学 临床医学 土木工程 化学 历史学 新闻学 数学 机械工程 外国语言文学".split()
DEGREES = "学士 硕士 博士".split()
TITLES = "总经理 副总裁 董事长 首席执行官 高级工程师 研究员 主任 副院长 总编辑 首席经济学家 技术总监".split()
RELATIVES = "父亲 母亲 祖父 叔叔 妻子 丈夫".split()
RELATIVE_JOBS = "当地的一名教师 一名医生 一名工人 一位农民 一位画家 一名会计".split()


class Draw:
    """Names, places and organisations drawn from one seeded generator, as sentence pieces."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def pick(self, options: Sequence[T]) -> T:
        return self.rng.choice(options)

    def person(self) -> Piece:
        surname = self.pick(COMPOUND_SURNAMES) if self.rng.random() < 0.1 else self.pick(SURNAMES)
        given = "".join(self.pick(GIVEN_NAME_CHARACTERS) for _ in range(self.rng.choice((1, 2, 2))))
        return surname + given, "PER"

    def province_name(self, name: str) -> Piece:
        if name not in REGIONS and self.rng.random() < 0.5:
            name += "省"
        return name, "LOC"

    def city_name(self, name: str) -> Piece:
        return name + ("市" if self.rng.random() < 0.4 else ""), "LOC"

    def city(self) -> Piece:
        return self.city_name(self.pick(CITIES))

    def nationality(self) -> Piece:
        """Mostly China: the people are born and work there."""
        return ("中国" if self.rng.random() < 0.8 else self.pick(COUNTRIES)), "LOC"

    def abroad(self) -> list[Piece]:
        """A foreign country, often followed by one of its cities."""
        country, cities, _ = self.pick(ABROAD)
        return [(country, "LOC")] + ([(self.pick(cities), "LOC")] if cities and self.rng.random() < 0.7 else [])

    def foreign_university(self) -> list[Piece]:
        """A foreign university, after its country unless its name starts with it."""
        country, _, universities = self.pick(ABROAD)
        university = self.pick(universities)
        return ([] if university.startswith(country) else [(country, "LOC")]) + [(university, "ORG")]

    def hometown(self) -> list[Piece]:
        """A municipality, a province, or a province then one of its cities or counties side by side."""
        chance = self.rng.random()
        if chance < 0.2:
            return [self.city_name(self.pick(MUNICIPALITIES))]
        province, cities, counties = self.pick(PROVINCES)
        if chance < 0.3:
            return [self.province_name(province)]
        places = [self.city_name(self.pick(cities.split()))]
        if counties and chance < 0.55:
            places = [(self.pick(counties.split()), "LOC")]
        return [self.province_name(province), *places]

    def university(self) -> Piece:
        return self.pick(UNIVERSITIES), "ORG"

    def company(self) -> Piece:
        if self.rng.random() < 0.5:
            return self.pick(COMPANIES), "ORG"
        return self.pick(FIRM_NAMES) + self.pick(FIRM_TRADES) + self.pick(FIRM_FORMS), "ORG"

    def year(self, low: int = 1930, high: int = 2005) -> int:
        return self.rng.randint(low, high)

    def date(self) -> str:
        return f"{self.year()}年{self.rng.randint(1, 12)}月{self.rng.randint(1, 28)}日"


def text(value: str) -> Piece:
    return value, None


# Each template turns a Draw into the pieces of one sentence.
def born(d: Draw) -> list[Piece]:
    return [d.person(), text(d.pick(("", "，")) + f"{d.date()}出生于"), *d.hometown(), text("，祖籍"),
            *d.hometown(), text("，"), d.nationality(), text(d.pick(PROFESSIONS) + "。")]


def profile(d: Draw) -> list[Piece]:
    sex = d.pick(("男", "女"))
    return [d.person(), text(f"，{sex}，汉族，{d.year()}年{d.rng.randint(1, 12)}月生，"), *d.hometown(),
            text(f"人，{d.pick(('大学本科', '研究生', '博士研究生'))}学历。")]


def graduated(d: Draw) -> list[Piece]:
    return [d.person(), text(f"{d.year(1955, 2015)}年毕业于"), d.university(),
            text(f"，主修{d.pick(MAJORS)}，获{d.pick(DEGREES)}学位。")]


def mentor(d: Draw) -> list[Piece]:
    return [text(f"{d.year(1955, 2015)}年，"), d.person(), text("考入"), d.university(), text("，师从"),
            d.person(), text("教授。")]


def career(d: Draw) -> list[Piece]:
    first = d.company() if d.rng.random() < 0.6 else (d.pick(INSTITUTES), "ORG")
    return [d.person(), text("曾任"), first, text(d.pick(TITLES) + "，现任"), d.company(),
            text(d.pick(TITLES) + "。")]


def joined(d: Draw) -> list[Piece]:
    return [text(f"{d.year(1980, 2020)}年"), d.person(), text("加入"), d.company(), text("，负责"),
            d.city(), text("地区的业务。")]


def moved(d: Draw) -> list[Piece]:
    return [d.person(), text("幼年随父母从"), d.city(), text("迁居"), d.city(),
            text(f"，{d.year(1960, 2015)}年又移居"), *d.abroad(), text("。")]


def ancestry(d: Draw) -> list[Piece]:
    return [d.person(), text("祖籍"), *d.hometown(), text(f"，{d.year()}年生于"), d.city(),
            text("，" + d.pick(RELATIVES)), d.person(), text("是" + d.pick(RELATIVE_JOBS) + "。")]


def abroad_research(d: Draw) -> list[Piece]:
    start = d.year(1980, 2015)
    return [text(f"{start}年至{start + d.rng.randint(1, 6)}年，"), d.person(), text("在"),
            *d.foreign_university(), text("从事博士后研究，回国后任职于"), (d.pick(INSTITUTES), "ORG"), text("。")]


def academician(d: Draw) -> list[Piece]:
    return [d.person(), text("是"), d.company(), text(f"的创始人之一，{d.year(1990, 2023)}年当选为"),
            (d.pick(ACADEMIES), "ORG"), text("院士。")]


def returned(d: Draw) -> list[Piece]:
    return [d.person(), text("出生在"), *d.abroad(), text(f"，{d.rng.randint(3, 16)}岁时随家人回到"),
            *d.hometown(), text("定居。")]


def athlete(d: Draw) -> list[Piece]:
    sport, clubs = d.pick(CLUBS)
    return [d.person(), text(f"{d.year(1990, 2020)}年加盟"), (d.pick(clubs), "ORG"), text("，此前曾在"),
            d.city(), text("打球，是"), *([d.nationality()] if d.rng.random() < 0.5 else []),
            text(f"著名{sport}运动员。")]


def family(d: Draw) -> list[Piece]:
    return [d.person(), text("与爱人"), d.person(), text("育有一子，全家现居"), d.city(), text("，两人相识于"),
            d.university(), text("。")]


TEMPLATES: tuple[Callable[[Draw], list[Piece]], ...] = (
    born, profile, graduated, mentor, career, joined, moved, ancestry, abroad_research, academician,
    returned, athlete, family,
)


def bio_lines(pieces: list[Piece]) -> list[str]:
    """``char tag`` lines: B- on an entity's first character, I- on the rest, O outside."""
    lines = []
    for value, label in pieces:
        for position, char in enumerate(value):
            tag = "O" if label is None else ("B-" if position == 0 else "I-") + label
            lines.append(f"{char} {tag}")
    return lines


# Every name that is tagged somewhere: template text must not hold one, or the corpus would tag the
# same word in one sentence and leave it untagged in another.
ENTITY_NAMES = (
    *(province for province, _, _ in PROVINCES),
    *CITIES,
    *(county for _, _, counties in PROVINCES for county in counties.split()),
    *COUNTRIES,
    *(city for _, cities, _ in ABROAD for city in cities),
    *UNIVERSITIES,
    *(university for _, _, universities in ABROAD for university in universities),
    *COMPANIES,
    *INSTITUTES,
    *(club for _, clubs in CLUBS for club in clubs),
)


def untagged_names(pieces: list[Piece]) -> list[str]:
    return [name for value, label in pieces if label is None for name in ENTITY_NAMES if name in value]


def generate(count: int, seed: int) -> list[list[str]]:
    """``count`` distinct sentences as lists of ``char tag`` lines."""
    draw = Draw(random.Random(seed))
    seen: set[str] = set()
    sentences: list[list[str]] = []
    while len(sentences) < count:
        pieces = draw.pick(TEMPLATES)(draw)
        plain = "".join(value for value, _ in pieces)
        assert not untagged_names(pieces), f"template text names {untagged_names(pieces)} in {plain}"
        if plain not in seen:
            seen.add(plain)
            sentences.append(bio_lines(pieces))
    return sentences


def write(path: Path, sentences: list[list[str]]) -> None:
    path.write_text("".join("\n".join(lines) + "\n\n" for lines in sentences), encoding="utf-8", newline="\n")


def main(argv: "list[str] | None" = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "zh-biographies",
                        help="folder for train.bio and dev.bio (default: zh-biographies beside this script)")
    parser.add_argument("--train", type=int, default=400, help="sentences in train.bio")
    parser.add_argument("--dev", type=int, default=100, help="sentences in dev.bio")
    parser.add_argument("--seed", type=int, default=2003, help="seed of the random generator")
    args = parser.parse_args(argv)
    sentences = generate(args.train + args.dev, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    write(args.out / "train.bio", sentences[: args.train])
    write(args.out / "dev.bio", sentences[args.train :])


if __name__ == "__main__":
    main()
