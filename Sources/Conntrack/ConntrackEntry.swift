import CNetlink
import FlowSpace
import Glibc

/// The original direction of one tracked connection: who opened it, to where, over which protocol.
///
/// Entries come from `ConntrackSession.entries()`. Besides the decoded fields an entry keeps the raw original tuple,
/// the kernel's id of the connection and its zone, so that `ConntrackSession.delete(_:)` removes exactly this
/// connection and not a newer one that reuses the same addresses and ports.
public struct ConntrackEntry: Hashable, Sendable, CustomStringConvertible {
  /// The address family of the connection.
  public var family: AddressFamily
  /// The IP protocol number: 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, or any other.
  public var protocolNumber: UInt8
  /// The address of the side that opened the connection.
  public var source: IPAddress
  /// The address the connection was opened to.
  public var destination: IPAddress
  /// The source port, for protocols with ports (TCP, UDP, UDP-Lite, SCTP, DCCP); nil otherwise.
  public var sourcePort: UInt16?
  /// The destination port, for protocols with ports; nil otherwise.
  public var destinationPort: UInt16?
  /// The ICMP or ICMPv6 type of the request that opened the connection (echo request: 8, or 128 for ICMPv6).
  public var icmpType: UInt8?
  /// The ICMP or ICMPv6 code of that request.
  public var icmpCode: UInt8?
  /// The ICMP or ICMPv6 identifier of that request.
  public var icmpID: UInt16?
  /// The kernel's identifier of this connection (`CTA_ID`), which a newer connection with the same tuple lacks.
  public var id: UInt32?
  /// The conntrack zone of the connection (`CTA_ZONE`), when it is not the default zone.
  public var zone: UInt16?
  /// The raw original tuple attribute (the attributes nested in `CTA_TUPLE_ORIG`), to delete exactly this entry.
  public var originalTuple: [UInt8]

  /// Creates an entry from its fields; `originalTuple` must be the nested attributes of a `CTA_TUPLE_ORIG` for
  /// `delete(_:)` to find the connection.
  public init(
    family: AddressFamily, protocolNumber: UInt8, source: IPAddress, destination: IPAddress,
    sourcePort: UInt16? = nil, destinationPort: UInt16? = nil, icmpType: UInt8? = nil, icmpCode: UInt8? = nil,
    icmpID: UInt16? = nil, id: UInt32? = nil, zone: UInt16? = nil, originalTuple: [UInt8]
  ) {
    self.family = family
    self.protocolNumber = protocolNumber
    self.source = source
    self.destination = destination
    self.sourcePort = sourcePort
    self.destinationPort = destinationPort
    self.icmpType = icmpType
    self.icmpCode = icmpCode
    self.icmpID = icmpID
    self.id = id
    self.zone = zone
    self.originalTuple = originalTuple
  }

  /// Decodes the payload of one ctnetlink `IPCTNL_MSG_CT_NEW` message (the `nfgenmsg` header and its attributes).
  ///
  /// Returns nil for a message that is not a complete IPv4 or IPv6 entry: a short header, another family, a
  /// missing or malformed address, or a missing protocol number. Attributes it does not know are ignored.
  public init?(ctnetlinkPayload payload: [UInt8]) {
    guard payload.count >= 4 else { return nil }
    let attributes = NetlinkAttributes(payload[4...])
    guard let tupleBytes = attributes[CtnetlinkConstant.tupleOriginal], !tupleBytes.isEmpty else { return nil }
    let tuple = NetlinkAttributes(tupleBytes)
    guard !tuple.isTruncated, let ip = tuple.nested(CtnetlinkConstant.tupleIP),
      let proto = tuple.nested(CtnetlinkConstant.tupleProto),
      let protocolNumber = proto.uint8(CtnetlinkConstant.protoNumber)
    else { return nil }

    switch Int32(payload[0]) {
    case AF_INET:
      guard let source = ip.bigEndianUInt32(CtnetlinkConstant.ipV4Source),
        let destination = ip.bigEndianUInt32(CtnetlinkConstant.ipV4Destination)
      else { return nil }
      self.family = .ipv4
      self.source = .v4(IPv4Address(source))
      self.destination = .v4(IPv4Address(destination))
    case AF_INET6:
      guard let source = ip.bigEndianUInt128(CtnetlinkConstant.ipV6Source),
        let destination = ip.bigEndianUInt128(CtnetlinkConstant.ipV6Destination)
      else { return nil }
      self.family = .ipv6
      self.source = .v6(IPv6Address(source))
      self.destination = .v6(IPv6Address(destination))
    default:
      return nil
    }
    self.protocolNumber = protocolNumber
    sourcePort = proto.bigEndianUInt16(CtnetlinkConstant.protoSourcePort)
    destinationPort = proto.bigEndianUInt16(CtnetlinkConstant.protoDestinationPort)
    if family == .ipv6 {
      icmpType = proto.uint8(CtnetlinkConstant.protoICMPv6Type)
      icmpCode = proto.uint8(CtnetlinkConstant.protoICMPv6Code)
      icmpID = proto.bigEndianUInt16(CtnetlinkConstant.protoICMPv6ID)
    } else {
      icmpType = proto.uint8(CtnetlinkConstant.protoICMPType)
      icmpCode = proto.uint8(CtnetlinkConstant.protoICMPCode)
      icmpID = proto.bigEndianUInt16(CtnetlinkConstant.protoICMPID)
    }
    id = attributes.bigEndianUInt32(CtnetlinkConstant.id)
    zone = attributes.bigEndianUInt16(CtnetlinkConstant.zone)
    originalTuple = Array(tupleBytes)
  }

  /// The protocol's name where conduit knows it (`tcp`, `udp`, `icmp`, `icmpv6`), else `proto/N`.
  public var protocolName: String {
    switch protocolNumber {
    case 6: "tcp"
    case 17: "udp"
    case 1: "icmp"
    case 58: "icmpv6"
    case 132: "sctp"
    default: "proto/\(protocolNumber)"
    }
  }

  /// The connection in words, e.g. `tcp 10.30.0.31:40312 -> 10.40.0.10:502` or
  /// `icmpv6 fd00:30::31 -> fd00:40::10 type 128 code 0 id 7`.
  public var description: String {
    func endpoint(_ address: IPAddress, _ port: UInt16?) -> String {
      guard let port else { return "\(address)" }
      return address.family == .ipv6 ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
    var text = "\(protocolName) \(endpoint(source, sourcePort)) -> \(endpoint(destination, destinationPort))"
    if let icmpType { text += " type \(icmpType)" }
    if let icmpCode { text += " code \(icmpCode)" }
    if let icmpID { text += " id \(icmpID)" }
    if let zone { text += " zone \(zone)" }
    return text
  }
}
