"""The index opened for searching and what it holds: `open_index` and NoteIndex (index.py), and the passage at a
line of a note, with the note's lines around it (excerpts.py).
"""
