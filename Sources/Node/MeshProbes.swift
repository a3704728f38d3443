import IP
import JSON
import Linux
import LocalAPI
import Mesh
import TernCrypto
import WireGuard
import ControlProtocol

/// `tern ping`: ICMP echo through the tunnel, answered by the peer's kernel.
extension MeshDaemon {
    /// One `tern ping` request in flight.
    struct Probe {
        let request: LocalAPIServer.PendingRequest
        let peer: NodeView
        let source: IPAddress
        let destination: IPAddress
        var remaining: Int
        let timeout: UInt64
        var sequence: UInt16 = 0
        var sentAt: UInt64 = 0
        var results: [JSONValue] = []
    }

    func ping(_ request: LocalAPIRequest, now: UInt64) -> LocalAPIAnswer {
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
                          remaining: count, timeout: milliseconds * 1_000_000)
        send(&probe, now: now)
        probes.append(probe)
        return .deferred
    }

    private func send(_ probe: inout Probe, now: UInt64) {
        probe.sequence = nextProbeSequence
        nextProbeSequence = nextProbeSequence &+ 1
        if nextProbeSequence == 0 { nextProbeSequence = 1 }
        probe.sentAt = now
        probe.remaining -= 1
        wg.inject(EchoProbe.request(from: probe.source, to: probe.destination, sequence: probe.sequence))
    }

    /// Takes a reply to one of our probes off the inbound path.
    func consumeProbeReply(_ packet: UnsafeRawBufferPointer) -> Bool {
        guard !probes.isEmpty, let local = state.map?.node.addresses.map({ $0.address }),
              let reply = EchoProbe.reply(packet, to: local),
              let index = probes.firstIndex(where: { $0.sequence == reply.sequence && $0.destination == reply.from })
        else { return false }
        let now = Clock.monotonicNanoseconds()
        var probe = probes[index]
        let endpoint = wg.device.peer(for: probe.peer.nodeKey)?.endpoint
        probe.results.append(["rttMicroseconds": .number(JSONNumber(Int64((now - probe.sentAt) / 1000))),
                              "endpoint": endpoint.map { .string($0.description) } ?? nil])
        probe.sequence = 0
        probes[index] = probe
        return true
    }

    /// Sends the next probes, records timeouts, answers finished requests.
    func probeTick(now: UInt64) -> UInt64 {
        var next = UInt64.max
        var index = 0
        while index < probes.count {
            var probe = probes[index]
            if probe.sequence != 0 && now >= probe.sentAt + probe.timeout {
                probe.results.append(["timeout": true])
                probe.sequence = 0
            }
            if probe.sequence == 0 {
                if probe.remaining > 0 {
                    send(&probe, now: now)
                } else {
                    _ = api.respond(to: probe.request, status: 200, body: [
                        "peer": .string(probe.peer.name), "address": .string(probe.destination.description),
                        "results": .array(probe.results)])
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
