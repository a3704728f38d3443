import CTern
import ControlProtocol
import IP
import PacketFilter

/// `tern-bench filter [--rules N]`: nanoseconds per inbound packet of the
/// node's packet filter holding N rules (10, 100 and 1,000 unless told),
/// raced against a linear scan of the same rules on the same packets.
///
/// The packets are built beforehand (`FilterWorkload`) and sent round
/// robin; the timed loops allocate nothing. Before timing, every packet's
/// verdict is checked against the linear scan, and the benchmark fails if
/// they disagree: a fast filter that decides wrongly is worth nothing.
func benchFilter(_ options: Options) {
    let ruleCounts = options.rules.map { [$0] } ?? [10, 100, 1000]
    for (index, ruleCount) in ruleCounts.enumerated() {
        let workload = FilterWorkload(rules: ruleCount)
        // The mix is drawn from its own seed: the same for every rule count.
        if index == 0 { printMix(workload, options) }
        var filter = PacketFilter(policy: .rules(workload.rules), localPrefixes: FilterWorkload.localPrefixes,
                                  hashSeed: 0x5eed_f10e)
        let linear = LinearScan(rules: workload.rules, local: FilterWorkload.localPrefixes)
        openFlows(&filter, workload)
        verify(&filter, linear, workload)
        let result = timeInbound(&filter, linear, workload, options)
        print("filter " + pad(String(ruleCount), 5) + " rules: " + format(result.tern) + " ns/packet (tern), "
              + format(result.linear) + " ns/packet (linear scan), " + format(result.linear / result.tern) + "x")
    }
}

/// Any time within the flow timeout of the flows opened at 0.
private let now: UInt64 = 1_000_000_000

private func printMix(_ workload: FilterWorkload, _ options: Options) {
    let total = workload.classes.count
    func share(_ count: Int) -> String { String((count * 100 + total / 2) / total) + "%" }
    var line = "filter: " + String(total) + " packets, best of " + String(options.rounds) + " rounds: "
    for raw in 0..<FilterPacketClass.count {
        let packetClass = FilterPacketClass(rawValue: raw)!
        line += (raw == 0 ? "" : ", ") + share(workload.count(of: packetClass)) + " " + packetClass.label
    }
    print(line + "; " + share(workload.ipv6Count) + " IPv6")
}

/// Sends the node's outbound packets, so the replies in the stream answer open flows.
private func openFlows(_ filter: inout PacketFilter, _ workload: FilterWorkload) {
    workload.outbound.withUnsafeBytes { bytes in
        let offsets = workload.outboundOffsets
        for index in 0..<offsets.count - 1 {
            filter.outbound(UnsafeRawBufferPointer(rebasing: bytes[offsets[index]..<offsets[index + 1]]), now: 0)
        }
    }
}

/// Fails unless the filter and the linear scan agree on every packet (the
/// same verdict and the same allowing rule), each packet does what its class
/// promises, and replies get in through the flow table alone.
private func verify(_ filter: inout PacketFilter, _ linear: LinearScan, _ workload: FilterWorkload) {
    workload.bytes.withUnsafeBytes { bytes in
        for index in 0..<workload.classes.count {
            let packet = UnsafeRawBufferPointer(rebasing: bytes[workload.offsets[index]..<workload.offsets[index + 1]])
            let packetClass = workload.classes[index]
            let verdict = filter.inbound(packet, now: now)
            let expected = linear.inbound(packet)
            let expectedRule = expected.rule.map { workload.rules[$0].policyRule }
            func complain(_ problem: String) -> Never {
                let header = PacketHeader(packet).map { $0.description } ?? "unparsable"
                fail("filter with " + String(workload.rules.count) + " rules: packet " + String(index) + " ("
                     + packetClass.label + ", " + header + "): " + problem + "; filter says " + verdict.description
                     + ", linear scan says " + (expected.allowed ? "accept" : "drop")
                     + (expected.rule.map { " rule " + String(workload.rules[$0].policyRule) } ?? ""))
            }
            switch packetClass {
            case .flowReply:
                if verdict.reason != .flowReply { complain("a reply to an open flow is not let in by the flow table") }
            case .lateRuleSYN:
                if !expected.allowed { complain("no rule allows a SYN built to match one") }
            case .noRuleSYN:
                if expected.allowed { complain("a rule allows a SYN built to match none") }
            case .echoRequest:
                break
            }
            if packetClass != .flowReply && (verdict.allowed != expected.allowed || verdict.policyRule != expectedRule) {
                complain("the filter and the linear scan disagree")
            }
        }
    }
}

/// Best-of-`rounds` nanoseconds per packet of the filter and the linear
/// scan, alternating rounds. Each is calibrated on its own, so every round
/// lasts about `options.seconds` however slow the scan is.
private func timeInbound(_ filter: inout PacketFilter, _ linear: LinearScan, _ workload: FilterWorkload,
                         _ options: Options) -> (tern: Double, linear: Double) {
    let mask = FilterWorkload.packetCount - 1
    return workload.bytes.withUnsafeBytes { bytes in
        workload.offsets.withUnsafeBufferPointer { offsets in
            func packet(_ iteration: UInt64) -> UnsafeRawBufferPointer {
                let index = Int(truncatingIfNeeded: iteration) & mask
                return UnsafeRawBufferPointer(rebasing: bytes[offsets[index]..<offsets[index + 1]])
            }
            func tern(_ iterations: UInt64) -> UInt64 {
                var accepted: UInt64 = 0
                let start = tern_monotonic_ns()
                for iteration in 0..<iterations where filter.inbound(packet(iteration), now: now).allowed { accepted &+= 1 }
                let elapsed = tern_monotonic_ns() - start
                keep(UInt8(truncatingIfNeeded: accepted))
                return elapsed
            }
            func scan(_ iterations: UInt64) -> UInt64 {
                var accepted: UInt64 = 0
                let start = tern_monotonic_ns()
                for iteration in 0..<iterations where linear.inbound(packet(iteration)).allowed { accepted &+= 1 }
                let elapsed = tern_monotonic_ns() - start
                keep(UInt8(truncatingIfNeeded: accepted))
                return elapsed
            }
            let ternIterations = calibrate(seconds: options.seconds, tern)
            let scanIterations = calibrate(seconds: options.seconds, scan)
            var best = (tern: Double.infinity, linear: Double.infinity)
            for _ in 0..<options.rounds {
                best.tern = min(best.tern, Double(tern(ternIterations)) / Double(ternIterations))
                best.linear = min(best.linear, Double(scan(scanIterations)) / Double(scanIterations))
            }
            return best
        }
    }
}
