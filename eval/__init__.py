"""Quality evaluation on the shared datasets (NTREX, FacQA, IDK-MRC): ``python -m eval --help``.

Every figure comes from the read-only files in ../shared/data, rebuilt into articles and questions
by ``eval.datasets`` on each run, so any number can be reproduced from the command line alone.
"""
