//! Object store trait, local-filesystem store and the conformance suite
