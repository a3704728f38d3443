// A path-compressed binary trie for longest-prefix match over one address
// family. The design follows the Linux WireGuard module's allowedips.c:
//
// - A node stands for one prefix (key masked to `length` bits). Nodes that
//   carry a value are entries; nodes without one are forks, created only where
//   two entries diverge, so a fork always has exactly two children.
// - Path compression: a child may be many bits longer than its parent. The
//   child on side `b` of a node of length L has bit L equal to `b` and shares
//   the node's first L bits, so lookups compare the whole masked key at each
//   node instead of walking bit by bit.
// - Unlike the kernel there is no per-node allocation: nodes live in one
//   array and refer to each other by index, and removed nodes go onto a free
//   list that later inserts reuse. Lookups only read the array.

/// An address type the trie can index: a fixed-width string of bits, most
/// significant bit first.
protocol PrefixKey: Equatable {
    /// The number of bits in a key (32 or 128).
    static var bitWidth: Int { get }
    /// The key with every bit at position `length` or later cleared (0...bitWidth).
    func masked(toLength length: Int) -> Self
    /// The bit at `index` (0 is the most significant), as 0 or 1; index < bitWidth.
    func bit(at index: Int) -> Int
    /// How many leading bits the two keys share (bitWidth when equal).
    func commonPrefixLength(with other: Self) -> Int
}

/// "No node": the empty child, the parent of the root, the end of the free list.
let noNode: Int32 = -1
/// The parent marker of a node that sits on the free list.
let freeNodeMarker: Int32 = -2

/// One trie node, stored by value in `PrefixTrie.nodes`.
struct PrefixTrieNode<Key: PrefixKey, Value> {
    /// The prefix bits, masked to `length`.
    var key: Key
    /// The prefix length.
    var length: UInt8
    /// The child whose bit `length` is 0; on the free list, the next free node.
    var zero: Int32
    /// The child whose bit `length` is 1.
    var one: Int32
    /// The parent node, `noNode` for the root, `freeNodeMarker` when free.
    var parent: Int32
    /// The entry's value; nil for a fork (and for a free node).
    var value: Value?
}

/// A longest-prefix-match table for one address family (see the file comment).
struct PrefixTrie<Key: PrefixKey, Value: Equatable> {
    typealias Node = PrefixTrieNode<Key, Value>

    /// Every node ever allocated, live or free, addressed by index.
    private(set) var nodes: [Node] = []
    /// The root node, or `noNode` when the trie is empty.
    private(set) var root: Int32 = noNode
    /// The head of the free list threaded through `Node.zero`.
    private(set) var freeHead: Int32 = noNode
    /// The number of entries (nodes with a value).
    private(set) var count = 0

    /// The value of the longest prefix containing `key`, or nil. Allocates nothing.
    func lookup(_ key: Key) -> Value? {
        nodes.withUnsafeBufferPointer { nodes in
            var best = noNode
            var index = root
            while index != noNode {
                let length = Int(nodes[Int(index)].length)
                // Path compression skipped bits: check the node really matches.
                guard key.masked(toLength: length) == nodes[Int(index)].key else { break }
                if nodes[Int(index)].value != nil { best = index }
                if length == Key.bitWidth { break }
                index = key.bit(at: length) == 0 ? nodes[Int(index)].zero : nodes[Int(index)].one
            }
            return best == noNode ? nil : nodes[Int(best)].value
        }
    }

    /// The value stored for exactly this prefix, or nil.
    func value(for key: Key, length: Int) -> Value? {
        let index = find(key.masked(toLength: length), length: length)
        return index == noNode ? nil : nodes[Int(index)].value
    }

    /// Stores `value` for the prefix `key`/`length`, replacing and returning
    /// any value the same prefix had.
    mutating func insert(_ key: Key, length: Int, _ value: Value) -> Value? {
        precondition(length >= 0 && length <= Key.bitWidth, "prefix length out of range")
        let key = key.masked(toLength: length)
        guard root != noNode else {
            root = allocate(key, length: length, value, parent: noNode)
            count += 1
            return nil
        }
        var index = root
        while true {
            let nodeKey = nodes[Int(index)].key
            let nodeLength = Int(nodes[Int(index)].length)
            let common = min(key.commonPrefixLength(with: nodeKey), nodeLength, length)
            if common == nodeLength {
                // This node's prefix contains the new one (or is it).
                if nodeLength == length {
                    let old = nodes[Int(index)].value
                    if old == nil { count += 1 }
                    nodes[Int(index)].value = value
                    return old
                }
                let side = key.bit(at: nodeLength)
                let next = child(of: index, side: side)
                if next == noNode {
                    let leaf = allocate(key, length: length, value, parent: index)
                    setChild(of: index, side: side, to: leaf)
                    count += 1
                    return nil
                }
                index = next
                continue
            }
            // The new prefix leaves this node's path before the node's length.
            let parent = nodes[Int(index)].parent
            if common == length {
                // The new prefix contains this node: put it in between.
                let entry = allocate(key, length: length, value, parent: parent)
                setChild(of: entry, side: nodeKey.bit(at: length), to: index)
                nodes[Int(index)].parent = entry
                replaceChild(of: parent, old: index, new: entry)
            } else {
                // They diverge at bit `common`: a fork holds both.
                let fork = allocate(key.masked(toLength: common), length: common, nil, parent: parent)
                let leaf = allocate(key, length: length, value, parent: fork)
                setChild(of: fork, side: key.bit(at: common), to: leaf)
                setChild(of: fork, side: nodeKey.bit(at: common), to: index)
                nodes[Int(index)].parent = fork
                replaceChild(of: parent, old: index, new: fork)
            }
            count += 1
            return nil
        }
    }

    /// Removes the prefix `key`/`length` and returns its value, or returns
    /// nil if the trie has no such entry.
    mutating func remove(_ key: Key, length: Int) -> Value? {
        let index = find(key.masked(toLength: length), length: length)
        guard index != noNode, let old = nodes[Int(index)].value else { return nil }
        nodes[Int(index)].value = nil
        count -= 1
        prune(from: index)
        return old
    }

    /// Removes every entry whose value equals `value`; returns how many.
    mutating func removeAll(value: Value) -> Int {
        var matches: [Int32] = []
        forEachEntry { index in
            if nodes[Int(index)].value == value { matches.append(index) }
        }
        // Pruning frees only valueless nodes, so entries still to visit stay put.
        for index in matches {
            nodes[Int(index)].value = nil
            count -= 1
            prune(from: index)
        }
        return matches.count
    }

    /// Empties the trie, keeping the node storage for reuse.
    mutating func removeAll() {
        nodes.removeAll(keepingCapacity: true)
        root = noNode
        freeHead = noNode
        count = 0
    }

    /// Calls `body` with the index of every entry in prefix order: by address,
    /// a shorter prefix before the longer ones it contains.
    func forEachEntry(_ body: (Int32) -> Void) {
        guard root != noNode else { return }
        var stack: [Int32] = [root]
        while let index = stack.popLast() {
            let node = nodes[Int(index)]
            if node.value != nil { body(index) }
            // Push `one` first so the `zero` side (lower addresses) comes out first.
            if node.one != noNode { stack.append(node.one) }
            if node.zero != noNode { stack.append(node.zero) }
        }
    }

    // MARK: - Node storage

    /// The node holding exactly the (masked) prefix `key`/`length`, entry or
    /// fork, or `noNode`.
    private func find(_ key: Key, length: Int) -> Int32 {
        var index = root
        while index != noNode {
            let nodeLength = Int(nodes[Int(index)].length)
            if nodeLength > length || key.masked(toLength: nodeLength) != nodes[Int(index)].key { return noNode }
            if nodeLength == length { return index }
            index = child(of: index, side: key.bit(at: nodeLength))
        }
        return noNode
    }

    /// Splices out valueless nodes that no longer fork, from `start` upwards.
    private mutating func prune(from start: Int32) {
        var index = start
        while index != noNode {
            let node = nodes[Int(index)]
            if node.value != nil || (node.zero != noNode && node.one != noNode) { return }
            let onlyChild = node.zero != noNode ? node.zero : node.one
            if onlyChild != noNode { nodes[Int(onlyChild)].parent = node.parent }
            replaceChild(of: node.parent, old: index, new: onlyChild)
            release(index)
            // The parent lost a child; if it is a fork it must go too.
            index = node.parent
        }
    }

    private func child(of index: Int32, side: Int) -> Int32 {
        side == 0 ? nodes[Int(index)].zero : nodes[Int(index)].one
    }

    private mutating func setChild(of index: Int32, side: Int, to newChild: Int32) {
        if side == 0 { nodes[Int(index)].zero = newChild } else { nodes[Int(index)].one = newChild }
    }

    /// Points whatever referred to `old` (the root or a parent's child slot) at `new`.
    private mutating func replaceChild(of parent: Int32, old: Int32, new: Int32) {
        if parent == noNode {
            root = new
        } else if nodes[Int(parent)].zero == old {
            nodes[Int(parent)].zero = new
        } else {
            nodes[Int(parent)].one = new
        }
    }

    /// A fresh node, from the free list if possible.
    private mutating func allocate(_ key: Key, length: Int, _ value: Value?, parent: Int32) -> Int32 {
        let node = Node(
            key: key, length: UInt8(truncatingIfNeeded: length), zero: noNode, one: noNode,
            parent: parent, value: value)
        if freeHead != noNode {
            let index = freeHead
            freeHead = nodes[Int(index)].zero
            nodes[Int(index)] = node
            return index
        }
        precondition(nodes.count < Int(Int32.max), "prefix table is full")
        nodes.append(node)
        return Int32(truncatingIfNeeded: nodes.count - 1)
    }

    /// Puts a node that is no longer linked onto the free list.
    private mutating func release(_ index: Int32) {
        nodes[Int(index)].value = nil
        nodes[Int(index)].parent = freeNodeMarker
        nodes[Int(index)].one = noNode
        nodes[Int(index)].zero = freeHead
        freeHead = index
    }
}

extension PrefixTrieNode: Sendable where Key: Sendable, Value: Sendable {}
extension PrefixTrie: Sendable where Key: Sendable, Value: Sendable {}

// MARK: - Self-check

// The differential tests prove lookups right; this proves the shape stays
// minimal and that removed nodes really return to the free list.
extension PrefixTrie {
    /// A description of the first broken invariant, or nil if the trie is sound:
    ///
    /// - every node reachable from the root is reached once and points back at
    ///   its parent; keys are masked to their lengths;
    /// - a child is longer than its parent, extends the parent's prefix, and
    ///   sits on the side given by its bit at the parent's length;
    /// - a node without a value (a fork) has two children;
    /// - `count` is the number of nodes with a value;
    /// - every node is either reachable or on the free list, never both.
    func invariantViolation() -> String? {
        var reached = [Bool](repeating: false, count: nodes.count)
        var entries = 0
        var reachable = 0
        if root != noNode && nodes[Int(root)].parent != noNode { return "root has a parent" }
        var stack: [Int32] = root == noNode ? [] : [root]
        while let index = stack.popLast() {
            guard index >= 0 && Int(index) < nodes.count else { return "index out of range" }
            guard !reached[Int(index)] else { return "node " + String(index) + " reached twice" }
            reached[Int(index)] = true
            reachable += 1
            let node = nodes[Int(index)]
            let length = Int(node.length)
            guard length <= Key.bitWidth else { return "length out of range" }
            guard node.key.masked(toLength: length) == node.key else { return "host bits set" }
            if node.value != nil {
                entries += 1
            } else if node.zero == noNode || node.one == noNode {
                return "fork " + String(index) + " without two children"
            }
            for (side, child) in [(0, node.zero), (1, node.one)] where child != noNode {
                guard child >= 0 && Int(child) < nodes.count else { return "child out of range" }
                let childNode = nodes[Int(child)]
                guard childNode.parent == index else { return "wrong parent link" }
                guard Int(childNode.length) > length else { return "child not longer than parent" }
                guard childNode.key.masked(toLength: length) == node.key else { return "child leaves parent's prefix" }
                guard childNode.key.bit(at: length) == side else { return "child on the wrong side" }
                stack.append(child)
            }
        }
        guard entries == count else { return "count is wrong" }

        var free = 0
        var index = freeHead
        while index != noNode {
            guard index >= 0 && Int(index) < nodes.count else { return "free list out of range" }
            guard !reached[Int(index)] else { return "node both live and free" }
            reached[Int(index)] = true
            guard nodes[Int(index)].parent == freeNodeMarker else { return "free node not marked" }
            guard nodes[Int(index)].value == nil else { return "free node keeps a value" }
            free += 1
            index = nodes[Int(index)].zero
        }
        guard reachable + free == nodes.count else { return "nodes leaked" }
        return nil
    }
}
