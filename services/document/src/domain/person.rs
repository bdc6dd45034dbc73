//! Who did something, as a record keeps it.

pub use procedo_platform::person::Person;
