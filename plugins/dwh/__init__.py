"""dwh: the e-commerce warehouse's task-graph model, compilers, operators and command line."""
