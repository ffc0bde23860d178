//! Interoperability with wkg, the Bytecode Alliance's package tool, checked
//! with its own libraries in this crate's tests (`tests/`): OCI artifacts
//! published by either tool are fetched byte for byte by the other, and lock
//! files written by either are read by the other without loss. The crate
//! has no code of its own.
