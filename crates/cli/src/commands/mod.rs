//! Subcommands whose glue lives beside the library they drive.
