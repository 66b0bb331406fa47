import pytest

from kechuang.core import uscc


@pytest.mark.parametrize(
    "code",
    [
        "912201011239989159",  # 中国第一汽车集团有限公司, worked example in the rules reference §7
        "914403001922038216",  # second example there: remainder 25 → check "6"
        "91000000000000000K",  # a letter-valued check character
    ],
)
def test_it_accepts_codes_with_a_correct_check_character(code):
    assert uscc.uscc_error(code) is None


def test_it_computes_the_documented_check_characters():
    assert uscc.check_character("91220101123998915") == "9"
    assert uscc.check_character("91440300192203821") == "6"
    assert uscc.check_character("91000000000000000") == "K"


def test_it_names_the_expected_check_character_when_wrong():
    assert uscc.uscc_error("912201011239989158") == "统一社会信用代码校验位错误：第18位应为“9”，实际为“8”"


def test_it_rejects_excluded_letters_by_position():
    # I, O, S, V, Z are not in the GB 32100 character set.
    assert uscc.uscc_error("91220101123998915I") == (
        "统一社会信用代码第18位“I”不是允许的字符（数字及除I、O、S、V、Z外的大写字母）"
    )
    assert "第3位“O”" in uscc.uscc_error("91O201011239989159")


@pytest.mark.parametrize("code,length", [("91220101123998915", 17), ("9122010112399891590", 19), ("", 0)])
def test_it_rejects_wrong_lengths(code, length):
    assert uscc.uscc_error(code) == f"统一社会信用代码应为18位，实际为{length}位"


def test_it_normalises_full_width_spaces_and_case():
    assert uscc.normalise(" ９１０００００００００００００００ｋ ") == "91000000000000000K"
    assert uscc.is_valid("91000000000000000k")


def test_every_single_character_change_is_caught():
    valid = "912201011239989159"
    for position in range(18):
        for char in uscc.CHARSET:
            if char == valid[position]:
                continue
            changed = valid[:position] + char + valid[position + 1 :]
            assert uscc.uscc_error(changed) is not None, changed
