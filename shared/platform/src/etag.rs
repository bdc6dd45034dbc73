//! Etags: a resource's version as clients see it. Updates and transitions
//! that carry one are refused with ABORTED when the resource has moved on.

use crate::error::Error;

/// The etag of a resource at `version`.
pub fn of(version: i64) -> String {
    version.to_string()
}

/// Ok when `given` is empty (the caller does not guard the change) or the
/// resource's current etag.
pub fn check(resource: &str, given: &str, version: i64) -> Result<(), Error> {
    let current = of(version);
    if given.is_empty() || given == current {
        Ok(())
    } else {
        Err(Error::StaleEtag {
            resource: resource.to_owned(),
            given: given.to_owned(),
            current,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_or_current_etag_passes_and_a_stale_one_is_refused() {
        assert!(check("things/1", "", 3).is_ok());
        assert!(check("things/1", "3", 3).is_ok());
        assert!(matches!(
            check("things/1", "2", 3),
            Err(Error::StaleEtag { current, .. }) if current == "3"
        ));
    }
}
