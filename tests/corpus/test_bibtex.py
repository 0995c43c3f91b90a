"""BibTeX libraries → one paper record per entry, at the entry's lines."""

from __future__ import annotations

from corpus.documents import read_document
from corpus.packing import MAX_SPAN
from corpus.paper_ids import arxiv_id, arxiv_year, doi, paper_keys

LIBRARY = r"""% exported
@string{naacl = "Proceedings of NAACL"}

@inproceedings{devlin2019bert,
  title     = {{BERT}: Pre-training of Deep Bidirectional Transformers for Language Understanding},
  author    = {Devlin, Jacob and Chang, Ming-Wei and Lee, Kenton and Toutanova, Kristina},
  booktitle = naacl,
  year      = {2019},
  eprint    = {1810.04805},
  abstract  = {We introduce a new language representation model called BERT.},
  keywords  = {pre-training; language models}
}

@article{mueller2020, title = "Caf{\'e} Networks", author = "M{\"u}ller, J{\"o}rg and others", year = 2020,
  journal = {J. of Things}, doi = {10.1000/XYZ.1}}
@misc{broken, title={unclosed
"""


def test_each_entry_is_a_paper_record_at_its_lines():
    records = read_document("/lib/papers.bib", LIBRARY.encode()).passages
    assert [r.kind for r in records] == ["paper", "paper"]
    bert, cafe = records
    assert (bert.line_start, bert.line_end) == (4, 12)
    assert bert.paper.title == "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding"
    assert bert.paper.authors == ("Jacob Devlin", "Ming-Wei Chang", "Kenton Lee", "Kristina Toutanova")
    assert (bert.paper.year, bert.paper.venue, bert.paper.arxiv) == (2019, "Proceedings of NAACL", "1810.04805")
    assert bert.paper.note == "We introduce a new language representation model called BERT."
    assert bert.paper.keywords == ("pre-training", "language models") and bert.paper.citekey == "devlin2019bert"
    assert "We introduce" in bert.text and "Proceedings of NAACL" in bert.text
    assert (cafe.paper.title, cafe.paper.authors, cafe.paper.doi) == ("Café Networks", ("Jörg Müller",), "10.1000/xyz.1")
    assert cafe.line_start == 14 and cafe.line_end - cafe.line_start <= MAX_SPAN


def test_an_entry_that_cannot_be_read_is_named_in_a_warning():
    note = read_document("/lib/papers.bib", LIBRARY.encode()).note
    assert note.warnings == ("BibTeX entry at line 16 not read (its braces or quotes do not close)",)


def test_identity_keys_join_records_by_doi_arxiv_or_title():
    bert, _cafe = read_document("/lib/papers.bib", LIBRARY.encode()).passages
    assert "arxiv:1810.04805" in paper_keys(bert.paper)
    assert "title:bertpretrainingofdeepbidirectionaltransformersforlanguageunderstanding" in paper_keys(bert.paper)


def test_arxiv_ids_dois_and_their_years():
    assert arxiv_id("https://arxiv.org/pdf/1506.02626v3.pdf") == "1506.02626"
    assert arxiv_id("arXiv:hep-th/9901001") == "hep-th/9901001"
    assert arxiv_id("see 1810.04805") == ""  # a bare number in prose is no id
    assert (arxiv_year("1810.04805"), arxiv_year("hep-th/9901001"), arxiv_year("0704.0001")) == (2018, 1999, 2007)
    assert doi("https://doi.org/10.18653/V1/N19-1423.") == "10.18653/v1/n19-1423"
