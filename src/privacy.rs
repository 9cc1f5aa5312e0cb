//! Privacy detectors (placeholder, being written).
