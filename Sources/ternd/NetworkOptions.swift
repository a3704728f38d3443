import IP
import Netlink
import Node

/// The `ternd --wg` options that have the daemon configure its own
/// interface and the host's routing (otherwise `wg-quick` or `ip` does it).
struct NetworkOptions {
    var addresses: [InterfaceAddress] = []
    var routes: [IPPrefix] = []
    var subnetRoutes: [IPPrefix] = []
    var masquerade = true
    var mtu: UInt32 = 1420

    static let help = """
        network options (ternd --wg; without them the interface stays down for wg-quick):
          --address ADDR[/LEN][,...]   addresses of the interface (100.64.0.1/32, fd7a:115c:a1e0::1/128)
          --route PREFIX[,...]         route these destinations into the interface
          --advertise-routes PREFIX[,...]
                                       act as a subnet router for these LAN prefixes: turn IP
                                       forwarding on and add Tern's nftables table inet tern
          --snat-subnet-routes=BOOL    masquerade mesh traffic into those prefixes (default true;
                                       with false the LAN needs a route back to the mesh)
          --mtu N                      interface MTU (576-65535, default 1420)
        """

    /// True if any option asks the daemon to configure the host.
    var configuresHost: Bool { !addresses.isEmpty || !routes.isEmpty || !subnetRoutes.isEmpty }

    /// The plan for interface `name`.
    func plan(interface name: String) -> NetworkPlan {
        NetworkPlan(interface: name, mtu: mtu, addresses: addresses, routes: routes,
                    subnetRoutes: subnetRoutes, masquerade: masquerade)
    }

    /// Consumes the option at `arguments[index]` (and its value) if it is one
    /// of these; returns the index after it, nil if it is not a network option.
    mutating func parse(_ arguments: [String], at index: Int) throws(UsageError) -> Int? {
        let argument = arguments[index]
        var name = argument
        var inlineValue: String? = nil
        if let equals = argument.utf8.firstIndex(of: UInt8(ascii: "=")) {
            name = String(argument[..<equals])
            inlineValue = String(argument[argument.index(after: equals)...])
        }
        guard ["--address", "--route", "--advertise-routes", "--snat-subnet-routes", "--mtu"].contains(name) else {
            return nil
        }
        var next = index + 1
        let value: String
        if let inlineValue {
            value = inlineValue
        } else if name == "--snat-subnet-routes" {
            value = "true"
        } else {
            guard next < arguments.count else { throw UsageError(name + " needs a value") }
            value = arguments[next]
            next += 1
        }
        switch name {
        case "--address":
            for item in list(value) {
                do { addresses.append(try InterfaceAddress(item)) } catch {
                    throw UsageError("--address: '" + item + "' is not an address: " + error.description)
                }
            }
        case "--route":
            routes += try prefixes(value, option: name)
        case "--advertise-routes":
            subnetRoutes += try prefixes(value, option: name)
        case "--snat-subnet-routes":
            switch value {
            case "true", "1", "yes", "on": masquerade = true
            case "false", "0", "no", "off": masquerade = false
            default: throw UsageError("--snat-subnet-routes: expected true or false, not '" + value + "'")
            }
        default:
            guard let number = UInt32(value), (576...65535).contains(number) else {
                throw UsageError("--mtu: expected a number from 576 to 65535, not '" + value + "'")
            }
            mtu = number
        }
        return next
    }

    private func list(_ value: String) -> [String] {
        value.split(separator: ",").map { String($0) }.filter { !$0.isEmpty }
    }

    /// Prefixes in canonical form: "192.168.10.1/24" is refused, since the
    /// person likely meant the network and a silent fix would hide a typo.
    private func prefixes(_ value: String, option: String) throws(UsageError) -> [IPPrefix] {
        var result: [IPPrefix] = []
        for item in list(value) {
            let prefix: IPPrefix
            do { prefix = try IPPrefix(item) } catch {
                throw UsageError(option + ": '" + item + "' is not a prefix: " + error.description)
            }
            let slash = item.utf8.firstIndex(of: UInt8(ascii: "/")) ?? item.utf8.endIndex
            guard (try? IPAddress(String(item[..<slash]))) == prefix.address else {
                throw UsageError(option + ": '" + item + "' has host bits set; did you mean " + prefix.description + "?")
            }
            result.append(prefix)
        }
        if result.isEmpty { throw UsageError(option + " needs at least one prefix") }
        return result
    }
}

/// A command line that cannot be run as written.
struct UsageError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
