"""Form widgets every app shares."""

from django import forms


class IsoDateInput(forms.DateInput):
    """The browser's date picker. It takes only YYYY-MM-DD: a date rendered in the zh-hans format
    ("2026年11月23日") would leave the picker empty, so the initial value would be lost."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")
