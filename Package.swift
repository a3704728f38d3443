// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Tern",
    products: [
        .executable(name: "ternd", targets: ["ternd"]),
        .executable(name: "tern", targets: ["tern"]),
        .executable(name: "tern-control", targets: ["tern-control"]),
    ],
    targets: [
        // The only door to C: libc, Linux uapi headers, libsodium, libmnl.
        .systemLibrary(name: "CTern", path: "Sources/CTern"),

        // Primitives.
        .target(name: "Bytes"),
        .target(name: "TernCrypto", dependencies: ["CTern", "Bytes"]),
        .target(name: "IP"),
        .target(name: "Time"),
        .target(name: "Logging"),

        // Protocols.
        .target(name: "WireGuard", dependencies: ["TernCrypto", "Bytes", "IP"]),
        .target(name: "UAPI", dependencies: ["WireGuard", "TernCrypto", "Bytes", "IP"]),
        .target(name: "JSON"),
        .target(name: "HTTP"),
        .target(name: "ControlProtocol", dependencies: ["WireGuard", "TernCrypto", "Bytes", "IP", "JSON"]),
        .target(name: "Policy", dependencies: ["ControlProtocol", "JSON", "IP"]),
        .target(name: "PacketFilter", dependencies: ["ControlProtocol", "IP"]),

        // Linux shell.
        .target(name: "Linux", dependencies: ["CTern", "IP", "Logging"]),
        .target(name: "Netlink", dependencies: ["CTern", "IP"]),
        .target(name: "State", dependencies: ["CTern", "Linux"]),
        .target(name: "TextFormat"),
        .target(name: "LocalAPI", dependencies: ["HTTP", "JSON", "IP", "Linux", "TextFormat", "CTern"]),
        // `tern`'s command line: parsing and formatting, no I/O.
        .target(name: "TernCLI", dependencies: ["JSON", "IP", "TextFormat"]),

        // Mesh node core: control client, map application, probes.
        .target(name: "Mesh", dependencies: ["ControlProtocol", "WireGuard", "HTTP", "JSON", "IP", "TernCrypto", "Bytes", "Logging", "Time"]),

        // Coordination server core (pure), and its registry kept on disk.
        .target(name: "Coordinator", dependencies: ["ControlProtocol", "JSON", "IP", "Time", "TernCrypto", "Bytes"]),
        .target(name: "CoordinatorStore", dependencies: ["Coordinator", "State", "TernCrypto"]),
        // tern-control's server core: connections, handshake, sessions, liveness (sans-I/O).
        .target(name: "ControlServer", dependencies: [
            "Coordinator", "ControlProtocol", "Policy", "HTTP", "JSON", "IP", "Logging", "TernCrypto", "Time", "WireGuard",
        ]),

        // Engine.
        .target(name: "Node", dependencies: [
            "WireGuard", "UAPI", "Linux", "Netlink", "Mesh", "ControlProtocol", "PacketFilter", "LocalAPI", "State", "JSON", "IP", "Logging", "Time",
            "TernCrypto", "CTern",
        ]),

        // Known-answer tables shared by the unit tests and `ternd selftest`.
        .target(name: "SelfTest", dependencies: ["TernCrypto", "Bytes"]),

        // Executables.
        .executableTarget(name: "ternd", dependencies: ["Node", "Netlink", "IP", "SelfTest", "TernCrypto", "CTern"]),
        .executableTarget(name: "tern", dependencies: ["TernCLI", "TextFormat", "LocalAPI", "HTTP", "JSON", "IP", "CTern"]),
        .executableTarget(name: "tern-control", dependencies: [
            "Coordinator", "CoordinatorStore", "ControlServer", "Logging", "Policy", "ControlProtocol", "LocalAPI", "TextFormat", "Linux", "HTTP", "JSON", "IP", "Time", "TernCrypto", "State", "WireGuard",
            "CTern",
        ]),
        .target(name: "CBenchBaseline", path: "Sources/CBenchBaseline"),
        .executableTarget(name: "tern-bench", dependencies: [
            "WireGuard", "IP", "TernCrypto", "CTern", "CBenchBaseline", "ControlProtocol", "Mesh", "Linux", "PacketFilter", "JSON",
        ]),

        // Tests, and what they share.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .target(name: "ServerTestSupport", dependencies: ["TestSupport", "Coordinator", "TernCrypto", "IP"], path: "Tests/ServerTestSupport"),
        .testTarget(name: "BytesTests", dependencies: ["TestSupport", "Bytes"]),
        .testTarget(name: "TimeTests", dependencies: ["Time", "Logging"]),
        .testTarget(name: "TernCryptoTests", dependencies: ["TestSupport", "TernCrypto", "SelfTest", "Bytes"]),
        .testTarget(name: "IPTests", dependencies: ["TestSupport", "IP"]),
        .testTarget(name: "WireGuardTests", dependencies: ["TestSupport", "WireGuard", "TernCrypto", "Bytes", "IP"]),
        .testTarget(name: "UAPITests", dependencies: ["TestSupport", "UAPI", "WireGuard", "TernCrypto", "IP"]),
        .testTarget(name: "LinuxTests", dependencies: ["Linux", "CTern", "IP"]),
        .testTarget(name: "NetlinkTests", dependencies: ["Netlink", "CTern", "IP"]),
        .testTarget(name: "JSONTests", dependencies: ["TestSupport", "JSON"]),
        .testTarget(name: "HTTPTests", dependencies: ["TestSupport", "HTTP"]),
        .testTarget(name: "StateTests", dependencies: ["State", "CTern"]),
        .testTarget(name: "PolicyTests", dependencies: ["TestSupport", "Policy", "ControlProtocol", "JSON", "IP"]),
        .testTarget(name: "PacketFilterTests", dependencies: ["TestSupport", "PacketFilter", "ControlProtocol", "IP"]),
        .testTarget(name: "MeshTests", dependencies: [
            "TestSupport", "ServerTestSupport", "Mesh", "ControlProtocol", "ControlServer", "Coordinator", "WireGuard", "JSON", "IP",
            "TernCrypto", "Time", "Logging",
        ]),
        .testTarget(name: "LocalAPITests", dependencies: ["LocalAPI", "TernCLI", "TextFormat", "HTTP", "JSON", "IP", "Linux", "CTern"]),
        .testTarget(name: "ControlProtocolTests", dependencies: ["TestSupport", "ControlProtocol", "WireGuard", "TernCrypto", "JSON", "IP"]),
        .testTarget(name: "ControlServerTests", dependencies: [
            "TestSupport", "ServerTestSupport", "ControlServer", "Coordinator", "ControlProtocol", "Policy", "JSON", "IP", "TernCrypto", "Time", "Logging",
            "WireGuard",
        ]),
        .testTarget(name: "CoordinatorTests", dependencies: ["TestSupport", "Coordinator", "CoordinatorStore", "ControlProtocol", "State", "JSON", "IP", "TernCrypto", "CTern", "Time"]),
    ]
)
