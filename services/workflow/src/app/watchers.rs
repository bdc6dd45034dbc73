//! Who waits on which instance: a change wakes the watchers of its own
//! instance only, however many others are watched.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

/// Per watched instance, a counter its changes bump.
#[derive(Debug, Default)]
pub struct Watchers {
    instances: Arc<Mutex<HashMap<String, watch::Sender<u64>>>>,
}

impl Watchers {
    /// Wakes the watchers of `instance`, if any.
    pub fn changed(&self, instance: &str) {
        if let Some(counter) = self.lock().get(instance) {
            counter.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// Waits on `instance`: every change from now on is seen, even one
    /// made before the watcher starts waiting.
    pub fn watch(&self, instance: &str) -> Watching {
        let changes = self
            .lock()
            .entry(instance.to_owned())
            .or_insert_with(|| watch::channel(0).0)
            .subscribe();
        Watching {
            instance: instance.to_owned(),
            changes: Some(changes),
            instances: self.instances.clone(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, watch::Sender<u64>>> {
        // The map stays whole whatever a panicking holder did.
        self.instances
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    #[cfg(test)]
    fn watched(&self) -> usize {
        self.lock().len()
    }
}

/// One watcher of one instance; the instance is forgotten with its last
/// watcher.
#[derive(Debug)]
pub struct Watching {
    instance: String,
    changes: Option<watch::Receiver<u64>>,
    instances: Arc<Mutex<HashMap<String, watch::Sender<u64>>>>,
}

impl Watching {
    /// Resolves at the next change not seen yet.
    pub async fn changed(&mut self) {
        let seen = match self.changes.as_mut() {
            Some(changes) => changes.changed().await.is_ok(),
            None => false,
        };
        if !seen {
            // The sender lives in the map while anyone watches.
            std::future::pending::<()>().await;
        }
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        drop(self.changes.take());
        let mut instances = self
            .instances
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if instances
            .get(&self.instance)
            .is_some_and(|counter| counter.receiver_count() == 0)
        {
            instances.remove(&self.instance);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    async fn woken(w: &mut Watching) -> bool {
        tokio::time::timeout(Duration::from_millis(50), w.changed())
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn a_change_wakes_the_watchers_of_its_instance_only() {
        let watchers = Watchers::default();
        let mut a = watchers.watch("a");
        let mut a_too = watchers.watch("a");
        let mut b = watchers.watch("b");
        watchers.changed("a");
        assert!(woken(&mut a).await);
        assert!(woken(&mut a_too).await);
        assert!(!woken(&mut b).await, "b did not change");
        assert!(!woken(&mut a).await, "one change wakes once");
    }

    #[tokio::test]
    async fn a_change_before_the_wait_is_not_lost() {
        let watchers = Watchers::default();
        let mut a = watchers.watch("a");
        watchers.changed("a");
        assert!(woken(&mut a).await);
    }

    #[test]
    fn an_instance_is_forgotten_with_its_last_watcher() {
        let watchers = Watchers::default();
        let a = watchers.watch("a");
        let a_too = watchers.watch("a");
        drop(a);
        assert_eq!(watchers.watched(), 1);
        drop(a_too);
        assert_eq!(watchers.watched(), 0);
        watchers.changed("a");
        assert_eq!(watchers.watched(), 0, "a change watched by none is dropped");
    }
}
