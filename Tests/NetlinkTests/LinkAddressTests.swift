import CTern
import Foundation
import IP
import Testing
@testable import Netlink

/// Links and addresses, configured in a throwaway namespace and checked
/// with `ip -j`.
@Suite(.serialized, .enabled(if: canRunIntegration, "needs root, ip and nft"))
struct LinkAddressTests {
    @Test func linksCanBeFoundSetUpAndGivenAnMTU() throws {
        let namespace = TestNamespace("links")
        defer { namespace.delete() }
        // This kernel has no dummy driver everywhere; a veth pair does.
        namespace.ip("link", "add", "d0", "type", "veth", "peer", "name", "d0p")
        let netlink = try RTNetlink(namespacePath: namespace.path)

        let link = try netlink.link(named: "d0")
        #expect(link.name == "d0")
        #expect(!link.isUp)
        #expect(try netlink.linkIndex(named: "d0") == link.index)
        #expect(try netlink.links().map(\.name).sorted() == ["d0", "d0p", "lo"])

        try netlink.setLink(named: "d0", up: true)
        try netlink.setMTU(1380, ofLinkNamed: "d0")
        let shown = namespace.json("link", "show", "d0")
        #expect(shown.first?["mtu"] as? Int == 1380)
        #expect((shown.first?["flags"] as? [String])?.contains("UP") == true)
        #expect(try netlink.link(named: "d0").isUp)
        #expect(try netlink.link(named: "d0").mtu == 1380)

        try netlink.setLink(named: "d0", up: false)
        #expect((namespace.json("link", "show", "d0").first?["flags"] as? [String])?.contains("UP") == false)
    }

    @Test func missingLinksGiveTypedErrors() throws {
        let namespace = TestNamespace("nolink")
        defer { namespace.delete() }
        let netlink = try RTNetlink(namespacePath: namespace.path)
        let error = try #require(throws: NetlinkError.self) { try netlink.linkIndex(named: "tern0") }
        #expect(error.code == .noDevice)
        #expect(error.description == "looking up interface tern0: no such device")
        let setError = try #require(throws: NetlinkError.self) { try netlink.setLink(named: "tern0", up: true) }
        #expect(setError.code == .noDevice)
        #expect(setError.description.hasPrefix("setting link tern0 up: no such device"))
        let longName = try #require(throws: NetlinkError.self) {
            try netlink.setMTU(1400, ofLinkNamed: "a-name-far-too-long")
        }
        #expect(longName.code == .invalidArgument)
    }

    @Test func addressesAreAddedListedAndRemoved() throws {
        let namespace = TestNamespace("addr")
        defer { namespace.delete() }
        namespace.addVeth("d0", peer: "d0p")
        let netlink = try RTNetlink(namespacePath: namespace.path)
        let index = try netlink.linkIndex(named: "d0")
        let asked = [try InterfaceAddress("100.64.0.1/10"), try InterfaceAddress("fd7a:115c:a1e0::1/48")]
        for address in asked { try netlink.addAddress(address, interfaceIndex: index, noDAD: true) }

        // Exactly what was asked, per `ip -j addr` (the kernel's own fe80::
        // link-local address aside).
        #expect(globalAddresses(namespace, "d0") == ["100.64.0.1/10", "fd7a:115c:a1e0::1/48"])
        let listed = try netlink.addresses(interfaceIndex: index).filter { $0.scope == 0 }
        #expect(Set(listed.map(\.address)) == Set(asked))
        #expect(try netlink.addresses(family: .ipv4, interfaceIndex: index).map(\.address) == [asked[0]])
        let ipv6 = try #require(listed.first { !$0.address.address.isIPv4 })
        #expect(ipv6.flags & UInt32(IFA_F_NODAD) != 0)

        let duplicate = try #require(throws: NetlinkError.self) {
            try netlink.addAddress(asked[0], interfaceIndex: index)
        }
        #expect(duplicate.code == .exists)
        #expect(duplicate.description.hasPrefix("adding address 100.64.0.1/10 to dev d0: already exists"))

        for address in asked { try netlink.removeAddress(address, interfaceIndex: index) }
        #expect(globalAddresses(namespace, "d0").isEmpty)
        let missing = try #require(throws: NetlinkError.self) {
            try netlink.removeAddress(asked[0], interfaceIndex: index)
        }
        #expect(missing.code == .addressNotAvailable)
        #expect(missing.description.hasPrefix("removing address 100.64.0.1/10 from dev d0: address not available"))

        let noDevice = try #require(throws: NetlinkError.self) {
            try netlink.addAddress(asked[0], interfaceIndex: 9999)
        }
        #expect(noDevice.code == .noDevice)
        #expect(noDevice.description.hasPrefix("adding address 100.64.0.1/10 to dev #9999: no such device"))
    }
}

/// The non-link-local addresses `ip -j addr show dev DEVICE` lists, as
/// "address/length", sorted.
func globalAddresses(_ namespace: TestNamespace, _ device: String) -> [String] {
    var result: [String] = []
    for entry in namespace.json("addr", "show", "dev", device) {
        for info in entry["addr_info"] as? [[String: Any]] ?? [] where info["scope"] as? String == "global" {
            result.append("\(info["local"] ?? "?")/\(info["prefixlen"] ?? "?")")
        }
    }
    return result.sorted()
}
