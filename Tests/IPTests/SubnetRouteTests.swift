import IP
import Testing

@Suite struct SubnetRouteTests {
    let mesh = [SubnetRoute.defaultMeshIPv4Range, try! IPPrefix("fd12:3456:789a::/48")]

    @Test func listsParseInCanonicalFormOnly() throws {
        #expect(try SubnetRoute.parseList("192.168.10.0/24,10.1.0.0/16") == [try IPPrefix("192.168.10.0/24"), try IPPrefix("10.1.0.0/16")])
        #expect(try SubnetRoute.parseList("") == [])
        #expect(try SubnetRoute.parseList("fd00:1::/64") == [try IPPrefix("fd00:1::/64")])
        #expect(throws: SubnetRouteError("'192.168.10.1/24' has host bits set; did you mean 192.168.10.0/24?")) {
            _ = try SubnetRoute.parseList("192.168.10.1/24")
        }
        #expect(throws: SubnetRouteError("'192.168.10.7' has no prefix length: 192.168.10.0/24 for its /24, 192.168.10.7/32 for the one host")) {
            _ = try SubnetRoute.parseList("192.168.10.7")
        }
        #expect(throws: SubnetRouteError.self) { _ = try SubnetRoute.parseList("192.168.10.0/33") }
        #expect(throws: SubnetRouteError.self) { _ = try SubnetRoute.parseList("lan") }
    }

    @Test func problemsSayWhy() throws {
        func problem(_ text: String) -> String? { SubnetRoute.problem(with: try! IPPrefix(text), meshRanges: mesh) }
        #expect(problem("192.168.10.0/24") == nil)
        #expect(problem("10.0.0.0/8") == nil)
        #expect(problem("100.64.0.0/24") == "100.64.0.0/24 overlaps the mesh's own range 100.64.0.0/10")
        #expect(problem("100.0.0.0/8") == "100.0.0.0/8 overlaps the mesh's own range 100.64.0.0/10")
        #expect(problem("fd12:3456:789a:1::/64") == "fd12:3456:789a:1::/64 overlaps the mesh's own range fd12:3456:789a::/48")
        #expect(problem("0.0.0.0/0")?.contains("default route") == true)
        #expect(problem("::/0")?.contains("default route") == true)
        // No exit node in pieces either: short prefixes are refused.
        #expect(problem("128.0.0.0/1") == "128.0.0.0/1 is shorter than /8: Tern routes LAN prefixes, not large parts of the Internet (no exit nodes)")
        #expect(problem("64.0.0.0/2")?.contains("shorter than /8") == true)
        #expect(problem("11.0.0.0/8") == nil)
        #expect(problem("2000::/3")?.contains("shorter than /32") == true)
        #expect(problem("2001:db8::/32") == nil)
        #expect(problem("2001:db8::/31")?.contains("shorter than /32") == true)
        #expect(problem("127.0.0.0/16") == "127.0.0.0/16 is in the loopback range 127.0.0.0/8, which is not routed")
        #expect(problem("169.254.0.0/16")?.contains("link-local") == true)
        #expect(problem("239.0.0.0/8")?.contains("multicast") == true)
        #expect(problem("fe80::/64")?.contains("link-local") == true)
        #expect(problem("ff05::/32")?.contains("multicast") == true)
        #expect(problem("::1/128")?.contains("loopback") == true)
    }

    @Test func listsAreBoundedAndWithoutRepeats() throws {
        let lan = try IPPrefix("192.168.10.0/24")
        #expect(SubnetRoute.problem(with: [lan, lan], meshRanges: mesh) == "192.168.10.0/24 is given twice")
        var many: [IPPrefix] = []
        for index in 0..<65 { many.append(try IPPrefix("10.0." + String(index) + ".0/24")) }
        #expect(SubnetRoute.problem(with: Array(many.prefix(64)), meshRanges: mesh) == nil)
        #expect(SubnetRoute.problem(with: many, meshRanges: mesh) == "65 routes advertised; at most 64 are allowed")
    }

    @Test func meshRangesAreBounded() throws {
        func problem(_ v4: String, _ v6: String) -> String? { MeshRange.problem(ipv4: try! IPPrefix(v4), ipv6: try! IPPrefix(v6)) }
        #expect(problem("100.64.0.0/10", "fd12:3456:789a::/48") == nil)
        #expect(problem("10.0.0.0/8", "fd00:1::/64") == nil)
        #expect(problem("0.0.0.0/0", "fd00::/48") == "IPv4 range 0.0.0.0/0 must be an IPv4 prefix of /8 to /30")
        #expect(problem("128.0.0.0/1", "fd00::/48")?.contains("/8 to /30") == true)
        #expect(problem("100.64.0.0/31", "fd00::/48")?.contains("/8 to /30") == true)
        #expect(problem("100.64.0.0/10", "::/0") == "IPv6 range ::/0 must be an IPv6 prefix of /32 to /64")
        #expect(problem("100.64.0.0/10", "2000::/3")?.contains("/32 to /64") == true)
        #expect(problem("100.64.0.0/10", "fd00::/96")?.contains("/32 to /64") == true)
        #expect(problem("fd00::/48", "fd00::/48")?.contains("must be an IPv4 prefix") == true)
        #expect(problem("127.0.0.0/8", "fd00::/48") == "IPv4 range 127.0.0.0/8 overlaps the loopback range 127.0.0.0/8")
        #expect(problem("224.0.0.0/8", "fd00::/48")?.contains("multicast") == true)
        #expect(problem("100.64.0.0/10", "fe80::/64")?.contains("link-local") == true)
    }

    @Test func overlapIsSymmetric() throws {
        let wide = try IPPrefix("10.0.0.0/8")
        let narrow = try IPPrefix("10.1.0.0/16")
        let apart = try IPPrefix("10.2.0.0/16")
        #expect(wide.overlaps(narrow) && narrow.overlaps(wide))
        #expect(!narrow.overlaps(apart) && !apart.overlaps(narrow))
        #expect(!wide.overlaps(try IPPrefix("::/0")))
    }
}
