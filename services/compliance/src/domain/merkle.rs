//! The audit log's Merkle tree, in the shape RFC 9162 (Certificate
//! Transparency 2.0) defines: leaf hash `SHA-256(0x00 ‖ entry)`, node hash
//! `SHA-256(0x01 ‖ left ‖ right)`, a tree of `n` leaves split at the
//! largest power of two below `n`; inclusion and consistency proofs as its
//! §2.1.3 and §2.1.4 give them, and their verification.
//!
//! The tree is kept as its *perfect* subtrees: node `(level, index)` is the
//! hash of leaves `index·2^level … (index+1)·2^level − 1`, stored once all
//! of them exist. Any root or proof is a handful of those nodes; which ones
//! is computed here ([`root_nodes`], [`inclusion_nodes`],
//! [`consistency_nodes`]) so a store can read them in one query.

use std::collections::HashMap;

use sha2::{Digest as _, Sha256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// A perfect subtree: `level` (its height; leaves are level 0) and
/// `index` (its position among the subtrees of that level).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u32,
    pub index: u64,
}

/// The hash of a leaf whose content is `data`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// The hash of an inner node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: the hash of nothing.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The largest power of two strictly below `n` (n ≥ 2).
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// The nodes whose hashes make the root of leaves `a..b`, in the order
/// [`fold_range`] consumes them. `a` is aligned as RFC 9162's recursion
/// leaves it (a multiple of the largest power of two below `b − a`).
fn range_nodes(a: u64, b: u64, out: &mut Vec<NodeId>) {
    let n = b - a;
    if n.is_power_of_two() {
        let level = n.trailing_zeros();
        out.push(NodeId {
            level,
            index: a >> level,
        });
    } else {
        let k = split(n);
        range_nodes(a, a + k, out);
        range_nodes(a + k, b, out);
    }
}

/// The root of leaves `a..b` from the nodes [`range_nodes`] names.
fn fold_range(a: u64, b: u64, get: &impl Fn(NodeId) -> Hash) -> Hash {
    let n = b - a;
    if n.is_power_of_two() {
        let level = n.trailing_zeros();
        get(NodeId {
            level,
            index: a >> level,
        })
    } else {
        let k = split(n);
        node_hash(&fold_range(a, a + k, get), &fold_range(a + k, b, get))
    }
}

/// The nodes the root of a tree of `size` leaves is made of.
pub fn root_nodes(size: u64) -> Vec<NodeId> {
    let mut out = Vec::new();
    if size > 0 {
        range_nodes(0, size, &mut out);
    }
    out
}

/// The root of a tree of `size` leaves, from its nodes.
pub fn root(size: u64, get: &impl Fn(NodeId) -> Hash) -> Hash {
    if size == 0 {
        empty_root()
    } else {
        fold_range(0, size, get)
    }
}

/// RFC 9162 PATH(m, D[a:b]), as ranges whose roots make the proof.
fn path_ranges(m: u64, a: u64, b: u64, out: &mut Vec<(u64, u64)>) {
    if b - a <= 1 {
        return;
    }
    let k = split(b - a);
    if m < a + k {
        path_ranges(m, a, a + k, out);
        out.push((a + k, b));
    } else {
        path_ranges(m, a + k, b, out);
        out.push((a, a + k));
    }
}

/// RFC 9162 SUBPROOF(m, D[a:b], whole), as ranges.
fn subproof_ranges(m: u64, a: u64, b: u64, whole: bool, out: &mut Vec<(u64, u64)>) {
    let n = b - a;
    if m == n {
        if !whole {
            out.push((a, b));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof_ranges(m, a, a + k, whole, out);
        out.push((a + k, b));
    } else {
        subproof_ranges(m - k, a + k, b, false, out);
        out.push((a, a + k));
    }
}

fn ranges_nodes(ranges: &[(u64, u64)]) -> Vec<NodeId> {
    let mut out = Vec::new();
    for &(a, b) in ranges {
        range_nodes(a, b, &mut out);
    }
    out.sort();
    out.dedup();
    out
}

fn fold_ranges(ranges: &[(u64, u64)], get: &impl Fn(NodeId) -> Hash) -> Vec<Hash> {
    ranges.iter().map(|&(a, b)| fold_range(a, b, get)).collect()
}

fn inclusion_ranges(index: u64, size: u64) -> Vec<(u64, u64)> {
    let mut ranges = Vec::new();
    path_ranges(index, 0, size, &mut ranges);
    ranges
}

fn consistency_ranges(first: u64, second: u64) -> Vec<(u64, u64)> {
    let mut ranges = Vec::new();
    if 0 < first && first < second {
        subproof_ranges(first, 0, second, true, &mut ranges);
    }
    ranges
}

/// The nodes the inclusion proof of leaf `index` in a tree of `size`
/// leaves is made of (`index < size`).
pub fn inclusion_nodes(index: u64, size: u64) -> Vec<NodeId> {
    ranges_nodes(&inclusion_ranges(index, size))
}

/// The inclusion proof of leaf `index` in a tree of `size` leaves, from
/// the nodes [`inclusion_nodes`] names.
pub fn inclusion_proof(index: u64, size: u64, get: &impl Fn(NodeId) -> Hash) -> Vec<Hash> {
    fold_ranges(&inclusion_ranges(index, size), get)
}

/// The nodes the consistency proof from a tree of `first` leaves to one
/// of `second` is made of (`first ≤ second`).
pub fn consistency_nodes(first: u64, second: u64) -> Vec<NodeId> {
    ranges_nodes(&consistency_ranges(first, second))
}

/// The consistency proof from a tree of `first` leaves to one of `second`
/// (empty when `first` is 0 or equals `second`).
pub fn consistency_proof(first: u64, second: u64, get: &impl Fn(NodeId) -> Hash) -> Vec<Hash> {
    fold_ranges(&consistency_ranges(first, second), get)
}

/// The nodes already stored that appending to a tree of `size` leaves
/// builds on: its perfect subtrees on the right edge, largest first.
pub fn frontier(size: u64) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut start = 0;
    for level in (0..64).rev() {
        if size & (1 << level) != 0 {
            out.push(NodeId {
                level,
                index: start >> level,
            });
            start += 1 << level;
        }
    }
    out
}

/// The nodes that appending `leaves` to a tree of `size` leaves completes
/// — the leaves themselves and every subtree they make perfect — given
/// the hashes of its [`frontier`].
pub fn append(size: u64, frontier_hashes: &[Hash], leaves: &[Hash]) -> Vec<(NodeId, Hash)> {
    let mut known: HashMap<NodeId, Hash> = frontier(size)
        .into_iter()
        .zip(frontier_hashes.iter().copied())
        .collect();
    let mut made = Vec::new();
    for (offset, leaf) in leaves.iter().enumerate() {
        let index = size + offset as u64;
        let mut id = NodeId { level: 0, index };
        let mut hash = *leaf;
        known.insert(id, hash);
        made.push((id, hash));
        // Each completed right child completes its parent.
        while id.index % 2 == 1 {
            let left = known[&NodeId {
                level: id.level,
                index: id.index - 1,
            }];
            hash = node_hash(&left, &hash);
            id = NodeId {
                level: id.level + 1,
                index: id.index / 2,
            };
            known.insert(id, hash);
            made.push((id, hash));
        }
    }
    made
}

/// Why a proof does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("entry {index} is not in a tree of {size} entries")]
    OutOfRange { index: u64, size: u64 },
    #[error("the proof has the wrong number of hashes")]
    WrongLength,
    #[error("the proof leads to a different root")]
    RootMismatch,
    #[error("the proof leads to a different earlier root")]
    FirstRootMismatch,
    #[error("a tree of {second} entries cannot follow one of {first}")]
    Shrunk { first: u64, second: u64 },
    #[error("equal sizes must have equal roots and an empty proof")]
    SameSizeDiffers,
}

/// RFC 9162 §2.1.3.2: checks that `leaf` is entry `index` of the tree of
/// `size` entries whose root is `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::OutOfRange { index, size });
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// RFC 9162 §2.1.4.2: checks that the tree of `second` entries whose root
/// is `second_root` extends the tree of `first` entries whose root is
/// `first_root`.
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &Hash,
    second_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if first > second {
        return Err(ProofError::Shrunk { first, second });
    }
    if first == second {
        return if proof.is_empty() && first_root == second_root {
            Ok(())
        } else {
            Err(ProofError::SameSizeDiffers)
        };
    }
    if first == 0 {
        // Every tree extends the empty one.
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(ProofError::WrongLength)
        };
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if first.is_power_of_two() {
        path.push(*first_root);
    }
    path.extend_from_slice(proof);
    let Some((head, rest)) = path.split_first() else {
        return Err(ProofError::WrongLength);
    };
    let (mut fn_, mut sn) = (first - 1, second - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*head, *head);
    for c in rest {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr != *first_root {
        return Err(ProofError::FirstRootMismatch);
    }
    if sr != *second_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// The roots of a log read leaf by leaf, with memory for one path: how
/// the whole tree is recomputed from the stored entries.
#[derive(Debug, Default, Clone)]
pub struct Frontier {
    /// The right edge's perfect subtrees, largest first.
    nodes: Vec<(NodeId, Hash)>,
    size: u64,
}

impl Frontier {
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Adds the next leaf; the nodes it completes, itself first.
    pub fn push(&mut self, leaf: Hash) -> Vec<(NodeId, Hash)> {
        let mut id = NodeId {
            level: 0,
            index: self.size,
        };
        let mut hash = leaf;
        let mut completed = vec![(id, hash)];
        while let Some(&(top, left)) = self.nodes.last() {
            if top.level != id.level {
                break;
            }
            self.nodes.pop();
            hash = node_hash(&left, &hash);
            id = NodeId {
                level: id.level + 1,
                index: top.index / 2,
            };
            completed.push((id, hash));
        }
        self.nodes.push((id, hash));
        self.size += 1;
        completed
    }

    /// The root of the leaves so far.
    pub fn root(&self) -> Hash {
        let mut iter = self.nodes.iter().rev();
        let Some(&(_, mut r)) = iter.next() else {
            return empty_root();
        };
        for (_, h) in iter {
            r = node_hash(h, &r);
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9162 §2.1.1's definition, straight: the reference the stored
    /// shape is checked against.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    /// The leaves of the RFC 6962 test vectors used by Certificate
    /// Transparency implementations.
    fn vector_leaves() -> Vec<Hash> {
        let data: [&[u8]; 8] = [
            b"",
            b"\x00",
            b"\x10",
            b"\x20\x21",
            b"\x30\x31",
            b"\x40\x41\x42\x43",
            b"\x50\x51\x52\x53\x54\x55\x56\x57",
            b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
        ];
        data.iter().map(|d| leaf_hash(d)).collect()
    }

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    /// Every perfect node of a tree of `leaves`, built by [`append`] in
    /// uneven batches, as a store would keep them.
    fn stored(leaves: &[Hash]) -> HashMap<NodeId, Hash> {
        let mut nodes = HashMap::new();
        let mut size = 0u64;
        let mut batch = 1;
        while (size as usize) < leaves.len() {
            let end = (size as usize + batch).min(leaves.len());
            let edge: Vec<Hash> = frontier(size).iter().map(|id| nodes[id]).collect();
            for (id, hash) in append(size, &edge, &leaves[size as usize..end]) {
                assert!(nodes.insert(id, hash).is_none(), "{id:?} made twice");
            }
            size = end as u64;
            batch = batch % 5 + 1;
        }
        nodes
    }

    #[test]
    fn roots_match_the_rfc_6962_test_vectors() {
        let expected = [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ];
        let leaves = vector_leaves();
        let nodes = stored(&leaves);
        for (i, want) in expected.iter().enumerate() {
            let size = i as u64 + 1;
            assert_eq!(
                hex::encode(mth(&leaves[..=i])),
                *want,
                "reference, size {size}"
            );
            assert_eq!(
                hex::encode(root(size, &|id| nodes[&id])),
                *want,
                "stored, size {size}"
            );
        }
        assert_eq!(
            hex::encode(empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn every_proof_of_every_tree_up_to_70_verifies_and_a_wrong_one_does_not() {
        let all = leaves(70);
        let nodes = stored(&all);
        let get = |id: NodeId| nodes[&id];
        let mut frontier = Frontier::default();
        for size in 1..=all.len() as u64 {
            for (id, hash) in frontier.push(all[size as usize - 1]) {
                assert_eq!(nodes[&id], hash, "{id:?} as streamed");
            }
            let want = mth(&all[..size as usize]);
            assert_eq!(root(size, &get), want);
            assert_eq!(frontier.root(), want, "streamed root, size {size}");
            for index in 0..size {
                let proof = inclusion_proof(index, size, &get);
                let leaf = all[index as usize];
                verify_inclusion(index, size, &leaf, &proof, &want)
                    .unwrap_or_else(|e| panic!("{index} in {size}: {e}"));
                assert!(
                    verify_inclusion(index, size, &all[(index as usize + 1) % 70], &proof, &want)
                        .is_err()
                );
                if let Some(first) = proof.first() {
                    let mut bent = proof.clone();
                    bent[0] = node_hash(first, first);
                    assert!(verify_inclusion(index, size, &leaf, &bent, &want).is_err());
                }
            }
            for first in 0..=size {
                let proof = consistency_proof(first, size, &get);
                let old = mth(&all[..first as usize]);
                verify_consistency(first, size, &old, &want, &proof)
                    .unwrap_or_else(|e| panic!("{first} to {size}: {e}"));
                if 0 < first && first < size {
                    let other = leaf_hash(b"not the old root");
                    // (When `first` is a power of two its root is the
                    // proof's first hash, and the later root is what fails.)
                    assert!(verify_consistency(first, size, &other, &want, &proof).is_err());
                    assert!(verify_consistency(first, size, &old, &other, &proof).is_err());
                }
            }
        }
    }

    #[test]
    fn a_proof_reads_only_the_nodes_it_names() {
        let all = leaves(1000);
        let nodes = stored(&all);
        for (index, size) in [(0, 1000), (999, 1000), (511, 513), (512, 513), (37, 640)] {
            let named: std::collections::HashSet<NodeId> =
                inclusion_nodes(index, size).into_iter().collect();
            let proof = inclusion_proof(index, size, &|id| {
                assert!(named.contains(&id), "{id:?} was not named");
                nodes[&id]
            });
            verify_inclusion(
                index,
                size,
                &all[index as usize],
                &proof,
                &mth(&all[..size as usize]),
            )
            .expect("verifies");
            assert!(named.len() <= 2 * 64);
        }
        for (first, second) in [(1, 1000), (512, 1000), (999, 1000), (7, 8), (300, 700)] {
            let named: std::collections::HashSet<NodeId> =
                consistency_nodes(first, second).into_iter().collect();
            consistency_proof(first, second, &|id| {
                assert!(named.contains(&id), "{id:?} was not named");
                nodes[&id]
            });
        }
        let named: std::collections::HashSet<NodeId> = root_nodes(1000).into_iter().collect();
        assert_eq!(named.len(), 6, "1000 = 512 + 256 + 128 + 64 + 32 + 8");
    }
}
