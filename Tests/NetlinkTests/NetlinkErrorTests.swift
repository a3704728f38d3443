import CTern
import IP
import Testing
@testable import Netlink

/// The typed error: errno mapping and messages.
@Suite struct NetlinkErrorTests {
    @Test func errnoMapsToNamedCodes() {
        #expect(NetlinkError.Code(errno: EEXIST) == .exists)
        #expect(NetlinkError.Code(errno: ENODEV) == .noDevice)
        #expect(NetlinkError.Code(errno: EPERM) == .notPermitted)
        #expect(NetlinkError.Code(errno: EINVAL) == .invalidArgument)
        #expect(NetlinkError.Code(errno: ENOENT) == .notFound)
        #expect(NetlinkError.Code(errno: ESRCH) == .noSuchEntry)
        #expect(NetlinkError.Code(errno: EADDRNOTAVAIL) == .addressNotAvailable)
        #expect(NetlinkError.Code(errno: ENETUNREACH) == .networkUnreachable)
        #expect(NetlinkError.Code(errno: EROFS) == .readOnlyFileSystem)
        #expect(NetlinkError.Code(errno: 4095) == .other(4095))
    }

    @Test func messageSaysWhatWasBeingDone() {
        let error = NetlinkError(errno: ENODEV, "adding route 10.1.0.0/16 via dev tern0")
        #expect(error.description == "adding route 10.1.0.0/16 via dev tern0: no such device")
        let detailed = NetlinkError(
            .exists, "adding address 10.0.0.1/24 to dev d0", detail: "address already assigned",
            rollback: .undone(2))
        #expect(detailed.description == "adding address 10.0.0.1/24 to dev d0: already exists "
            + "(address already assigned); the batch was rolled back (2 other changes undone)")
        #expect(NetlinkError(.other(123), "x").description == "x: error 123")
    }

    @Test func routeDescriptionsNameTheDevice() throws {
        let route = Route(destination: try IPPrefix("10.1.0.0/16"), interfaceIndex: 7)
        #expect(RouteChange.add(route).describe(deviceName: "tern0") == "adding route 10.1.0.0/16 via dev tern0")
        let other = Route(
            destination: try IPPrefix("fd00::/8"), interfaceIndex: 7, gateway: try IPAddress("fe80::1"),
            table: 52, metric: 10)
        #expect(RouteChange.remove(other).describe(deviceName: "eth0")
            == "removing route fd00::/8 via fe80::1 dev eth0 table 52 metric 10")
    }
}
