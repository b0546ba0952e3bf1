//! Work queue trait, in-process queue and the conformance suite
