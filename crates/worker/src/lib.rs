//! Worker service: pull a chunk, render, upload, report, ack
