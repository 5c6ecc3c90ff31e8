"""The aws rehearsal: the aws DAG and the state machine run on this machine against moto."""
