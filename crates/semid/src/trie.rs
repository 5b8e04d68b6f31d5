//! A compact prefix trie over items' semantic IDs, for constrained decoding and
//! prefix filters.

use crate::error::{Result, SemidError};
use crate::ids::SemanticIds;

/// One trie node: a range of the sorted item array and a range of the child arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Node {
    /// Items extending this node's prefix are `items[start..end]`.
    start: u32,
    end: u32,
    /// Children are `child_codes/child_nodes[first_child..first_child + num_children]`.
    first_child: u32,
    num_children: u32,
}

/// Prefix trie over fixed-length code sequences, stored as flat arrays.
///
/// Items are kept sorted by (ID, insertion order) in one array, so the items that
/// extend any prefix are one contiguous slice; each node's children are a sorted run
/// of codes in one shared array (compressed sparse rows). A lookup costs one binary
/// search per digit and allocates nothing. [`PrefixTrie::insert`] adds one item
/// online in time linear in the trie size (a memmove and an index shift), which is
/// cheap next to one decoding step; build large tries with [`PrefixTrie::build`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixTrie {
    depth: usize,
    items: Vec<u32>,
    nodes: Vec<Node>,
    child_codes: Vec<u32>,
    child_nodes: Vec<u32>,
}

impl PrefixTrie {
    /// An empty trie over sequences of `depth` digits.
    pub fn new(depth: usize) -> Self {
        let root = Node {
            start: 0,
            end: 0,
            first_child: 0,
            num_children: 0,
        };
        Self {
            depth,
            items: Vec::new(),
            nodes: vec![root],
            child_codes: Vec::new(),
            child_nodes: Vec::new(),
        }
    }

    /// The trie over all items of a semantic-ID table (full IDs, identification digit included).
    pub fn from_ids(ids: &SemanticIds) -> Self {
        let n = ids.num_digits();
        let entries = (0..ids.len() as u32).map(|i| (i, ids.codes(i)));
        Self::build(n, entries).expect("a SemanticIds table has rows of equal length")
    }

    /// Builds a trie from `(item, code sequence)` pairs, all of length `depth`.
    pub fn build<'a>(
        depth: usize,
        entries: impl IntoIterator<Item = (u32, &'a [u32])>,
    ) -> Result<Self> {
        let mut rows: Vec<(&[u32], u32)> = Vec::new();
        for (item, codes) in entries {
            check_len(depth, codes)?;
            rows.push((codes, item));
        }
        rows.sort_unstable();
        let mut trie = Self::new(depth);
        trie.items = rows.iter().map(|r| r.1).collect();
        trie.nodes[0].end = rows.len() as u32;
        // Breadth first, so that every node's children are appended as one contiguous run.
        let mut level = vec![0u32];
        for d in 0..depth {
            let mut next = Vec::new();
            for &node in &level {
                let Node { start, end, .. } = trie.nodes[node as usize];
                trie.nodes[node as usize].first_child = trie.child_codes.len() as u32;
                let mut s = start as usize;
                while s < end as usize {
                    let code = rows[s].0[d];
                    let e = s + rows[s..end as usize].partition_point(|r| r.0[d] == code);
                    let child = trie.nodes.len() as u32;
                    trie.nodes.push(Node {
                        start: s as u32,
                        end: e as u32,
                        first_child: 0,
                        num_children: 0,
                    });
                    trie.child_codes.push(code);
                    trie.child_nodes.push(child);
                    trie.nodes[node as usize].num_children += 1;
                    next.push(child);
                    s = e;
                }
            }
            level = next;
        }
        Ok(trie)
    }

    /// Length of the code sequences.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the trie holds no items.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Number of nodes, the root included.
    pub fn num_nodes(&self) -> usize {
        self.nodes.len()
    }

    fn child(&self, node: u32, code: u32) -> Result<u32, usize> {
        let n = self.nodes[node as usize];
        let range = n.first_child as usize..(n.first_child + n.num_children) as usize;
        match self.child_codes[range.clone()].binary_search(&code) {
            Ok(i) => Ok(self.child_nodes[range.start + i]),
            Err(i) => Err(i),
        }
    }

    fn find(&self, prefix: &[u32]) -> Option<u32> {
        if prefix.len() > self.depth {
            return None;
        }
        let mut node = 0u32;
        for &code in prefix {
            node = self.child(node, code).ok()?;
        }
        Some(node)
    }

    /// Whether some item's sequence starts with `prefix` (the empty prefix: whether any item exists).
    pub fn contains_prefix(&self, prefix: &[u32]) -> bool {
        self.find(prefix)
            .is_some_and(|n| self.nodes[n as usize].end > self.nodes[n as usize].start)
    }

    /// How many leading codes of `codes` some item's sequence starts with: the length
    /// of the longest prefix of `codes` for which [`PrefixTrie::contains_prefix`] holds
    /// (0 when none; at most the trie's depth). The verifier scores an unseen item over
    /// the prefix it shares with in-sample items, and `specgr diagnose` counts them.
    pub fn shared_prefix_len(&self, codes: &[u32]) -> usize {
        let mut node = 0u32;
        let mut shared = 0;
        for &code in codes.iter().take(self.depth) {
            match self.child(node, code) {
                Ok(next) if self.nodes[next as usize].end > self.nodes[next as usize].start => {
                    node = next;
                    shared += 1;
                }
                _ => break,
            }
        }
        shared
    }

    /// The items whose sequence starts with `prefix`, sorted by sequence and then
    /// by insertion order; empty when there are none.
    pub fn items_with_prefix(&self, prefix: &[u32]) -> &[u32] {
        match self.find(prefix) {
            Some(n) => {
                let n = self.nodes[n as usize];
                &self.items[n.start as usize..n.end as usize]
            }
            None => &[],
        }
    }

    /// The codes that may follow `prefix`, sorted ascending; empty for an unknown or full-length prefix.
    pub fn next_codes(&self, prefix: &[u32]) -> &[u32] {
        match self.find(prefix) {
            Some(n) => {
                let n = self.nodes[n as usize];
                &self.child_codes[n.first_child as usize..(n.first_child + n.num_children) as usize]
            }
            None => &[],
        }
    }

    /// Adds `item` with sequence `codes`.
    pub fn insert(&mut self, item: u32, codes: &[u32]) -> Result<()> {
        check_len(self.depth, codes)?;
        // Walk down the existing path and find where the item goes in `items`.
        let mut path = vec![0u32];
        let mut node = 0u32;
        let mut d = 0;
        let mut missing_at = None;
        while d < self.depth {
            match self.child(node, codes[d]) {
                Ok(c) => {
                    node = c;
                    path.push(c);
                    d += 1;
                }
                Err(i) => {
                    missing_at = Some(i);
                    break;
                }
            }
        }
        let parent = self.nodes[node as usize];
        let pos = match missing_at {
            // A new child sorted before an existing sibling: its items start where the sibling's do.
            Some(i) if i < parent.num_children as usize => {
                self.nodes[self.child_nodes[parent.first_child as usize + i] as usize].start
            }
            _ => parent.end,
        };
        // Shift item ranges: nodes on the path grow, nodes entirely after `pos` move.
        let on_path = |n: usize| path.contains(&(n as u32));
        for (n, node) in self.nodes.iter_mut().enumerate() {
            if on_path(n) {
                node.end += 1;
            } else if node.start >= pos {
                node.start += 1;
                node.end += 1;
            }
        }
        self.items.insert(pos as usize, item);
        if let Some(i) = missing_at {
            // Insert the new child into the parent's run of children and shift the other runs.
            let at = if parent.num_children == 0 {
                self.child_codes.len() as u32
            } else {
                parent.first_child + i as u32
            };
            let new_node = self.nodes.len() as u32;
            self.child_codes.insert(at as usize, codes[d]);
            self.child_nodes.insert(at as usize, new_node);
            for (n, other) in self.nodes.iter_mut().enumerate() {
                if n != node as usize && other.num_children > 0 && other.first_child >= at {
                    other.first_child += 1;
                }
            }
            let p = &mut self.nodes[node as usize];
            if p.num_children == 0 {
                p.first_child = at;
            }
            p.num_children += 1;
            // The rest of the path is a chain of new single-child nodes.
            self.nodes.push(Node {
                start: pos,
                end: pos + 1,
                first_child: 0,
                num_children: 0,
            });
            let mut last = new_node;
            for &code in &codes[d + 1..] {
                let child = self.nodes.len() as u32;
                self.nodes[last as usize].first_child = self.child_codes.len() as u32;
                self.nodes[last as usize].num_children = 1;
                self.child_codes.push(code);
                self.child_nodes.push(child);
                self.nodes.push(Node {
                    start: pos,
                    end: pos + 1,
                    first_child: 0,
                    num_children: 0,
                });
                last = child;
            }
        }
        Ok(())
    }
}

fn check_len(depth: usize, codes: &[u32]) -> Result<()> {
    if codes.len() != depth {
        return Err(SemidError::InvalidCodes {
            codes: codes.to_vec(),
            reason: format!("the trie holds sequences of {depth} digits"),
        });
    }
    Ok(())
}
