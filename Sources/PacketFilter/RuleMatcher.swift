import ControlProtocol
import IP

/// How a rule's destination ports must fit a packet.
enum PortRequirement {
    /// TCP, UDP, SCTP: the destination port lies in the rule's range.
    case port(UInt16)
    /// ICMP: any port range will do (only the addresses count).
    case any
    /// Other protocols: the rule must cover every port (0-65535), as
    /// Tailscale's client requires for protocols without ports.
    case all
}

/// A rule set compiled for per-packet matching without allocation.
///
/// Every rule gets a bit (its position in the list). Three dimensions are
/// indexed to bit sets of rules:
///
/// - sources: a longest-prefix table over the distinct source prefixes;
///   each prefix's set also holds the rules of every shorter prefix that
///   contains it, so one lookup yields every rule whose sources contain the
///   address;
/// - destinations: the same over the destination prefixes (ports aside);
/// - protocols: one set per protocol number some rule allows.
///
/// A match ANDs the three sets word by word and checks the ports of the
/// surviving rules in order, so the first allowing rule wins. With typical
/// policies few rules survive the AND; the cost is three trie lookups plus
/// `ceil(rules / 64)` words. Memory is one bit per rule for each distinct
/// prefix and protocol: 1,000 rules over 1,500 source prefixes take about
/// 200 KB.
struct RuleMatcher {
    /// The number of rules.
    let ruleCount: Int
    /// 64-bit words per bit set.
    let words: Int
    /// Source prefix → offset of its bit set in `sets`.
    private var sources = PrefixTable<Int32>()
    /// Destination prefix → offset of its bit set in `sets`.
    private var destinations = PrefixTable<Int32>()
    /// Protocol number → offset of its bit set in `sets`, or -1 if no rule allows it.
    private var protocols = [Int32](repeating: -1, count: 256)
    /// Every bit set, `words` long each, back to back.
    private var sets: [UInt64] = []
    /// Every rule's destinations (prefix and ports), rule after rule.
    private var targets: [FilterDestination] = []
    /// Rule `r`'s destinations are `targets[targetStart[r]..<targetStart[r + 1]]`.
    private var targetStart: [Int32] = []
    /// Each rule's `FilterRule.policyRule`.
    let policyRules: [Int]

    /// Compiles `rules`; an empty list matches nothing.
    init(_ rules: [FilterRule]) {
        ruleCount = rules.count
        words = (rules.count + 63) / 64
        policyRules = rules.map { $0.policyRule }

        var sourceTable = PrefixTable<Int32>()
        var destinationTable = PrefixTable<Int32>()
        var sourcePrefixes: [IPPrefix] = []
        var destinationPrefixes: [IPPrefix] = []
        targetStart.reserveCapacity(rules.count + 1)
        for (index, rule) in rules.enumerated() {
            targetStart.append(Int32(truncatingIfNeeded: targets.count))
            targets.append(contentsOf: rule.destinations)
            for prefix in rule.sources {
                setBit(index, in: setOffset(for: prefix, in: &sourceTable, list: &sourcePrefixes))
            }
            for destination in rule.destinations {
                setBit(index, in: setOffset(for: destination.prefix, in: &destinationTable, list: &destinationPrefixes))
            }
            for number in rule.protocols.isEmpty ? FilterRule.defaultProtocols : rule.protocols {
                if protocols[Int(number)] < 0 { protocols[Int(number)] = newSet() }
                setBit(index, in: protocols[Int(number)])
            }
        }
        targetStart.append(Int32(truncatingIfNeeded: targets.count))
        inheritShorterPrefixes(sourcePrefixes, in: sourceTable)
        inheritShorterPrefixes(destinationPrefixes, in: destinationTable)
        sources = sourceTable
        destinations = destinationTable
    }

    /// The index of the first rule that allows `protocolNumber` from `source`
    /// to `destination` with `ports`, or nil. Allocates nothing.
    func firstMatch(
        protocolNumber: UInt8, source: IPAddress, destination: IPAddress, ports: PortRequirement
    ) -> Int? {
        let protocolSet = protocols[Int(protocolNumber)]
        guard protocolSet >= 0,
              let sourceSet = sources.lookup(source),
              let destinationSet = destinations.lookup(destination) else { return nil }
        return sets.withUnsafeBufferPointer { sets in
            for word in 0..<words {
                var bits = sets[Int(sourceSet) + word] & sets[Int(destinationSet) + word]
                    & sets[Int(protocolSet) + word]
                while bits != 0 {
                    let rule = word &* 64 &+ bits.trailingZeroBitCount
                    if admits(rule, destination: destination, ports: ports) { return rule }
                    bits &= bits &- 1
                }
            }
            return nil
        }
    }

    /// True if one of `rule`'s destinations contains `destination` with ports that fit.
    private func admits(_ rule: Int, destination: IPAddress, ports: PortRequirement) -> Bool {
        targets.withUnsafeBufferPointer { targets in
            for index in Int(targetStart[rule])..<Int(targetStart[rule + 1]) {
                let target = targets[index]
                guard target.prefix.contains(destination) else { continue }
                switch ports {
                case .port(let port): if target.ports.contains(port) { return true }
                case .any: return true
                case .all: if target.ports == PortRange.all { return true }
                }
            }
            return false
        }
    }

    // MARK: Building

    /// A new all-zero bit set; returns its offset.
    private mutating func newSet() -> Int32 {
        let offset = Int32(truncatingIfNeeded: sets.count)
        sets.append(contentsOf: repeatElement(0, count: words))
        return offset
    }

    private mutating func setBit(_ rule: Int, in offset: Int32) {
        sets[Int(offset) + rule / 64] |= 1 << UInt64(rule % 64)
    }

    /// The set of exactly `prefix` in `table`, created (and listed) if new.
    private mutating func setOffset(
        for prefix: IPPrefix, in table: inout PrefixTable<Int32>, list: inout [IPPrefix]
    ) -> Int32 {
        if let offset = table.value(for: prefix) { return offset }
        let offset = newSet()
        table.insert(prefix, offset)
        list.append(prefix)
        return offset
    }

    /// ORs into each prefix's set the sets of the shorter listed prefixes
    /// that contain it, so a longest-prefix lookup finds every matching rule.
    private mutating func inheritShorterPrefixes(_ prefixes: [IPPrefix], in table: PrefixTable<Int32>) {
        for prefix in prefixes {
            guard let offset = table.value(for: prefix) else { continue }
            for length in 0..<prefix.length {
                // In range by construction: shorter than an existing prefix of the family.
                guard let shorter = try? IPPrefix(prefix.address, length: length),
                      let ancestor = table.value(for: shorter) else { continue }
                for word in 0..<words { sets[Int(offset) + word] |= sets[Int(ancestor) + word] }
            }
        }
    }
}
