"""Notices drafted from the record: per obligation, in its languages, approved by legal.

- ``fills``: what each ``fill`` field reads from the record, phrased per language;
- ``record``: the incident's record as a draft reads it;
- ``compose``: the draft's text from a template per language (``templates/``);
- ``drafts``: drafting and approving (the ``notice_draft`` table, the decision), and reading them.
"""
