//! Subcommands for the standards tools (`fdl`, `amf`): thin glue over platefarm-standards.

pub mod amf;
pub mod fdl;
