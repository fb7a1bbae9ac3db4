"""Credit-bureau reporting: month-end snapshots from the journal, Metro 2 and PBOC-style files.

``tables`` holds what bureau reporting needs beyond the book (Metro 2 identities, collections
flags, special comments, disputes, deletions, the log of files written); ``records`` is the
only writer of those tables; ``snapshot`` folds a loan's journal into month-end facts;
``export`` turns facts into files.
"""
