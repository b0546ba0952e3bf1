//! Subcommands for the standards tools (`fdl`, `amf`, `mhl`): thin glue over platefarm-standards.

pub mod amf;
pub mod fdl;
pub mod mhl;
