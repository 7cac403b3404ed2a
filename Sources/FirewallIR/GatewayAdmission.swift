import FlowSpace

/// What a ruleset admits as a new connection to the gateway itself, in the order its input chain decides: loopback
/// first, then anti-spoofing (the source must belong to a zone behind the interface it arrives on), then the
/// `management` services. The lock-out guard judges the gateway's open management sessions by it.
public struct GatewayAdmission: Sendable {
  /// An (interface, addresses) pair of the anti-spoofing set.
  public struct Zone: Sendable, Equatable {
    public var interface: String
    public var family: AddressFamily
    /// Addresses as integers (IPv4 in the low 32 bits).
    public var addresses: ClosedRange<UInt128>

    /// A pair of the anti-spoofing set.
    public init(interface: String, family: AddressFamily, addresses: ClosedRange<UInt128>) {
      self.interface = interface
      self.family = family
      self.addresses = addresses
    }
  }

  /// A management element: new connections from `sources` with a protocol in `protocols` to a port in `ports`.
  public struct Service: Sendable, Equatable {
    public var family: AddressFamily
    public var protocols: ClosedRange<UInt8>
    public var sources: ClosedRange<UInt128>
    public var ports: ClosedRange<UInt16>
    /// The element's index among the batch's elements, when read from one (its origin names the policy line).
    public var element: Int?

    /// A management element.
    public init(
      family: AddressFamily, protocols: ClosedRange<UInt8>, sources: ClosedRange<UInt128>,
      ports: ClosedRange<UInt16>, element: Int? = nil
    ) {
      self.family = family
      self.protocols = protocols
      self.sources = sources
      self.ports = ports
      self.element = element
    }
  }

  /// Whether the ruleset filters the gateway's own input at all (it does only with `management` lines).
  public var filtersInput: Bool
  public var zones: [Zone]
  public var services: [Service]
  /// The addresses the active mitigations isolate on purpose.
  public var isolated: AddressSet

  /// The admission of a ruleset's parts.
  public init(filtersInput: Bool, zones: [Zone], services: [Service], isolated: AddressSet) {
    self.filtersInput = filtersInput
    self.zones = zones
    self.services = services
    self.isolated = isolated
  }

  /// What `ruleset` admits (the iptables backends render its input chain from the same parts).
  public init(_ ruleset: Ruleset) {
    filtersInput = ruleset.management != nil
    zones = ruleset.interfaceZones.map {
      Zone(interface: $0.interface, family: $0.addresses.family, addresses: $0.addresses.bounds(as: UInt128.self))
    }
    services = (ruleset.management ?? []).compactMap { element -> Service? in
      let protocols: ClosedRange<UInt8>
      let ports: ClosedRange<UInt16>
      switch element.kind {
      case .tcp, .udp:
        protocols = element.kind.transportNumber!...element.kind.transportNumber!
        ports = element.selectors
      case .proto:
        protocols = UInt8(min(element.selectors.lowerBound, 255))...UInt8(min(element.selectors.upperBound, 255))
        ports = 0...UInt16.max
      case .icmp, .icmpv6:
        return nil
      }
      return Service(
        family: element.family, protocols: protocols, sources: element.sources.bounds(as: UInt128.self), ports: ports)
    }
    isolated = ruleset.isolated
  }

  /// How a new connection from `client` arriving on `interface` to local `port` fares.
  public enum Verdict: Sendable, Equatable {
    /// It arrives on the loopback interface, which the input chain accepts first.
    case loopback
    /// The ruleset leaves the gateway's input alone.
    case inputNotFiltered
    /// A management service admits it (`element`: the batch element, when known).
    case admitted(element: Int?)
    /// Anti-spoofing drops it: no zone behind `interface` holds `client`.
    case spoofed
    /// No management service admits it.
    case notAdmitted
  }

  /// Judges a new TCP (or other `protocolNumber`) connection from `client` on `interface` to the local `port`.
  public func verdict(client: IPAddress, interface: String, protocolNumber: UInt8 = 6, port: UInt16) -> Verdict {
    if interface == "lo" { return .loopback }
    guard filtersInput else { return .inputNotFiltered }
    let family = client.family
    let value = AddressRange(first: client, last: client).bounds(as: UInt128.self).lowerBound
    guard zones.contains(where: { $0.interface == interface && $0.family == family && $0.addresses.contains(value) })
    else { return .spoofed }
    let service = services.first {
      $0.family == family && $0.sources.contains(value) && $0.protocols.contains(protocolNumber)
        && $0.ports.contains(port)
    }
    guard let service else { return .notAdmitted }
    return .admitted(element: service.element)
  }
}
