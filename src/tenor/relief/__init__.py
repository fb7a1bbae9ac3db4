"""Relief for borrowers in trouble: policies, credit scores, requests, offers and approvals.

The options and the eligibility rules are pure (:mod:`tenor.core.restructure`); this package
keeps their configuration (:mod:`tenor.relief.policy`), their tables
(:mod:`tenor.relief.tables`) and the reads of the workflow (:mod:`tenor.relief.workflow`).
The writes are in :mod:`tenor.actions.relief`.
"""
