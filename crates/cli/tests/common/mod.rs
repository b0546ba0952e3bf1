pub mod farm;
