//! Dispatcher service: validate, plan, record, publish, track
