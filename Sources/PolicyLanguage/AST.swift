/// A name as written: unquoted or quoted.
public struct Identifier: Hashable, Sendable, CustomStringConvertible {
  /// The name (unescaped when quoted).
  public var text: String
  /// Where it is written.
  public var range: SourceRange
  /// Whether it was written as a quoted string.
  public var isQuoted: Bool

  /// Creates an identifier.
  public init(text: String, range: SourceRange, isQuoted: Bool = false) {
    self.text = text
    self.range = range
    self.isQuoted = isQuoted
  }

  public var description: String { text }
}

/// A literal as written: a string's value, a number, an address, a date or a MAC, with its range.
public struct Literal: Hashable, Sendable {
  /// The text (unescaped for strings).
  public var text: String
  /// Where it is written.
  public var range: SourceRange

  /// Creates a literal.
  public init(text: String, range: SourceRange) {
    self.text = text
    self.range = range
  }
}

/// `accept-risk CHECK-ID "reason"`.
public struct AcceptRiskStatement: Hashable, Sendable {
  /// The check id as written.
  public var checkID: Identifier
  /// Why the risk is accepted.
  public var reason: Literal
  /// The whole statement.
  public var range: SourceRange
}

/// One endpoint of a rule, isolate or management line.
public enum EndpointKind: Hashable, Sendable {
  /// An asset by name.
  case asset(Identifier)
  /// Every asset whose name matches the glob.
  case glob(Identifier)
  /// Every asset with the role.
  case role(Identifier)
  /// Every network of the zone.
  case zone(Identifier)
  /// A literal address or prefix.
  case address(Literal)
}

/// An endpoint and where it is written (including a `role` or `zone` keyword).
public struct Endpoint: Hashable, Sendable {
  /// What the endpoint names.
  public var kind: EndpointKind
  /// The whole endpoint.
  public var range: SourceRange
}

/// One item of a service list: a service name or a port literal.
public enum ServiceItem: Hashable, Sendable {
  /// A named service (built-in or defined).
  case service(Identifier)
  /// A port literal (`tcp/502`, `tcp`, `icmp/echo-request`, `proto/47`), as written.
  case port(Literal)

  /// Where the item is written.
  public var range: SourceRange {
    switch self {
    case .service(let name): name.range
    case .port(let literal): literal.range
    }
  }
}

/// `allow SOURCES -> DESTINATIONS service ITEMS [log] [functions FUNCTIONS]`.
public struct AllowRule: Hashable, Sendable {
  /// Who initiates.
  public var sources: [Endpoint]
  /// Who is connected to.
  public var destinations: [Endpoint]
  /// The services and port literals.
  public var items: [ServiceItem]
  /// The `log` keyword when present.
  public var log: SourceRange?
  /// The `functions` clause when present.
  public var functions: FunctionsClause?
  /// The whole rule.
  public var range: SourceRange
  /// The `allow` keyword.
  public var keywordRange: SourceRange
}

/// `functions read|write|diagnostics|N[-M], …` on a Modbus rule.
public struct FunctionsClause: Hashable, Sendable {
  /// The function groups and codes, as written.
  public var items: [Literal]
  /// The whole clause.
  public var range: SourceRange
}

/// `site NAME`.
public struct SiteDeclaration: Hashable, Sendable {
  public var name: Identifier
  public var range: SourceRange
}

/// `baseline "PATH"` or `include "PATH"`.
public struct PathDeclaration: Hashable, Sendable {
  public var path: Literal
  public var range: SourceRange
}

/// `service NAME ITEM, …`.
public struct ServiceDeclaration: Hashable, Sendable {
  public var name: Identifier
  public var items: [ServiceItem]
  public var range: SourceRange
}

/// `network PREFIX, …` or `network outside`.
public struct NetworkStatement: Hashable, Sendable {
  /// The prefixes (empty for `outside`).
  public var prefixes: [Literal]
  /// The `outside` word when this is the outside zone.
  public var outside: SourceRange?
  public var range: SourceRange
}

/// `zone NAME { … }`.
public struct ZoneDeclaration: Hashable, Sendable {
  public var name: Identifier
  public var level: Literal?
  public var securityLevel: Literal?
  public var networks: [NetworkStatement] = []
  public var assets: [Identifier] = []
  public var tags: [Identifier] = []
  public var description: Literal?
  public var acceptRisks: [AcceptRiskStatement] = []
  public var range: SourceRange
}

/// `asset NAME { … }`.
public struct AssetDeclaration: Hashable, Sendable {
  public var name: Identifier
  public var addresses: [Literal] = []
  public var role: Identifier?
  public var vendor: Literal?
  public var product: Literal?
  public var model: Literal?
  public var version: Literal?
  public var criticality: Identifier?
  public var securityLevel: Literal?
  public var mac: Literal?
  public var tags: [Identifier] = []
  public var shared: SourceRange?
  public var acceptRisks: [AcceptRiskStatement] = []
  public var range: SourceRange
}

/// `interface IFNAME ZONE, …`.
public struct InterfaceStatement: Hashable, Sendable {
  public var interface: Identifier
  public var zones: [Identifier]
  public var range: SourceRange
}

/// `management service SERVICES from ENDPOINTS`.
public struct ManagementStatement: Hashable, Sendable {
  public var items: [ServiceItem]
  public var sources: [Endpoint]
  public var range: SourceRange
}

/// `gateway NAME { … }`.
public struct GatewayDeclaration: Hashable, Sendable {
  public var name: Identifier
  public var interfaces: [InterfaceStatement] = []
  public var management: [ManagementStatement] = []
  public var acceptRisks: [AcceptRiskStatement] = []
  public var range: SourceRange
}

/// `between ZONE and ZONE`.
public struct BetweenStatement: Hashable, Sendable {
  public var first: Identifier
  public var second: Identifier
  public var range: SourceRange
}

/// `conduit NAME { … }`.
public struct ConduitDeclaration: Hashable, Sendable {
  public var name: Identifier
  public var between: BetweenStatement?
  public var securityLevel: Literal?
  public var owner: Literal?
  public var justification: Literal?
  public var expires: Literal?
  public var description: Literal?
  public var rules: [AllowRule] = []
  public var acceptRisks: [AcceptRiskStatement] = []
  public var range: SourceRange
}

/// `revoke service ITEMS [from ENDPOINTS] [to ENDPOINTS]`.
public struct RevokeStatement: Hashable, Sendable {
  public var items: [ServiceItem]
  /// The `from` endpoints; empty for every source.
  public var sources: [Endpoint]
  /// The `to` endpoints; empty for every destination.
  public var destinations: [Endpoint]
  public var range: SourceRange
}

/// `isolate ENDPOINTS`.
public struct IsolateStatement: Hashable, Sendable {
  public var endpoints: [Endpoint]
  public var range: SourceRange
}

/// `mitigation NAME { … }`.
public struct MitigationDeclaration: Hashable, Sendable {
  public var name: Identifier
  public var reason: Literal?
  public var isolates: [IsolateStatement] = []
  public var revokes: [RevokeStatement] = []
  public var rules: [AllowRule] = []
  public var acceptRisks: [AcceptRiskStatement] = []
  public var range: SourceRange
}

/// One top-level declaration.
public enum Declaration: Hashable, Sendable {
  case site(SiteDeclaration)
  case baseline(PathDeclaration)
  case include(PathDeclaration)
  case service(ServiceDeclaration)
  case zone(ZoneDeclaration)
  case asset(AssetDeclaration)
  case gateway(GatewayDeclaration)
  case conduit(ConduitDeclaration)
  case mitigation(MitigationDeclaration)
  case acceptRisk(AcceptRiskStatement)
}

/// The parse of one policy file.
public struct PolicyFile: Sendable {
  /// The file that was parsed.
  public var file: SourceFile
  /// Its declarations in source order.
  public var declarations: [Declaration]
}
