//! Office hours (placeholder, being written).
