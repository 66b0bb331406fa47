# The per-day assessment with its explanation stored is replaced by runs (0003): results keep status and
# score, the run keeps the situation and parameters, and explanations are replayed.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("tiering", "0001_initial")]

    operations = [migrations.DeleteModel(name="Assessment")]
