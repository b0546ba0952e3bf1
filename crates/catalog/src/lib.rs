//! Catalog of turnovers and chunks: trait, SQLite/PostgreSQL and the conformance suite
