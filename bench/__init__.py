"""`make bench`: the platform's speed and memory, each figure against a ceiling of the same run.

`python -m bench` runs every part (see `bench/__main__.py`); the results land in
`bench/results/latest.md` and `bench/results/latest.json`.
"""
