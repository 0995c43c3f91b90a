"""Scoring and fusing: the keyword query scored with numpy (scorer.py), the keyword and vector rankings
(ranking.py), their fusion (fusion.py), snippets (snippets.py), and `search()` running these steps (engine.py).

The modules load only when imported by name (the facade, search/__init__.py, imports them on first use).
"""
