import ControlProtocol
import IP
import JSON
import Time

/// `tern ping`: ICMP echo through the tunnel, answered by the peer's kernel.
extension MeshEngine {
    /// One `tern ping` request in flight.
    struct Probe {
        let request: MeshRequestID
        let peer: NodeView
        let source: IPAddress
        let destination: IPAddress
        var remaining: Int
        let timeout: Interval
        /// The sequence number of the echo in flight (0: none).
        var sequence: UInt16 = 0
        var sentAt = MonotonicInstant.origin
        var results: [JSONValue] = []
    }

    /// True while a probe waits for its reply: only then need the shell
    /// look at inbound packets for one.
    public var awaitsProbeReplies: Bool { !probes.isEmpty }

    /// This node's mesh addresses, where probe replies are sent.
    public var meshAddresses: [IPAddress] { state.map?.node.addresses.map { $0.address } ?? [] }

    func ping(_ request: MeshRequest, now: MeshTime) -> MeshAnswer {
        guard let map = state.map, state.wantRunning else {
            return .error(status: 409, message: "the mesh is not up (tern up first)", code: "not-running")
        }
        guard let target = request.body["peer"]?.string, !target.isEmpty else {
            return .error(status: 400, message: "which peer? give a name or a mesh address", code: "bad-request")
        }
        let address = try? IPAddress(target)
        guard let peer = map.peers.first(where: { view in
            view.name == target || (address != nil && view.addresses.contains { $0.address == address! })
        }) else {
            return .error(status: 404, message: "no peer '" + target + "' in the network map", code: "unknown-peer")
        }
        let family4 = address?.isIPv4 ?? true
        guard let destination = peer.addresses.first(where: { $0.address.isIPv4 == family4 })?.address,
              let source = map.node.addresses.first(where: { $0.address.isIPv4 == family4 })?.address
        else { return .error(status: 409, message: "no address of that family to ping from", code: "no-address") }
        let count = max(1, min(request.body["count"]?.int ?? 1, 100))
        let milliseconds = UInt64(max(100, min(request.body["timeoutMilliseconds"]?.int ?? 3000, 60_000)))
        var probe = Probe(request: request.id, peer: peer, source: source, destination: destination,
                          remaining: count, timeout: .milliseconds(milliseconds))
        send(&probe, now: now)
        probes.append(probe)
        return .deferred
    }

    private func send(_ probe: inout Probe, now: MeshTime) {
        probe.sequence = nextProbeSequence
        nextProbeSequence = nextProbeSequence &+ 1
        if nextProbeSequence == 0 { nextProbeSequence = 1 }
        probe.sentAt = now.monotonic
        probe.remaining -= 1
        effects.append(.inject(EchoProbe.request(from: probe.source, to: probe.destination, sequence: probe.sequence)))
    }

    /// An echo reply from `from` with `sequence` arrived (`EchoProbe.reply`):
    /// true if it answers one of our probes (the shell then drops it).
    public func probeReplied(from: IPAddress, sequence: UInt16, now: MeshTime) -> Bool {
        guard let index = probes.firstIndex(where: { $0.sequence == sequence && $0.destination == from }) else { return false }
        var probe = probes[index]
        let endpoint = observer.peer(probe.peer.nodeKey)?.endpoint
        probe.results.append(["rttMicroseconds": .number(JSONNumber(Int64((now.monotonic - probe.sentAt).nanoseconds / 1000))),
                              "endpoint": endpoint.map { .string($0) } ?? nil])
        probe.sequence = 0
        probes[index] = probe
        return true
    }

    /// Sends the next probes, records timeouts, answers finished requests;
    /// returns when it next needs to run.
    func probeTick(now: MeshTime) -> MonotonicInstant {
        var next = MonotonicInstant(nanoseconds: .max)
        var index = 0
        while index < probes.count {
            var probe = probes[index]
            if probe.sequence != 0 && now.monotonic >= probe.sentAt + probe.timeout {
                probe.results.append(["timeout": true])
                probe.sequence = 0
            }
            if probe.sequence == 0 {
                if probe.remaining > 0 {
                    send(&probe, now: now)
                } else {
                    effects.append(.respond(probe.request, status: 200, body: [
                        "peer": .string(probe.peer.name), "address": .string(probe.destination.description),
                        "results": .array(probe.results)]))
                    probes.remove(at: index)
                    continue
                }
            }
            next = min(next, probe.sentAt + probe.timeout)
            probes[index] = probe
            index += 1
        }
        return next
    }
}
