"""Citizen budgets: processes, ballots, counting rules and Pabulib import/export."""
