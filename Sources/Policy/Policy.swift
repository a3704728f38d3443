import ControlProtocol
import IP

/// A Tailscale-style policy file (the common subset Tern implements), parsed
/// and checked: every group, tag and host a rule names is declared, every
/// port list and proto is valid.
///
/// Read one with `Policy(parsing:)`, compile it against the network's nodes
/// with `CompiledPolicy(_:network:)` (or `compile(for:)`, which also requires
/// the `tests` to pass).
///
/// `acls == nil` (no `acls` section) means allow all; an empty `acls`
/// denies everything.
public struct Policy: Equatable, Sendable {
    /// `group:name` → its members (users as written, e.g. `alice@`).
    public var groups: [String: [String]]
    /// `tag:name` → who may apply it (users, groups, tags as written).
    public var tagOwners: [String: [String]]
    /// Host alias → its address or prefix.
    public var hosts: [String: IPPrefix]
    /// The rules, in file order (a rule's index is its `FilterRule.policyRule`);
    /// nil when the file has no `acls` section (allow all).
    public var acls: [PolicyACL]?
    /// Which advertised routes are approved without an admin.
    public var autoApprovers: AutoApprovers
    /// The assertions checked when the policy is set.
    public var tests: [PolicyTest]
    /// Top-level sections Tern recognises but does not implement and that can
    /// only restrict or configure features Tern lacks (`ssh`, `nodeAttrs`,
    /// ...), as written; `policy check` lists them.
    public var ignoredSections: [String]

    /// The empty policy: no `acls` section, so everything is allowed.
    public init() {
        groups = [:]
        tagOwners = [:]
        hosts = [:]
        acls = nil
        autoApprovers = AutoApprovers()
        tests = []
        ignoredSections = []
    }

    /// Parses and validates HuJSON `text` (comments and trailing commas
    /// allowed). Keys match case-insensitively; keys starting with `#` are
    /// ignored; unknown keys are errors.
    public init(parsing text: String) throws(PolicyError) {
        self = try PolicyParser.parse(text)
    }

    /// True if the file has no `acls` section: every node may reach every other.
    public var allowsAll: Bool { acls == nil }
}

/// One `acls` entry: `src` may open connections to `dst` over `proto`.
public struct PolicyACL: Equatable, Sendable {
    /// Who may connect (`src`, or legacy `users`).
    public var sources: [PolicyTarget]
    /// Where to (`dst`, or legacy `ports`).
    public var destinations: [PolicyDestination]
    /// The IP protocol number; nil for TCP, UDP, ICMP and ICMPv6.
    public var proto: UInt8?

    /// A rule.
    public init(sources: [PolicyTarget], destinations: [PolicyDestination], proto: UInt8? = nil) {
        self.sources = sources
        self.destinations = destinations
        self.proto = proto
    }
}

/// One `dst` entry: a target and its ports (`tag:web:80,443`).
public struct PolicyDestination: Equatable, Sendable {
    /// The target before the last `:`.
    public var target: PolicyTarget
    /// The ports after it (`*` is `[PortRange.all]`).
    public var ports: [PortRange]

    /// A destination.
    public init(target: PolicyTarget, ports: [PortRange]) {
        self.target = target
        self.ports = ports
    }
}

/// One `tests` entry: from `source`, over `proto`, each `accept` entry must be
/// reachable and each `deny` entry must not be.
public struct PolicyTest: Equatable, Sendable {
    /// The single source.
    public var source: PolicyTarget
    /// The protocol number: TCP (6, the default), UDP (17) or SCTP (132).
    public var proto: UInt8
    /// Entries that must be allowed.
    public var accept: [PolicyTestEntry]
    /// Entries that must be denied.
    public var deny: [PolicyTestEntry]

    /// A test.
    public init(source: PolicyTarget, proto: UInt8 = 6, accept: [PolicyTestEntry], deny: [PolicyTestEntry]) {
        self.source = source
        self.proto = proto
        self.accept = accept
        self.deny = deny
    }
}

/// A `host:port` of a test: one host (not a range) and one port.
public struct PolicyTestEntry: Equatable, Sendable {
    /// The entry as written, for reports.
    public var text: String
    /// The host part.
    public var target: PolicyTarget
    /// The port.
    public var port: UInt16

    /// An entry.
    public init(text: String, target: PolicyTarget, port: UInt16) {
        self.text = text
        self.target = target
        self.port = port
    }
}

/// The `autoApprovers` section.
public struct AutoApprovers: Equatable, Sendable {
    /// A route prefix and who may advertise it (or a prefix inside it)
    /// without an admin approving.
    public struct RouteApproval: Equatable, Sendable {
        /// The approved prefix.
        public var prefix: IPPrefix
        /// Users, groups and tags.
        public var approvers: [PolicyTarget]

        /// An entry.
        public init(prefix: IPPrefix, approvers: [PolicyTarget]) {
            self.prefix = prefix
            self.approvers = approvers
        }
    }

    /// `routes`, in file order.
    public var routes: [RouteApproval]
    /// `exitNode` approvers; kept, though Tern has no exit nodes yet.
    public var exitNode: [PolicyTarget]

    /// No auto-approval.
    public init(routes: [RouteApproval] = [], exitNode: [PolicyTarget] = []) {
        self.routes = routes
        self.exitNode = exitNode
    }
}
