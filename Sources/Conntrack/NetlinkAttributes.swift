import CNetlink
import Glibc

/// The ctnetlink numbers conduit uses, converted once from the shapes in which the kernel headers import.
enum CtnetlinkConstant {
  static let subsystem = UInt16(NFNL_SUBSYS_CTNETLINK)
  static let messageNew = UInt16(IPCTNL_MSG_CT_NEW.rawValue)
  static let messageGet = UInt16(IPCTNL_MSG_CT_GET.rawValue)
  static let messageDelete = UInt16(IPCTNL_MSG_CT_DELETE.rawValue)

  static let tupleOriginal = UInt16(CTA_TUPLE_ORIG.rawValue)
  static let id = UInt16(CTA_ID.rawValue)
  static let zone = UInt16(CTA_ZONE.rawValue)

  static let tupleIP = UInt16(CTA_TUPLE_IP.rawValue)
  static let tupleProto = UInt16(CTA_TUPLE_PROTO.rawValue)

  static let ipV4Source = UInt16(CTA_IP_V4_SRC.rawValue)
  static let ipV4Destination = UInt16(CTA_IP_V4_DST.rawValue)
  static let ipV6Source = UInt16(CTA_IP_V6_SRC.rawValue)
  static let ipV6Destination = UInt16(CTA_IP_V6_DST.rawValue)

  static let protoNumber = UInt16(CTA_PROTO_NUM.rawValue)
  static let protoSourcePort = UInt16(CTA_PROTO_SRC_PORT.rawValue)
  static let protoDestinationPort = UInt16(CTA_PROTO_DST_PORT.rawValue)
  static let protoICMPID = UInt16(CTA_PROTO_ICMP_ID.rawValue)
  static let protoICMPType = UInt16(CTA_PROTO_ICMP_TYPE.rawValue)
  static let protoICMPCode = UInt16(CTA_PROTO_ICMP_CODE.rawValue)
  static let protoICMPv6ID = UInt16(CTA_PROTO_ICMPV6_ID.rawValue)
  static let protoICMPv6Type = UInt16(CTA_PROTO_ICMPV6_TYPE.rawValue)
  static let protoICMPv6Code = UInt16(CTA_PROTO_ICMPV6_CODE.rawValue)

  static let nested = UInt16(NLA_F_NESTED)
  static let attributeTypeMask = ~(UInt16(NLA_F_NESTED) | UInt16(NLA_F_NET_BYTEORDER))

  /// The netlink message type of a ctnetlink message.
  static func messageType(_ message: UInt16) -> UInt16 {
    subsystem << 8 | message
  }
}

/// The attributes of one nesting level of a netlink message, read with bounds checks only.
///
/// Attributes whose header or length runs past the end stop the reading: what came before is kept, and
/// `isTruncated` says that something was cut. The first occurrence of a type wins.
struct NetlinkAttributes {
  /// The payload of each attribute, by type with the nested and byte-order flags removed.
  private(set) var payloads: [UInt16: ArraySlice<UInt8>] = [:]
  /// The raw attribute (header and payload, unpadded) of each type, as it came.
  private(set) var rawAttributes: [UInt16: ArraySlice<UInt8>] = [:]
  /// Whether a malformed attribute ended the reading early.
  private(set) var isTruncated = false

  /// Reads the attributes in `bytes`.
  init(_ bytes: ArraySlice<UInt8>) {
    var offset = bytes.startIndex
    while offset < bytes.endIndex {
      guard bytes.endIndex - offset >= 4 else {
        isTruncated = true
        return
      }
      let length = Int(Self.hostUInt16(bytes, at: offset))
      let type = Self.hostUInt16(bytes, at: offset + 2) & CtnetlinkConstant.attributeTypeMask
      guard length >= 4, length <= bytes.endIndex - offset else {
        isTruncated = true
        return
      }
      if payloads[type] == nil {
        payloads[type] = bytes[(offset + 4)..<(offset + length)]
        rawAttributes[type] = bytes[offset..<(offset + length)]
      }
      offset += (length + 3) & ~3
    }
  }

  /// The payload of attribute `type`, or nil when it is absent.
  subscript(_ type: UInt16) -> ArraySlice<UInt8>? {
    payloads[type]
  }

  /// The attributes nested in attribute `type`, or nil when it is absent.
  func nested(_ type: UInt16) -> NetlinkAttributes? {
    payloads[type].map(NetlinkAttributes.init)
  }

  /// Attribute `type` as one byte, or nil when it is absent or has another size.
  func uint8(_ type: UInt16) -> UInt8? {
    guard let payload = payloads[type], payload.count == 1 else { return nil }
    return payload[payload.startIndex]
  }

  /// Attribute `type` as a big-endian 16-bit number, or nil when it is absent or has another size.
  func bigEndianUInt16(_ type: UInt16) -> UInt16? {
    guard let payload = payloads[type], payload.count == 2 else { return nil }
    return payload.reduce(0) { $0 << 8 | UInt16($1) }
  }

  /// Attribute `type` as a big-endian 32-bit number, or nil when it is absent or has another size.
  func bigEndianUInt32(_ type: UInt16) -> UInt32? {
    guard let payload = payloads[type], payload.count == 4 else { return nil }
    return payload.reduce(0) { $0 << 8 | UInt32($1) }
  }

  /// Attribute `type` as a big-endian 128-bit number, or nil when it is absent or has another size.
  func bigEndianUInt128(_ type: UInt16) -> UInt128? {
    guard let payload = payloads[type], payload.count == 16 else { return nil }
    return payload.reduce(0) { $0 << 8 | UInt128($1) }
  }

  private static func hostUInt16(_ bytes: ArraySlice<UInt8>, at offset: Int) -> UInt16 {
    bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset - bytes.startIndex, as: UInt16.self) }
  }
}
