import FlowSpace

/// The protocols whose flows never overlap: the regions of a conduit are kept apart by family and by these.
public enum ProtocolKind: Int, Hashable, Sendable, Comparable, CaseIterable {
  case tcp, udp, icmp, icmpv6, other

  public static func < (lhs: ProtocolKind, rhs: ProtocolKind) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension ServiceMatch {
  /// The protocol the match belongs to.
  public var protocolKind: ProtocolKind {
    switch self {
    case .ports(let transport, _): transport == .tcp ? .tcp : .udp
    case .icmp: .icmp
    case .icmpv6: .icmpv6
    case .proto: .other
    }
  }

  /// What the match selects within its protocol: ports, the ICMP type, or the protocol number.
  public var selectors: IntervalSet<UInt16> {
    switch self {
    case .ports(_, let ports): ports
    case .icmp(let type, _), .icmpv6(let type, _): IntervalSet(UInt16(type)...UInt16(type))
    case .proto(let number): IntervalSet(UInt16(number)...UInt16(number))
    }
  }
}

/// Every conduit's flows of one family and protocol as one region whose points know the rules that allow them.
///
/// The redundancy check and the lowering both start from these unions; `compile` computes them once, in parallel,
/// and hands them to both.
public struct ConduitRegions: Sendable {
  /// One conduit, family and protocol.
  public struct Key: Hashable, Sendable {
    public var conduit: Int
    public var family: AddressFamily
    public var kind: ProtocolKind

    public init(conduit: Int, family: AddressFamily, kind: ProtocolKind) {
      self.conduit = conduit
      self.family = family
      self.kind = kind
    }
  }

  /// The IPv4 regions.
  public let v4: [Key: FlowRegion<UInt32>]
  /// The IPv6 regions.
  public let v6: [Key: FlowRegion<UInt128>]

  /// The regions of the policy's flows (mitigations left out), by conduit, family and protocol.
  public init(_ policy: Policy) {
    var flowsOfKey: [Key: [Int]] = [:]
    var run: (key: Key, flows: [Int])?
    for index in policy.flows.indices {
      let key = Key(
        conduit: policy.flows[index].conduit, family: policy.flows[index].family,
        kind: policy.flows[index].match.protocolKind)
      if run?.key != key {
        if let run { flowsOfKey[run.key, default: []] += run.flows }
        run = (key, [])
      }
      run!.flows.append(index)
    }
    if let run { flowsOfKey[run.key, default: []] += run.flows }
    let keys = flowsOfKey.keys.sorted { ($0.conduit, $0.family, $0.kind) < ($1.conduit, $1.family, $1.kind) }
    let regions = concurrentMap(count: keys.count) {
      [flowsOfKey] index -> (FlowRegion<UInt32>?, FlowRegion<UInt128>?) in
      let flows = flowsOfKey[keys[index]]!
      switch keys[index].family {
      case .ipv4: return (Self.union(flows, of: policy, { $0.v4 }), nil)
      case .ipv6: return (nil, Self.union(flows, of: policy, { $0.v6 }))
      }
    }
    var v4: [Key: FlowRegion<UInt32>] = [:]
    var v6: [Key: FlowRegion<UInt128>] = [:]
    for (key, region) in zip(keys, regions) {
      if let region = region.0 { v4[key] = region }
      if let region = region.1 { v6[key] = region }
    }
    self.v4 = v4
    self.v6 = v6
  }

  /// The union of some flows of the policy, each box covering its rule.
  public static func union<Address>(
    _ flows: [Int], of policy: Policy, _ addresses: (AddressSet) -> IntervalSet<Address>
  ) -> FlowRegion<Address> {
    FlowRegion.union(
      of: flows.map { index in
        FlowRegion.RuleFlows(
          sources: addresses(policy.flows[index].sources), destinations: addresses(policy.flows[index].destinations),
          selectors: policy.flows[index].match.selectors, rule: policy.flows[index].rule)
      })
  }
}
