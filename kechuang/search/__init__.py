"""The search engine of the platform, pure Python (no Django): Chinese tokenization (tokenizer), the BM25 ranker
and the protocol every ranker follows (index), and the character-TF-IDF baseline it is measured against
(baseline). Django code (kechuang.matching.index, kechuang.projects.expert_affinity) feeds it documents."""
