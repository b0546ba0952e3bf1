//! The platefarm command.
fn main() {}
