//! Pure model: turnovers, validation, wire messages, chunk planning, job states
