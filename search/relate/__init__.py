"""Related papers and more like this: which paper records to read with a given one, and the passages like any
passage (papers.py), with the papers it names (naming.py).

Named `relate`, not `related`: a sub-package named `related` would replace the facade's `search.related`
function once imported.
"""
