from hazardloop_intake.forms import FormLinks


def test_a_printed_link_opens_while_its_key_version_is_listed_and_new_links_use_the_newest():
    old, new = b"o" * 32, b"n" * 32
    printed = FormLinks([old], "http://intake").signature("refinery", "bay-3")
    rotated = FormLinks([new, old], "http://intake")
    assert rotated.is_valid("refinery", "bay-3", printed)
    assert rotated.url_for("refinery", "bay-3").endswith(f"k={FormLinks([new], 'x').signature('refinery', 'bay-3')}")
    assert not FormLinks([new], "http://intake").is_valid("refinery", "bay-3", printed)
    assert not rotated.is_valid("refinery", "bay-4", printed) and not rotated.is_valid("refinery", "bay-3", None)


def test_an_edited_link_with_any_characters_is_simply_not_valid():
    links = FormLinks([b"k" * 32], "http://intake")
    for edited in ("签名", "tökén", links.signature("refinery", "bay-3") + "é", ""):
        assert not links.is_valid("refinery", "bay-3", edited)
