//! Which records an inspection samples: of a population, the `count`
//! whose SHA-256(inspection id ‖ 0x00 ‖ resource name) is smallest. As good
//! as a random draw for picking records, and reproducible: anyone with the
//! population can recompute the sample and see nobody chose it by hand.

use sha2::{Digest, Sha256};

fn rank(seed: &str, resource: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(seed.as_bytes());
    h.update([0]);
    h.update(resource.as_bytes());
    h.finalize().into()
}

/// The sample of `count` from `population` (resource, label), in rank
/// order.
pub fn draw(
    seed: &str,
    population: impl IntoIterator<Item = (String, String)>,
    count: usize,
) -> Vec<(String, String)> {
    let mut ranked: Vec<([u8; 32], (String, String))> = population
        .into_iter()
        .map(|(resource, label)| (rank(seed, &resource), (resource, label)))
        .collect();
    ranked.sort_by_key(|r| r.0);
    ranked.dedup_by(|a, b| a.1.0 == b.1.0);
    ranked.into_iter().take(count).map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn population(n: usize) -> Vec<(String, String)> {
        (0..n)
            .map(|i| (format!("documents/{i}"), format!("D-{i}")))
            .collect()
    }

    #[test]
    fn a_draw_is_reproducible_and_depends_on_the_seed_not_the_order() {
        let a = draw("inspection-1", population(50), 5);
        let mut reversed = population(50);
        reversed.reverse();
        assert_eq!(a, draw("inspection-1", reversed, 5));
        assert_eq!(a.len(), 5);
        assert_ne!(a, draw("inspection-2", population(50), 5));
    }

    #[test]
    fn a_small_population_is_drawn_whole_once() {
        let mut twice = population(3);
        twice.extend(population(3));
        let drawn = draw("s", twice, 10);
        assert_eq!(drawn.len(), 3);
    }
}
