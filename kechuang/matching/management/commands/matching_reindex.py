"""`kechuang matching_reindex [--retokenize]`: build the search index of 双向发榜 from scratch.

Stores fresh tokens for every posting whose stored tokens were made by another version of the tokenizer (every
posting with --retokenize, e.g. after the domain dictionary changed), compacts the index change log (so every
running process builds its index again at its next query), and builds the index once here, printing each step
and the counts. Safe to run at any time; run it after a deployment that changes kechuang/search/.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from kechuang.matching import index


class Command(BaseCommand):
    help = "重建双向发榜检索索引（必要时重新分词，清理变更记录，各进程在下次检索时重建）"

    def add_arguments(self, parser):
        parser.add_argument(
            "--retokenize",
            action="store_true",
            help="为全部需求、成果和专家团队重新分词（默认只处理分词版本过期的）",
        )

    def handle(self, *args, retokenize: bool = False, **options):
        result = index.reindex(retokenize=retokenize, progress=lambda line: self.stdout.write(line))
        documents = sum(result[kind] for kind in index.KINDS)
        self.stdout.write(
            self.style.SUCCESS(
                f"完成：索引 {documents:,} 条（需求 {result['demand']:,}，成果 {result['achievement']:,}，"
                f"专家团队 {result['talent']:,}，企业 {result['enterprise']:,}），共用时 {result['seconds']:.1f} 秒"
            )
        )
