from pathlib import Path

from kechuang.enterprises.figures import FIGURES
from kechuang.enterprises.models import EnterpriseYear

DICTIONARY = Path(__file__).resolve().parents[2] / "docs" / "data-dictionary.md"


def test_every_figure_is_a_model_field_with_its_label():
    for figure in FIGURES:
        field = EnterpriseYear._meta.get_field(figure.name)
        assert field.verbose_name == figure.label
        assert figure.definition in field.help_text
        assert field.null, f"{figure.name}: missing must be NULL, never 0"


def test_the_data_dictionary_documents_every_figure():
    text = DICTIONARY.read_text(encoding="utf-8")
    for figure in FIGURES:
        assert f"| `{figure.name}` | {figure.header} | {figure.definition} |" in text
