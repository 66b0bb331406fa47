"""统一社会信用代码 (USCC), GB 32100-2015: normalisation and the check character.

Source: ../shared/domain/qualification-rules.md §7 (five independent implementations agree).
"""

import unicodedata

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters; I, O, S, V, Z are not used
WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1, 3, 9, 27, 19, 26, ...

INVALID_LENGTH = "统一社会信用代码应为18位，实际为{length}位"
INVALID_CHARACTER = "统一社会信用代码第{position}位“{char}”不是允许的字符（数字及除I、O、S、V、Z外的大写字母）"
INVALID_CHECK = "统一社会信用代码校验位错误：第18位应为“{expected}”，实际为“{actual}”"


def normalise(code: str) -> str:
    """Strip spaces, turn full-width characters into half-width, upper-case."""
    return unicodedata.normalize("NFKC", code or "").replace(" ", "").strip().upper()


def check_character(first17: str) -> str:
    total = sum(CHARSET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def uscc_error(code: str) -> str | None:
    """The Chinese reason a (normalised) code is invalid, or None when it is valid."""
    if len(code) != 18:
        return INVALID_LENGTH.format(length=len(code))
    for position, char in enumerate(code, start=1):
        if char not in CHARSET:
            return INVALID_CHARACTER.format(position=position, char=char)
    expected = check_character(code[:17])
    if expected != code[17]:
        return INVALID_CHECK.format(expected=expected, actual=code[17])
    return None


def is_valid(code: str) -> bool:
    return uscc_error(normalise(code)) is None


def make_code(first17: str) -> str:
    """Completes 17 characters with their check character (used by demo data and tests)."""
    return first17 + check_character(first17)
