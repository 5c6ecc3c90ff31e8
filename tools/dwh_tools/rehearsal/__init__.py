"""Rehearsals: the AWS runtime's calls executed for real, in-process, behind moto."""
