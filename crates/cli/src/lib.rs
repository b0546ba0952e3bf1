//! The `platefarm` command as a library (so tests drive exactly what users run): the embedded
//! farm, the sample generator, the demo and the standards tools' command glue.

pub mod autoscaler;
pub mod bench;
pub mod client;
pub mod commands;
pub mod convert;
pub mod demo;
pub mod embedded;
pub mod farm;
pub mod farm_bench;
pub mod ingest;
pub mod remote;
pub mod sample;
pub mod simulate;
