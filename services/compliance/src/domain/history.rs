//! One step in the life of an inspection, notice or filing: what was done,
//! by whom, when.

use procedo_platform::person::Person;
use procedo_platform::time::Millis;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub action: String,
    pub detail: String,
    pub actor: Person,
    pub at: Millis,
}
