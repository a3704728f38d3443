import ControlProtocol
import IP
import Testing
@testable import PacketFilter

/// Hand-written cases for each rule of the stateful filter (acl.md, "Semantics").
///
/// The node is 100.64.0.1 / fd7a:115c:a1e0::1 and routes 192.168.10.0/24 and fd00:10::/64.
@Suite struct InboundTests {
    static let local = [prefix("100.64.0.1/32"), prefix("fd7a:115c:a1e0::1/128"),
                        prefix("192.168.10.0/24"), prefix("fd00:10::/64")]
    static let me = address("100.64.0.1")
    static let me6 = address("fd7a:115c:a1e0::1")
    static let alice = address("100.64.0.2")
    static let alice6 = address("fd7a:115c:a1e0::2")
    static let bob = address("100.64.0.3")
    static let carol = address("100.64.0.4")
    static let dave = address("100.64.0.5")

    static let rules = [
        rule(["100.64.0.2", "fd7a:115c:a1e0::2"], ["100.64.0.1:22", "[fd7a:115c:a1e0::1]:22"], index: 10),
        rule(["100.64.0.0/10"], ["100.64.0.1:80-81"], protocols: [6], index: 11),
        rule(["100.64.0.3"], ["192.168.10.0/24:53"], protocols: [17], index: 12),
        rule(["100.64.0.3"], ["100.64.0.1:*"], protocols: [47], index: 13),
        rule(["100.64.0.4"], ["100.64.0.1:1000"], protocols: [47], index: 14),
        rule(["100.64.0.5"], ["100.64.0.1:*"], protocols: [6], index: 15),
        rule(["fd7a:115c:a1e0::2"], ["[fd7a:115c:a1e0::1]:*"], protocols: [43, 132], index: 16),
    ]

    func makeFilter(_ policy: FilterPolicy = .rules(InboundTests.rules)) -> Harness {
        Harness(policy, local: InboundTests.local)
    }

    static func tcp(_ source: IPAddress, _ destination: IPAddress, port: UInt16, flags: UInt8 = PacketSpec.syn) -> PacketSpec {
        PacketSpec(source: source, destination: destination, protocolNumber: 6,
                   sourcePort: 40000, destinationPort: port, tcpFlags: flags)
    }

    static func udp(_ source: IPAddress, _ destination: IPAddress, from sourcePort: UInt16 = 40000, port: UInt16) -> PacketSpec {
        PacketSpec(source: source, destination: destination, protocolNumber: 17,
                   sourcePort: sourcePort, destinationPort: port)
    }

    static func icmp(_ source: IPAddress, _ destination: IPAddress, type: UInt8) -> PacketSpec {
        PacketSpec(source: source, destination: destination, protocolNumber: source.isIPv4 ? 1 : 58, icmpType: type)
    }

    // MARK: TCP

    @Test func aTCPSYNNeedsARuleForItsSourceDestinationAndPort() {
        let filter = makeFilter()
        #expect(filter.inbound(Self.tcp(Self.alice, Self.me, port: 22)) == FilterVerdict(.rule, policyRule: 10))
        #expect(filter.inbound(Self.tcp(Self.bob, Self.me, port: 22)) == FilterVerdict(.noRule))
        // Bob reaches 80-81 through the 100.64.0.0/10 rule, not 82.
        #expect(filter.inbound(Self.tcp(Self.bob, Self.me, port: 80)) == FilterVerdict(.rule, policyRule: 11))
        #expect(filter.inbound(Self.tcp(Self.bob, Self.me, port: 81)) == FilterVerdict(.rule, policyRule: 11))
        #expect(filter.inbound(Self.tcp(Self.bob, Self.me, port: 82)) == FilterVerdict(.noRule))
        #expect(filter.inbound(Self.tcp(Self.alice, Self.me, port: 23)) == FilterVerdict(.noRule))
        // Outside 100.64.0.0/10.
        #expect(filter.inbound(Self.tcp(address("100.128.0.1"), Self.me, port: 80)) == FilterVerdict(.noRule))
        // SYN+FIN has no ACK: it opens a connection.
        #expect(filter.inbound(Self.tcp(Self.bob, Self.me, port: 22, flags: PacketSpec.syn | PacketSpec.fin)) == FilterVerdict(.noRule))
    }

    /// Segments that open nothing pass only for a connection this node took
    /// part in, or one a rule would let in: an ACK or SYN+ACK scan, or a
    /// forged RST, from anyone else is dropped.
    @Test func tcpSegmentsNeedTheirConnectionOrARule() {
        let filter = makeFilter(.rules([]))
        let segments = [PacketSpec.ack, PacketSpec.syn | PacketSpec.ack, PacketSpec.fin | PacketSpec.ack, PacketSpec.rst, 0]
        for flags in segments {
            #expect(filter.inbound(Self.tcp(Self.bob, Self.me, port: 22, flags: flags)) == FilterVerdict(.noRule))
        }
        // This node connects to bob:80 (from port 40000): bob's answers get in, on that connection only.
        let connect = Self.tcp(Self.me, Self.bob, port: 80)
        filter.outbound(connect, now: 0)
        for flags in segments {
            var answer = connect.reversed
            answer.tcpFlags = flags
            #expect(filter.inbound(answer, now: second) == FilterVerdict(.tcpEstablished), "flags \(flags)")
        }
        var otherPort = connect.reversed
        otherPort.tcpFlags = PacketSpec.ack
        otherPort.destinationPort = 40001
        #expect(filter.inbound(otherPort, now: second) == FilterVerdict(.noRule))
        // A bare SYN is a new connection: it needs a rule even on that tuple.
        #expect(filter.inbound(connect.reversed, now: second) == FilterVerdict(.noRule))
    }

    @Test func segmentsOfAnAllowedConnectionPassByTheRule() {
        let filter = makeFilter()
        // Alice may open port 22: the rest of her connection passes by the same rule.
        #expect(filter.inbound(Self.tcp(Self.alice, Self.me, port: 22, flags: PacketSpec.ack)) == FilterVerdict(.rule, policyRule: 10))
        #expect(filter.inbound(Self.tcp(Self.bob, Self.me, port: 22, flags: PacketSpec.ack)) == FilterVerdict(.noRule))
        // Once this node has answered, the flow table carries it.
        filter.outbound(Self.tcp(Self.alice, Self.me, port: 22, flags: PacketSpec.ack).reversed)
        #expect(filter.inbound(Self.tcp(Self.alice, Self.me, port: 22, flags: PacketSpec.ack)) == FilterVerdict(.tcpEstablished))
    }

    @Test func aTCPConnectionLivesThreeHoursWithoutPackets() {
        let filter = makeFilter(.rules([]))
        let connect = Self.tcp(Self.me, Self.bob, port: 443)
        var answer = connect.reversed
        answer.tcpFlags = PacketSpec.ack
        filter.outbound(connect, now: 0)
        let limit = PacketFilter.defaultTCPFlowTimeout
        #expect(filter.inbound(answer, now: limit - 1) == FilterVerdict(.tcpEstablished))
        // The answer refreshed it; three idle hours later it is gone.
        #expect(filter.inbound(answer, now: 2 * limit - 2) == FilterVerdict(.tcpEstablished))
        #expect(filter.inbound(answer, now: 3 * limit) == FilterVerdict(.noRule))
    }

    @Test func anEmptyProtocolListMeansTCPUDPAndICMP() {
        let filter = makeFilter()
        #expect(filter.inbound(Self.udp(Self.alice, Self.me, port: 22)) == FilterVerdict(.rule, policyRule: 10))
        #expect(filter.inbound(Self.icmp(Self.alice, Self.me, type: 8)) == FilterVerdict(.rule, policyRule: 10))
        // SCTP is not among them.
        let sctp = PacketSpec(source: Self.alice, destination: Self.me, protocolNumber: 132, sourcePort: 1, destinationPort: 22)
        #expect(filter.inbound(sctp) == FilterVerdict(.noRule))
    }

    @Test func theFirstAllowingRuleIsReported() {
        let rules = [rule(["100.64.0.2"], ["100.64.0.1:1-10"], index: 7),
                     rule(["100.64.0.0/16"], ["100.64.0.0/24:5-30"], index: 3),
                     rule(["0.0.0.0/0"], ["0.0.0.0/0:*"], index: 1)]
        let filter = Harness(PacketFilter(policy: .rules(rules), localPrefixes: Self.local))
        #expect(filter.inbound(Self.tcp(Self.alice, Self.me, port: 5)).policyRule == 7)
        #expect(filter.inbound(Self.tcp(Self.alice, Self.me, port: 11)).policyRule == 3)
        #expect(filter.inbound(Self.tcp(Self.alice, Self.me, port: 31)).policyRule == 1)
        #expect(filter.inbound(Self.tcp(address("100.65.0.1"), Self.me, port: 5)).policyRule == 1)
    }

    // MARK: UDP and SCTP

    @Test func aUDPReplyPassesThroughTheFlowTableUntilItExpires() {
        let filter = makeFilter()
        let query = Self.udp(Self.me, address("100.64.0.9"), from: 5000, port: 53)
        #expect(filter.inbound(query.reversed, now: 0) == FilterVerdict(.noRule))
        filter.outbound(query, now: 1 * second)
        #expect(filter.inbound(query.reversed, now: 2 * second) == FilterVerdict(.flowReply))
        // Only the exact reverse: another port, source or protocol needs a rule.
        var otherPort = query.reversed
        otherPort.destinationPort = 5001
        #expect(filter.inbound(otherPort, now: 2 * second) == FilterVerdict(.noRule))
        var otherSource = query.reversed
        otherSource.sourcePort = 54
        #expect(filter.inbound(otherSource, now: 2 * second) == FilterVerdict(.noRule))
        var tcp = query.reversed
        tcp.protocolNumber = 6
        tcp.tcpFlags = PacketSpec.syn
        #expect(filter.inbound(tcp, now: 2 * second) == FilterVerdict(.noRule))
        // The reply refreshed the flow at 2 s: it lives until 122 s.
        #expect(filter.inbound(query.reversed, now: 121 * second) == FilterVerdict(.flowReply))
        #expect(filter.inbound(query.reversed, now: 240 * second) == FilterVerdict(.flowReply))
        #expect(filter.inbound(query.reversed, now: 361 * second) == FilterVerdict(.noRule))
        // A new query opens it again.
        filter.outbound(query, now: 400 * second)
        #expect(filter.inbound(query.reversed, now: 401 * second) == FilterVerdict(.flowReply))
    }

    @Test func flowsExpireAfterTheConfiguredIdleTime() {
        let filter = Harness(PacketFilter(policy: .rules([]), localPrefixes: Self.local, flowTimeout: 10 * second))
        let query = Self.udp(Self.me, address("100.64.0.9"), from: 5000, port: 53)
        filter.outbound(query, now: 0)
        #expect(filter.inbound(query.reversed, now: 10 * second - 1) == FilterVerdict(.flowReply))
        filter.outbound(query, now: 30 * second)
        #expect(filter.inbound(query.reversed, now: 40 * second) == FilterVerdict(.noRule))
    }

    @Test func outboundICMPAndOtherProtocolsRecordNoFlow() {
        let filter = makeFilter(.rules([]))
        filter.outbound(Self.icmp(Self.me, Self.bob, type: 8))
        filter.outbound(PacketSpec(source: Self.me, destination: Self.bob, protocolNumber: 47))
        filter.outbound(bytes: [0x45, 1, 2])
        #expect(filter.flowsRecorded == 0)
        filter.outbound(Self.tcp(Self.me, Self.bob, port: 80))
        #expect(filter.flowsRecorded == 1)
        #expect(filter.counters.outboundPackets == 4)
        #expect(filter.inbound(Self.tcp(Self.bob, Self.me, port: 40000)) == FilterVerdict(.noRule))
    }

    @Test func sctpUsesRulesAndFlowsLikeUDP() {
        let filter = makeFilter()
        let association = PacketSpec(source: Self.me6, destination: address("fd7a:115c:a1e0::9"),
                                     protocolNumber: 132, sourcePort: 3868, destinationPort: 3868)
        #expect(filter.inbound(association.reversed) == FilterVerdict(.noRule))
        filter.outbound(association)
        #expect(filter.inbound(association.reversed) == FilterVerdict(.flowReply))
        let allowed = PacketSpec(source: Self.alice6, destination: Self.me6, protocolNumber: 132,
                                 sourcePort: 9, destinationPort: 2905)
        #expect(filter.inbound(allowed) == FilterVerdict(.rule, policyRule: 16))
    }

    @Test func aUDPFlowOfOneFamilyDoesNotOpenTheOther() {
        let filter = makeFilter(.rules([]))
        filter.outbound(Self.udp(Self.me, address("0.0.0.9"), from: 5, port: 6))
        let v6 = Self.udp(address("::9"), address("fd00:10::1"), from: 6, port: 5)
        #expect(filter.inbound(v6) == FilterVerdict(.noRule))
    }

    // MARK: ICMP

    @Test func icmpRepliesAndErrorsPassAndEchoRequestsNeedARule() {
        let filter = makeFilter()
        let stranger = address("100.64.9.9")
        #expect(filter.inbound(Self.icmp(stranger, Self.me, type: 0)) == FilterVerdict(.icmpResponse))
        // Errors must quote something that left from here (see below).
        let query = Self.udp(Self.me, Self.bob, port: 5353)
        filter.outbound(query)
        for type: UInt8 in [3, 11, 12] {
            var error = Self.icmp(stranger, Self.me, type: type)
            #expect(filter.inbound(error) == FilterVerdict(.icmpUnrelated))
            error.quoted = [query]
            #expect(filter.inbound(error) == FilterVerdict(.icmpResponse))
        }
        #expect(filter.inbound(Self.icmp(stranger, Self.me, type: 8)) == FilterVerdict(.noRule))
        // Alice's rule has no protocol list (so ICMP) and port 22 only: any port will do for ICMP.
        #expect(filter.inbound(Self.icmp(Self.alice, Self.me, type: 8)) == FilterVerdict(.rule, policyRule: 10))
        // Timestamp requests and other non-replies follow the echo-request rule.
        #expect(filter.inbound(Self.icmp(Self.alice, Self.me, type: 13)) == FilterVerdict(.rule, policyRule: 10))
        #expect(filter.inbound(Self.icmp(stranger, Self.me, type: 13)) == FilterVerdict(.noRule))
        // Dave may open TCP on every port, but his rule does not name ICMP.
        #expect(filter.inbound(Self.icmp(Self.dave, Self.me, type: 8)) == FilterVerdict(.noRule))
        // Bob's rule for 100.64.0.1:80 is TCP only.
        #expect(filter.inbound(Self.icmp(Self.bob, Self.me, type: 8)) == FilterVerdict(.noRule))
    }

    @Test func icmpv6FollowsTheSameRules() {
        let filter = makeFilter()
        let stranger = address("fd7a:115c:a1e0::99")
        #expect(filter.inbound(Self.icmp(stranger, Self.me6, type: 129)) == FilterVerdict(.icmpResponse))
        let connect = Self.tcp(Self.me6, Self.alice6, port: 443)
        filter.outbound(connect)
        for type: UInt8 in [1, 2, 3, 4] {
            var error = Self.icmp(stranger, Self.me6, type: type)
            #expect(filter.inbound(error) == FilterVerdict(.icmpUnrelated))
            error.quoted = [connect]
            #expect(filter.inbound(error) == FilterVerdict(.icmpResponse))
        }
        #expect(filter.inbound(Self.icmp(stranger, Self.me6, type: 128)) == FilterVerdict(.noRule))
        #expect(filter.inbound(Self.icmp(stranger, Self.me6, type: 135)) == FilterVerdict(.noRule))
        #expect(filter.inbound(Self.icmp(Self.alice6, Self.me6, type: 128)) == FilterVerdict(.rule, policyRule: 10))
        // Echo request type 8 is not a reply in ICMPv6 either.
        #expect(filter.inbound(Self.icmp(stranger, Self.me6, type: 0)) == FilterVerdict(.noRule))
    }

    @Test func icmpOfTheWrongFamilyIsAnotherProtocol() {
        let rules = [rule(["0.0.0.0/0"], ["100.64.0.1:*"], protocols: [58], index: 1)]
        let filter = Harness(PacketFilter(policy: .rules(rules), localPrefixes: Self.local))
        // Protocol 58 inside IPv4: not ICMP, judged as "another protocol" with all ports.
        let odd = PacketSpec(source: Self.bob, destination: Self.me, protocolNumber: 58, icmpType: 129)
        #expect(filter.inbound(odd) == FilterVerdict(.rule, policyRule: 1))
        var odd6 = PacketSpec(source: Self.alice6, destination: Self.me6, protocolNumber: 1, icmpType: 0)
        #expect(filter.inbound(odd6) == FilterVerdict(.noRule))
        odd6.icmpType = 8
        #expect(filter.inbound(odd6) == FilterVerdict(.noRule))
    }

    /// An ICMP error must be about a packet that left from here: a forged
    /// "unreachable" or "packet too big" for someone else's connection, or
    /// for a flow this node never had, is dropped.
    @Test func icmpErrorsMustQuoteAPacketThatLeftFromHere() {
        let filter = makeFilter()
        let router = address("100.64.9.9")
        let connect = Self.tcp(Self.me, Self.bob, port: 80)
        filter.outbound(connect, now: 0)
        func error(quoting quote: PacketSpec, type: UInt8 = 3) -> PacketSpec {
            var spec = Self.icmp(router, Self.me, type: type)
            spec.quoted = [quote]
            return spec
        }
        #expect(filter.inbound(error(quoting: connect)) == FilterVerdict(.icmpResponse))
        // Another local port, another remote port, another remote host: no such flow.
        var other = connect
        other.sourcePort = 40001
        #expect(filter.inbound(error(quoting: other)) == FilterVerdict(.icmpUnrelated))
        other = connect
        other.destinationPort = 81
        #expect(filter.inbound(error(quoting: other)) == FilterVerdict(.icmpUnrelated))
        // A packet that did not leave from here (its source is not this node).
        var someoneElse = connect
        someoneElse.source = Self.carol
        #expect(filter.inbound(error(quoting: someoneElse)) == FilterVerdict(.icmpUnrelated))
        // An answer on a connection a rule let in: alice may reach port 22.
        let answer = Self.tcp(Self.alice, Self.me, port: 22, flags: PacketSpec.ack).reversed
        #expect(filter.inbound(error(quoting: answer, type: 11)) == FilterVerdict(.icmpResponse))
        // Quotes without ports (an echo request this node sent) need only the local source.
        #expect(filter.inbound(error(quoting: Self.icmp(Self.me, Self.bob, type: 8))) == FilterVerdict(.icmpResponse))
        #expect(filter.inbound(error(quoting: Self.icmp(Self.carol, Self.bob, type: 8))) == FilterVerdict(.icmpUnrelated))
        // Too short a quote, or one of the other family.
        var short = Self.icmp(router, Self.me, type: 3)
        short.quoted = []
        #expect(filter.inbound(short) == FilterVerdict(.icmpUnrelated))
        #expect(filter.counters.packets(.icmpUnrelated) == 5)
    }

    // MARK: Other protocols

    @Test func otherProtocolsNeedARuleNamingThemForAllPorts() {
        let filter = makeFilter()
        let gre = { (source: IPAddress) in PacketSpec(source: source, destination: Self.me, protocolNumber: 47) }
        #expect(filter.inbound(gre(Self.bob)) == FilterVerdict(.rule, policyRule: 13))
        // Carol's GRE rule covers port 1000 only.
        #expect(filter.inbound(gre(Self.carol)) == FilterVerdict(.noRule))
        // Alice's rule has the default protocols, which do not include GRE.
        #expect(filter.inbound(gre(Self.alice)) == FilterVerdict(.noRule))
        #expect(filter.inbound(PacketSpec(source: Self.bob, destination: Self.me, protocolNumber: 50)) == FilterVerdict(.noRule))
    }

    /// Hop-by-hop, routing and destination-options headers are walked: the
    /// packet is judged by the transport behind them (a rule for TCP port 22
    /// lets a SYN in however many options precede it, up to 8).
    @Test func ipv6ExtensionHeadersAreWalkedToTheTransport() {
        let filter = makeFilter()
        var ssh = Self.tcp(Self.alice6, Self.me6, port: 22)
        for chain: [UInt8] in [[0], [43], [60], [0, 43, 60], [0, 60, 60, 60, 43, 60, 60, 60]] {
            ssh.extensionHeaders = chain
            #expect(filter.inbound(ssh) == FilterVerdict(.rule, policyRule: 10), "\(chain)")
        }
        var telnet = Self.tcp(Self.alice6, Self.me6, port: 23)
        telnet.extensionHeaders = [0, 60]
        #expect(filter.inbound(telnet) == FilterVerdict(.noRule))
        // Rule 16 names SCTP: a routing header in front changes nothing.
        var sctp = PacketSpec(source: Self.alice6, destination: Self.me6, protocolNumber: 132, sourcePort: 1, destinationPort: 2)
        sctp.extensionHeaders = [43]
        #expect(filter.inbound(sctp) == FilterVerdict(.rule, policyRule: 16))
        // A fragment header after the options is a fragment.
        ssh.extensionHeaders = [0]
        ssh.fragment = true
        #expect(filter.inbound(ssh) == FilterVerdict(.fragment))
        // Nine headers, or one that runs past the packet, are malformed.
        ssh.fragment = false
        ssh.extensionHeaders = Array(repeating: 60, count: 9)
        #expect(filter.inbound(ssh) == FilterVerdict(.malformed))
        var cut = Self.tcp(Self.alice6, Self.me6, port: 22)
        cut.extensionHeaders = [0]
        var bytes = cut.bytes
        bytes[41] = 200  // the hop-by-hop header claims 1608 bytes
        #expect(filter.inbound(bytes: bytes) == FilterVerdict(.malformed))
        // UDP replies are found behind options too.
        let query = Self.udp(Self.me6, Self.alice6, port: 53)
        filter.outbound(query)
        var reply = query.reversed
        reply.extensionHeaders = [60]
        #expect(filter.inbound(reply) == FilterVerdict(.flowReply))
    }

    // MARK: Destinations

    @Test func packetsForOtherDestinationsAreDroppedEvenInAllowAllMode() {
        for policy in [FilterPolicy.rules(Self.rules), .allowAll] {
            let filter = makeFilter(policy)
            #expect(filter.inbound(Self.tcp(Self.alice, address("100.64.0.7"), port: 22)) == FilterVerdict(.notLocal))
            #expect(filter.inbound(Self.tcp(Self.alice, Self.alice, port: 22, flags: PacketSpec.ack)) == FilterVerdict(.notLocal))
            #expect(filter.inbound(Self.icmp(Self.alice, address("192.168.11.1"), type: 0)) == FilterVerdict(.notLocal))
            #expect(filter.inbound(Self.icmp(Self.alice6, address("fd7a:115c:a1e0::3"), type: 129)) == FilterVerdict(.notLocal))
            #expect(filter.inbound(Self.udp(Self.alice, address("224.0.0.251"), port: 5353)) == FilterVerdict(.notLocal))
        }
        let none = Harness(PacketFilter(policy: .allowAll, localPrefixes: []))
        #expect(none.inbound(Self.tcp(Self.alice, Self.me, port: 22)) == FilterVerdict(.notLocal))
    }

    @Test func aRoutedSubnetIsFilteredAgainstTheLANAddress() {
        let filter = makeFilter()
        let host = address("192.168.10.5")
        #expect(filter.inbound(Self.udp(Self.bob, host, port: 53)) == FilterVerdict(.rule, policyRule: 12))
        #expect(filter.inbound(Self.udp(Self.bob, host, port: 54)) == FilterVerdict(.noRule))
        #expect(filter.inbound(Self.udp(Self.alice, host, port: 53)) == FilterVerdict(.noRule))
        #expect(filter.inbound(Self.udp(Self.bob, address("192.168.11.5"), port: 53)) == FilterVerdict(.notLocal))
        // The LAN host is not the node: the node's rule for 22 does not cover it.
        #expect(filter.inbound(Self.tcp(Self.alice, host, port: 22)) == FilterVerdict(.noRule))
        // IPv6 subnet: local, but no rule.
        #expect(filter.inbound(Self.tcp(Self.alice6, address("fd00:10::5"), port: 22)) == FilterVerdict(.noRule))
        let answer = Self.tcp(Self.alice6, address("fd00:10::5"), port: 22, flags: PacketSpec.ack)
        #expect(filter.inbound(answer) == FilterVerdict(.noRule))
        // Once the LAN host has sent on that connection (through this router), it gets in.
        filter.outbound(answer.reversed)
        #expect(filter.inbound(answer) == FilterVerdict(.tcpEstablished))
    }

    // MARK: IPv6

    @Test func ipv6RulesMatchIPv6PacketsOnly() {
        let filter = makeFilter()
        #expect(filter.inbound(Self.tcp(Self.alice6, Self.me6, port: 22)) == FilterVerdict(.rule, policyRule: 10))
        #expect(filter.inbound(Self.tcp(Self.alice6, Self.me6, port: 80)) == FilterVerdict(.noRule))
        // Bob's /10 is IPv4: his IPv4-mapped address does not fall in it.
        let mapped = IPAddress.v6(IPv6Address(ipv4Mapped: IPv4Address(100, 64, 0, 3)))
        #expect(filter.inbound(Self.tcp(mapped, Self.me6, port: 80)) == FilterVerdict(.noRule))
        // A ::/0 source and a ::/0 destination.
        let open = [rule(["::/0"], ["[::]/0:443"], index: 4)]
        let wide = Harness(PacketFilter(policy: .rules(open), localPrefixes: Self.local))
        #expect(wide.inbound(Self.tcp(address("2001:db8::1"), Self.me6, port: 443)) == FilterVerdict(.rule, policyRule: 4))
        #expect(wide.inbound(Self.tcp(Self.alice, Self.me, port: 443)) == FilterVerdict(.noRule))
    }

    // MARK: Malformed and fragments

    @Test func emptyAndMalformedPacketsAreDropped() {
        let filter = makeFilter(.allowAll)
        #expect(filter.inbound(bytes: []) == FilterVerdict(.empty))
        #expect(filter.inbound(bytes: [0x45]) == FilterVerdict(.malformed))
        #expect(filter.inbound(bytes: [0x50] + [UInt8](repeating: 0, count: 39)) == FilterVerdict(.malformed))
        let valid = Self.tcp(Self.alice, Self.me, port: 22).bytes
        #expect(filter.inbound(bytes: valid) == FilterVerdict(.allowAll))
        // Total length beyond the buffer; IHL below 5; cut inside the header.
        #expect(filter.inbound(bytes: Array(valid.dropLast())) == FilterVerdict(.malformed))
        var shortIHL = valid
        shortIHL[0] = 0x44
        #expect(filter.inbound(bytes: shortIHL) == FilterVerdict(.malformed))
        #expect(filter.inbound(bytes: Array(valid.prefix(19))) == FilterVerdict(.malformed))
        #expect(filter.inbound(bytes: Array(Self.tcp(Self.alice6, Self.me6, port: 22).bytes.prefix(39))) == FilterVerdict(.malformed))
        // Padding after the total length is fine.
        #expect(filter.inbound(bytes: valid + [0, 0, 0, 0]) == FilterVerdict(.allowAll))
        // Transport headers cut short, in every mode.
        for policy in [FilterPolicy.allowAll, .rules(Self.rules)] {
            let filter = makeFilter(policy)
            for (source, destination) in [(Self.alice, Self.me), (Self.alice6, Self.me6)] {
                for number: UInt8 in [6, 17, 132, source.isIPv4 ? 1 : 58] {
                    var spec = PacketSpec(source: source, destination: destination, protocolNumber: number, destinationPort: 22)
                    spec.truncatedTransport = true
                    #expect(filter.inbound(spec) == FilterVerdict(.malformed), "\(spec)")
                }
            }
            #expect(filter.counters.packets(.malformed) == 8)
        }
    }

    @Test func fragmentsAreDroppedUnlessEverythingIsAllowed() {
        let strict = makeFilter()
        let open = makeFilter(.allowAll)
        var first = Self.tcp(Self.alice, Self.me, port: 22)
        first.fragment = true
        var later = first
        later.fragmentOffset = 185
        var first6 = Self.tcp(Self.alice6, Self.me6, port: 22)
        first6.fragment = true
        var later6 = first6
        later6.fragmentOffset = 100
        for spec in [first, later, first6, later6] {
            #expect(strict.inbound(spec) == FilterVerdict(.fragment), "\(spec)")
            #expect(open.inbound(spec) == FilterVerdict(.allowAll), "\(spec)")
        }
        var stray = later
        stray.destination = address("100.64.0.77")
        #expect(strict.inbound(stray) == FilterVerdict(.notLocal))
        #expect(strict.counters.packets(.fragment) == 4)
    }

    // MARK: Modes

    @Test func allowAllAcceptsEveryWellFormedLocalPacket() {
        let filter = makeFilter(.allowAll)
        #expect(filter.isAllowAll)
        #expect(filter.ruleCount == 0)
        let packets = [Self.tcp(Self.bob, Self.me, port: 9), Self.udp(Self.bob, Self.me, port: 1),
                       Self.icmp(Self.bob, Self.me, type: 8), Self.icmp(Self.alice6, Self.me6, type: 128),
                       PacketSpec(source: Self.bob, destination: address("192.168.10.200"), protocolNumber: 89)]
        for spec in packets { #expect(filter.inbound(spec) == FilterVerdict(.allowAll), "\(spec)") }
        #expect(filter.counters.packets(.allowAll) == 5)
        #expect(FilterPolicy(nil).isAllowAllCase)
        #expect(!FilterPolicy([]).isAllowAllCase)
    }

    @Test func anEmptyRuleListDeniesEveryNewConnection() {
        let filter = makeFilter(.rules([]))
        #expect(!filter.isAllowAll)
        #expect(filter.inbound(Self.tcp(Self.alice, Self.me, port: 22)) == FilterVerdict(.noRule))
        #expect(filter.inbound(Self.udp(Self.alice, Self.me, port: 22)) == FilterVerdict(.noRule))
        #expect(filter.inbound(Self.icmp(Self.alice, Self.me, type: 8)) == FilterVerdict(.noRule))
        #expect(filter.inbound(PacketSpec(source: Self.bob, destination: Self.me, protocolNumber: 47)) == FilterVerdict(.noRule))
        #expect(filter.inbound(Self.icmp(Self.alice, Self.me, type: 0)) == FilterVerdict(.icmpResponse))
    }

    @Test func rulesWithoutSourcesOrDestinationsMatchNothing() {
        let rules = [FilterRule(sources: [], destinations: [FilterDestination(prefix: prefix("0.0.0.0/0"), ports: .all)],
                                protocols: [], policyRule: 0),
                     FilterRule(sources: [prefix("0.0.0.0/0")], destinations: [], protocols: [], policyRule: 1)]
        let filter = Harness(PacketFilter(policy: .rules(rules), localPrefixes: Self.local))
        #expect(filter.inbound(Self.tcp(Self.alice, Self.me, port: 22)) == FilterVerdict(.noRule))
    }

    @Test func aNewPolicyKeepsTheFlowTable() {
        let filter = makeFilter()
        let query = Self.udp(Self.me, address("100.64.0.9"), from: 5000, port: 53)
        filter.outbound(query, now: 0)
        #expect(filter.inbound(Self.tcp(Self.alice, Self.me, port: 22)).allowed)
        filter.update(policy: .rules([rule(["100.64.0.3"], ["100.64.0.1:22"], index: 0)]), localPrefixes: Self.local)
        #expect(filter.inbound(query.reversed, now: second) == FilterVerdict(.flowReply))
        #expect(filter.inbound(Self.tcp(Self.alice, Self.me, port: 22)) == FilterVerdict(.noRule))
        #expect(filter.inbound(Self.tcp(Self.bob, Self.me, port: 22)) == FilterVerdict(.rule, policyRule: 0))
        filter.update(policy: .allowAll, localPrefixes: [prefix("100.64.0.1/32")])
        #expect(filter.inbound(Self.tcp(Self.alice, Self.me, port: 23)) == FilterVerdict(.allowAll))
        #expect(filter.inbound(Self.udp(Self.bob, address("192.168.10.5"), port: 53)) == FilterVerdict(.notLocal))
        filter.update(policy: .rules([]), localPrefixes: Self.local)
        #expect(filter.inbound(query.reversed, now: 2 * second) == FilterVerdict(.flowReply))
        #expect(filter.liveFlows(now: 2 * second) == 1)
    }

    // MARK: Counters

    @Test func countersTrackReasonsAndPolicyRules() {
        let rules = [rule(["100.64.0.2"], ["100.64.0.1:22"], index: 5),
                     rule(["100.64.0.3"], ["100.64.0.1:22"], index: 2),
                     rule(["100.64.0.4"], ["100.64.0.1:22"], index: 5)]
        let filter = Harness(PacketFilter(policy: .rules(rules), localPrefixes: Self.local))
        for _ in 0..<3 { _ = filter.inbound(Self.tcp(Self.alice, Self.me, port: 22)) }
        _ = filter.inbound(Self.tcp(Self.bob, Self.me, port: 22))
        _ = filter.inbound(Self.tcp(Self.carol, Self.me, port: 22))
        _ = filter.inbound(Self.tcp(Self.dave, Self.me, port: 22))
        filter.outbound(Self.tcp(Self.dave, Self.me, port: 22, flags: PacketSpec.ack).reversed)
        _ = filter.inbound(Self.tcp(Self.dave, Self.me, port: 22, flags: PacketSpec.ack))
        _ = filter.inbound(Self.tcp(Self.dave, address("100.64.0.99"), port: 22))
        _ = filter.inbound(bytes: [])
        _ = filter.inbound(bytes: [0x60])
        filter.outbound(Self.udp(Self.me, Self.dave, port: 7))

        let counters = filter.counters
        #expect(counters.packets(.rule) == 5)
        #expect(counters.packets(.noRule) == 1)
        #expect(counters.packets(.tcpEstablished) == 1)
        #expect(counters.packets(.notLocal) == 1)
        #expect(counters.packets(.empty) == 1)
        #expect(counters.packets(.malformed) == 1)
        #expect(counters.packets(.fragment) == 0)
        #expect(counters.acceptedPackets == 6)
        #expect(counters.droppedPackets == 4)
        #expect(counters.outboundPackets == 2)
        #expect(filter.acceptedPackets(policyRule: 5) == 4)
        #expect(filter.acceptedPackets(policyRule: 2) == 1)
        #expect(filter.acceptedPackets(policyRule: 9) == 0)
        let perRule = filter.ruleCounters
        #expect(perRule.map(\.policyRule) == [2, 5])
        #expect(perRule.map(\.packets) == [1, 4])
        #expect(filter.flowsRecorded == 2)  // one UDP, one TCP

        // A new policy restarts the per-rule counters, not the others.
        filter.update(policy: .rules(rules), localPrefixes: Self.local)
        #expect(filter.acceptedPackets(policyRule: 5) == 0)
        #expect(filter.counters.packets(.rule) == 5)
    }

    @Test func verdictsDescribeThemselves() {
        #expect(FilterVerdict(.rule, policyRule: 3).description == "accept rule 3")
        #expect(FilterVerdict(.noRule).description == "drop no-rule")
        #expect(!FilterVerdict(.notLocal).allowed)
        #expect(FilterVerdict(.flowReply).allowed)
        for raw in 0..<FilterReason.count {
            let reason = FilterReason(rawValue: UInt8(raw))!
            #expect(reason.allows == (raw < 5))
            #expect(!reason.description.isEmpty)
        }
        #expect(FilterReason(rawValue: UInt8(FilterReason.count)) == nil)
    }
}

extension FilterPolicy {
    var isAllowAllCase: Bool {
        if case .allowAll = self { return true }
        return false
    }
}
