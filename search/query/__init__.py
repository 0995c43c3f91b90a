"""Understanding a query: its syntax (syntax.py), the plan every later step reads (plan.py, with the notes'
glossary: glossary.py), and the keyword query compiled from the plan (compiler.py) as notesearch's own nodes
(nodes.py).

Nothing here reads the index; the modules load only when imported by name.
"""
