import CTern
import Foundation
import Testing
@testable import Netlink

/// Forwarding sysctls of a throwaway namespace; the host's stay as they are.
@Suite(.serialized, .enabled(if: canRunIntegration, "needs root, ip and nft"))
struct ForwardingTests {
    @Test func forwardingIsReadAndEnabledInsideTheNamespaceOnly() throws {
        let hostBefore = (try Forwarding.isEnabled(.ipv4), try Forwarding.isEnabled(.ipv6))
        let namespace = TestNamespace("fwd")
        defer { namespace.delete() }
        // A new namespace starts with forwarding off.
        #expect(try Forwarding.isEnabled(.ipv4, namespacePath: namespace.path) == false)
        #expect(try Forwarding.isEnabled(.ipv6, namespacePath: namespace.path) == false)

        #expect(try Forwarding.enable(.ipv4, namespacePath: namespace.path) == true)
        #expect(try Forwarding.enable(.ipv6, namespacePath: namespace.path) == true)
        #expect(try Forwarding.enable(.ipv4, namespacePath: namespace.path) == false, "already on")
        #expect(try Forwarding.isEnabled(.ipv4, namespacePath: namespace.path))
        #expect(namespace.exec(["sysctl", "-n", "net.ipv4.ip_forward"]).stdout == "1\n")
        #expect(namespace.exec(["sysctl", "-n", "net.ipv6.conf.all.forwarding"]).stdout == "1\n")

        #expect((try Forwarding.isEnabled(.ipv4), try Forwarding.isEnabled(.ipv6)) == hostBefore)
    }

    @Test func aMissingNamespaceIsATypedError() {
        let error = #expect(throws: NetlinkError.self) {
            try Forwarding.isEnabled(.ipv4, namespacePath: "/var/run/netns/tern-no-such-namespace")
        }
        #expect(error?.code == .notFound)
        #expect(error?.description == "opening network namespace /var/run/netns/tern-no-such-namespace: not found")
    }
}
