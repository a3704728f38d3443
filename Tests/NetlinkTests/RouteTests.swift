import CTern
import Foundation
import IP
import Testing
@testable import Netlink

/// Routes: add, replace, remove, list, errors and all-or-nothing batches,
/// in a throwaway namespace, checked with `ip -j route`.
@Suite(.serialized, .enabled(if: canRunIntegration, "needs root, ip and nft"))
struct RouteTests {
    /// A namespace with veth pairs d0/d0p and d1/d1p, up, and a socket in it.
    func setUp(_ label: String) throws -> (TestNamespace, RTNetlink, d0: Int32, d1: Int32) {
        let namespace = TestNamespace(label)
        namespace.addVeth("d0", peer: "d0p")
        namespace.addVeth("d1", peer: "d1p")
        let netlink = try RTNetlink(namespacePath: namespace.path)
        return (namespace, netlink, try netlink.linkIndex(named: "d0"), try netlink.linkIndex(named: "d1"))
    }

    @Test func routesAreAddedReplacedAndRemoved() throws {
        let (namespace, netlink, d0, d1) = try setUp("routes")
        defer { namespace.delete() }
        let routes = [
            Route(destination: try IPPrefix("10.1.0.0/16"), interfaceIndex: d0),
            Route(destination: try IPPrefix("10.2.0.0/16"), interfaceIndex: d0, table: 100, metric: 7),
            Route(destination: try IPPrefix("fd7a:115c:a1e0::/48"), interfaceIndex: d0),
            Route(destination: try IPPrefix("fd00:1::/64"), interfaceIndex: d1, table: 100, metric: 5),
        ]
        try netlink.apply(routes.map { .add($0) })
        #expect(routeLines(namespace, "-4", proto: "116") == [
            "10.1.0.0/16 dev=d0 table=main metric=0", "10.2.0.0/16 dev=d0 table=100 metric=7",
        ])
        #expect(routeLines(namespace, "-6", proto: "116") == [
            "fd7a:115c:a1e0::/48 dev=d0 table=main metric=1024", "fd00:1::/64 dev=d1 table=100 metric=5",
        ])
        // Read back equal to what was asked, and filters work.
        #expect(Set(try netlink.ternRoutes()) == Set(routes))
        #expect(Set(try netlink.routes(table: 100, protocolNumber: RouteProtocol.tern)) == [routes[1], routes[3]])
        #expect(try netlink.routes(family: .ipv6, table: 254, protocolNumber: RouteProtocol.tern) == [routes[2]])

        // Replace moves the route to another device in place.
        let moved = Route(destination: routes[0].destination, interfaceIndex: d1)
        try netlink.replaceRoute(moved)
        #expect(routeLines(namespace, "-4", proto: "116").contains("10.1.0.0/16 dev=d1 table=main metric=0"))
        #expect(routeLines(namespace, "-4", proto: "116").count == 2)

        try netlink.apply([.remove(moved)] + routes.dropFirst().map { .remove($0) })
        #expect(routeLines(namespace, "-4", proto: "116").isEmpty)
        #expect(routeLines(namespace, "-6", proto: "116").isEmpty)
        #expect(try netlink.ternRoutes().isEmpty)
    }

    @Test func duplicateAndMissingRoutesGiveTypedErrors() throws {
        let (namespace, netlink, d0, _) = try setUp("routeerr")
        defer { namespace.delete() }
        let route = Route(destination: try IPPrefix("10.1.0.0/16"), interfaceIndex: d0)
        try netlink.addRoute(route)
        let duplicate = try #require(throws: NetlinkError.self) { try netlink.addRoute(route) }
        #expect(duplicate.code == .exists)
        #expect(duplicate.description.hasPrefix("adding route 10.1.0.0/16 via dev d0: already exists"))
        try netlink.removeRoute(route)
        let missing = try #require(throws: NetlinkError.self) { try netlink.removeRoute(route) }
        #expect(missing.code == .noSuchEntry)
        #expect(missing.description.hasPrefix("removing route 10.1.0.0/16 via dev d0: no such entry"))
        let missing6 = try #require(throws: NetlinkError.self) {
            try netlink.removeRoute(Route(destination: try IPPrefix("fd00::/8"), interfaceIndex: d0))
        }
        #expect(missing6.code == .noSuchEntry)
    }

    @Test func removingATernRouteNeverRemovesSomeoneElses() throws {
        let (namespace, netlink, d0, _) = try setUp("foreign")
        defer { namespace.delete() }
        namespace.ip("route", "add", "10.7.0.0/16", "dev", "d0", "proto", "static")
        let ours = Route(destination: try IPPrefix("10.7.0.0/16"), interfaceIndex: d0)
        let error = try #require(throws: NetlinkError.self) { try netlink.removeRoute(ours) }
        #expect(error.code == .noSuchEntry)
        #expect(routeLines(namespace, "-4", proto: "static") == ["10.7.0.0/16 dev=d0 table=main metric=0"])
    }

    @Test func aRouteToAMissingDeviceRollsTheBatchBack() throws {
        let (namespace, netlink, d0, _) = try setUp("rollback")
        defer { namespace.delete() }
        let good = [
            Route(destination: try IPPrefix("10.9.1.0/24"), interfaceIndex: d0),
            Route(destination: try IPPrefix("fd09:1::/64"), interfaceIndex: d0),
            Route(destination: try IPPrefix("10.9.2.0/24"), interfaceIndex: d0),
        ]
        let bad = Route(destination: try IPPrefix("10.9.3.0/24"), interfaceIndex: 9999)
        let after = Route(destination: try IPPrefix("10.9.4.0/24"), interfaceIndex: d0)
        let error = try #require(throws: NetlinkError.self) {
            try netlink.apply(good.map { .add($0) } + [.add(bad), .add(after)])
        }
        #expect(error.code == .noDevice)
        // The kernel goes on with the rest of the datagram after a failure,
        // so the route after the bad one was added too, and undone.
        #expect(error.rollback == .undone(4))
        #expect(error.description.hasPrefix("adding route 10.9.3.0/24 via dev #9999: no such device"))
        #expect(error.description.hasSuffix("; the batch was rolled back (4 other changes undone)"))
        // Nothing half-applied: neither the routes before the bad one nor after.
        #expect(routeLines(namespace, "-4", proto: "116").isEmpty)
        #expect(routeLines(namespace, "-6", proto: "116").isEmpty)
    }

    @Test func aMissingDeviceByNameFailsBeforeAnythingIsSent() throws {
        let (namespace, netlink, d0, _) = try setUp("byname")
        defer { namespace.delete() }
        let error = try #require(throws: NetlinkError.self) {
            let changes: [RouteChange] = [
                .add(Route(destination: try IPPrefix("10.9.1.0/24"), interfaceIndex: d0)),
                .add(Route(destination: try IPPrefix("10.9.2.0/24"), interfaceIndex: try netlink.linkIndex(named: "tern0"))),
            ]
            try netlink.apply(changes)
        }
        #expect(error.description == "looking up interface tern0: no such device")
        #expect(routeLines(namespace, "-4", proto: "116").isEmpty)
    }

    @Test func rollbackRestoresARouteThatWasReplaced() throws {
        let (namespace, netlink, d0, d1) = try setUp("replaceback")
        defer { namespace.delete() }
        // Someone's static route in the slot Tern replaces, and a later failure.
        namespace.ip("route", "add", "10.8.0.0/16", "dev", "d0", "proto", "static", "metric", "3")
        let error = try #require(throws: NetlinkError.self) {
            try netlink.apply([
                .replace(Route(destination: try IPPrefix("10.8.0.0/16"), interfaceIndex: d1, metric: 3)),
                .replace(Route(destination: try IPPrefix("10.6.0.0/16"), interfaceIndex: d1)),
                .add(Route(destination: try IPPrefix("10.5.0.0/16"), interfaceIndex: d0, table: 100)),
                .add(Route(destination: try IPPrefix("10.5.0.0/16"), interfaceIndex: d0, table: 100)),
            ])
        }
        #expect(error.code == .exists)
        #expect(error.rollback == .undone(3))
        #expect(routeLines(namespace, "-4") == ["10.8.0.0/16 dev=d0 table=main metric=3"])
        #expect(routeLines(namespace, "-4", proto: "static") == ["10.8.0.0/16 dev=d0 table=main metric=3"])
    }

    @Test func reconcilingAfterACrashAdoptsInsteadOfDuplicating() throws {
        let (namespace, first, d0, d1) = try setUp("reconcile")
        defer { namespace.delete() }
        let a = Route(destination: try IPPrefix("10.20.0.0/16"), interfaceIndex: d0)
        let b = Route(destination: try IPPrefix("fd20::/64"), interfaceIndex: d0)
        let c = Route(destination: try IPPrefix("10.21.0.0/16"), interfaceIndex: d1, table: 52)
        #expect(try first.reconcileRoutes([a, b]) == [.add(a), .add(b)])
        // "kill -9": the first process's socket is gone, its routes stay.
        let restarted = try RTNetlink(namespacePath: namespace.path)
        #expect(try restarted.reconcileRoutes([a, b]).isEmpty)
        #expect(routeLines(namespace, "-4", proto: "116") == ["10.20.0.0/16 dev=d0 table=main metric=0"])
        #expect(try restarted.reconcileRoutes([b, c]) == [.remove(a), .add(c)])
        #expect(routeLines(namespace, "-4", proto: "116") == ["10.21.0.0/16 dev=d1 table=52 metric=0"])
        #expect(routeLines(namespace, "-6", proto: "116") == ["fd20::/64 dev=d0 table=main metric=1024"])
        #expect(try restarted.removeTernRoutes() == 2)
        #expect(try restarted.ternRoutes().isEmpty)
    }
}
