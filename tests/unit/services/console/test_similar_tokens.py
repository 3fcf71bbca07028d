"""The blind index's tokens: what makes two descriptions of one hazard share words, Chinese or not."""

from hazardloop_console.similar.tokens import DIGEST_CHARS, digest, index_key, normalised, tokens

SECRET = b"a pseudonym key of the group"


def test_chinese_runs_become_character_bigrams_and_a_lone_character_itself():
    assert tokens("机械密封泄漏") == ["机械", "械密", "密封", "封泄", "泄漏"]
    assert tokens("泵") == ["泵"]
    assert tokens("阀 门") == ["阀", "门"]


def test_a_tag_is_one_word_kept_with_and_without_its_separators():
    assert tokens("P-101") == ["p-101", "p101"]
    assert tokens("p101") == ["p101"]
    assert tokens("Tank T-101/A leaking") == ["tank", "t-101/a", "t101a", "leaking"]


def test_full_width_and_capitals_read_as_their_plain_forms():
    assert normalised("Ｐ－１０１ ＡＢＣ") == "p-101 abc"
    assert tokens("Ｐ－１０１泵") == tokens("p-101泵")


def test_mixed_chinese_descriptions_of_one_leak_share_its_tag_and_words():
    first = tokens("3号泵房 离心泵P-101 机械密封泄漏")
    second = tokens("P-101泵密封漏油")
    assert "号泵" in first and "离心" in first and "3" in first
    assert set(first) & set(second) == {"p-101", "p101", "密封"}
    assert not set(first) & set(tokens("配电室灭火器过期"))


def test_each_token_once_in_order_and_nothing_from_punctuation_or_no_text():
    assert tokens("漏油，漏油！") == ["漏油"]
    assert tokens("") == [] and tokens(None) == [] and tokens("，。！——") == []


def test_digests_are_keyed_per_subsidiary_and_hold_no_word():
    refinery, mine = index_key(SECRET, "refinery"), index_key(SECRET, "mine")
    assert index_key(SECRET, "refinery") == refinery and refinery != mine
    assert digest(refinery, "密封") == digest(refinery, "密封")
    assert digest(refinery, "密封") != digest(mine, "密封") != digest(refinery, "漏油")
    assert digest(index_key(b"another key", "refinery"), "密封") != digest(refinery, "密封")
    made = {digest(refinery, word) for word in tokens("P-101泵密封漏油 P-101")}
    assert len(made) == len(tokens("P-101泵密封漏油")) and all(len(d) == DIGEST_CHARS for d in made)
    assert all(set(d) <= set("0123456789abcdef") for d in made)
