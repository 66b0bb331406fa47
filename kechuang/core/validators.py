from django.core.exceptions import ValidationError

from kechuang.core import uscc


def validate_uscc(value: str) -> None:
    error = uscc.uscc_error(value)
    if error:
        raise ValidationError(error, code="invalid_uscc", params={"value": value})
