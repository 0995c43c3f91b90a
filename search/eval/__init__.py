"""Evaluation: judgement files read, hits matched to the judged places, and nDCG, recall and MRR per mode and
kind of query (evaluation.py), as ../shared/eval/score.py computes them.
"""
