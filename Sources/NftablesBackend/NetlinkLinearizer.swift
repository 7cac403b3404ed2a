import CNetlink
import FirewallIR
import FlowSpace

/// The nf_tables batch of a ruleset: the same table as `NftablesTextRenderer` writes, as netlink messages.
public struct NftablesBatch: Sendable {
  /// The batch: begin, the table created, deleted and defined again, end. Which messages the kernel acknowledges is
  /// read from these bytes when they are sent (`NetlinkBatchLayout`).
  public var bytes: [UInt8]
  /// Where its messages and set elements come from in the policy.
  public var origins: BatchOrigins

  /// A batch from its parts.
  public init(bytes: [UInt8], origins: BatchOrigins) {
    self.bytes = bytes
    self.origins = origins
  }
}

/// Linearizes a ruleset into libnftnl objects and a netlink batch, statement by statement as nft does: chains
/// first, then sets with their elements, then rules, each anonymous set just before its rule.
public struct NetlinkLinearizer {
  /// Creates a linearizer.
  public init() {}

  /// The batch that replaces conduit's table with the ruleset, with the identity chain when `identity` is given.
  public func batch(_ ruleset: Ruleset, names: NftablesNames, identity: NftablesIdentity? = nil) -> NftablesBatch {
    let program = NftablesProgram(ruleset, names: names, identity: identity)
    var writer = NetlinkBatchWriter(table: program.table)
    var setIDs = SetIDs()
    writer.begin()
    writer.newTable(origin: program.tableOrigin)
    writer.deleteTable(origin: program.tableOrigin)
    writer.newTable(origin: program.tableOrigin)
    for chain in program.chains {
      let hook = chain.hook.map { hook in
        (
          hook == .forward ? UInt32(NF_INET_FORWARD.rawValue) : UInt32(NF_INET_LOCAL_IN.rawValue), Int32(0),
          NetlinkConstant.verdictDrop
        )
      }
      writer.newChain(NftChain(name: chain.name, hook: hook, comment: chain.comment, origin: chain.origin))
    }
    for set in program.sets { writer.newSet(nftSet(set, id: setIDs.id(for: set.name))) }
    for chain in program.chains {
      for statements in chain.rules {
        var anonymous: [NftSet] = []
        let rule = statements.flatMap {
          expressions($0, setIDs: &setIDs, anonymous: &anonymous, origin: chain.origin)
        }
        for set in anonymous { writer.newSet(set) }
        writer.newRule(NftRule(chain: chain.name, expressions: rule, origin: chain.origin))
      }
    }
    writer.end()
    return NftablesBatch(
      bytes: writer.bytes,
      origins: BatchOrigins(
        files: program.places.files, places: program.places.places, messages: writer.messageOrigins,
        elements: writer.elementOrigins))
  }

  /// Set ids that rules use to find sets created in the same batch.
  struct SetIDs {
    private var ids: [String: UInt32] = [:]
    private var next: UInt32 = 1

    mutating func id(for name: String) -> UInt32 {
      if let id = ids[name] { return id }
      return anonymousID(naming: name)
    }

    mutating func anonymousID(naming name: String? = nil) -> UInt32 {
      let id = next
      next += 1
      if let name { ids[name] = id }
      return id
    }
  }

  private func nftSet(_ set: ProgramSet, id: UInt32) -> NftSet {
    NftSet(
      name: set.name, id: id, key: set.key,
      flags: (set.isInterval ? NetlinkConstant.setInterval | NetlinkConstant.setConcat : 0)
        | (set.isVerdictMap ? NetlinkConstant.setMap : 0) | (set.isDynamic ? NetlinkConstant.setDynamic : 0)
        | (set.timeoutSeconds != nil ? NetlinkConstant.setTimeout : 0),
      isVerdictMap: set.isVerdictMap, counter: set.counter,
      timeoutMilliseconds: set.timeoutSeconds.map { $0 * 1000 }, size: set.size,
      elements: NftSetElements(count: set.elements.count) {
        [elements = set.elements, isInterval = set.isInterval] index in
        NftSetElement(
          key: RegisterBytes.bytes(elements[index].low),
          keyEnd: isInterval ? RegisterBytes.bytes(elements[index].high) : nil,
          verdict: elements[index].jump.map { (NetlinkConstant.verdictJump, $0) },
          comment: elements[index].comment.map(NftSetElement.commentUserData), origin: elements[index].origin)
      }, origin: set.origin)
  }

  private func anonymousSet(
    _ type: NftDataType, _ values: [UInt8], setIDs: inout SetIDs, anonymous: inout [NftSet], origin: Int32
  ) -> (String, UInt32) {
    let id = setIDs.anonymousID()
    anonymous.append(
      NftSet(
        name: "__set%d", id: id, key: [type], flags: NetlinkConstant.setAnonymous | NetlinkConstant.setConstant,
        isVerdictMap: false, counter: false,
        elements: NftSetElements(
          values.map { NftSetElement(key: [$0], keyEnd: nil, verdict: nil, comment: nil, origin: origin) }),
        origin: origin))
    return ("__set%d", id)
  }

  // MARK: Statements, one function per kind

  private func expressions(
    _ statement: ProgramStatement, setIDs: inout SetIDs, anonymous: inout [NftSet], origin: Int32
  ) -> [NftExpression] {
    let first = NetlinkConstant.register(wordOffset: 0)
    switch statement {
    case .ctState(let invalid):
      return ctState(invalid ? 0x01 : 0x06)
    case .nfproto(let family):
      return compareMeta(
        UInt32(NFT_META_NFPROTO.rawValue),
        family == .ipv4 ? NetlinkConstant.nfprotoIPv4 : NetlinkConstant.nfprotoIPv6)
    case .l4protoIn(let numbers):
      let set = anonymousSet(.inetProtocol, numbers, setIDs: &setIDs, anonymous: &anonymous, origin: origin)
      return [
        .meta(key: UInt32(NFT_META_L4PROTO.rawValue), register: first),
        .lookup(register: first, set: set.0, setID: set.1, destination: nil, inverted: false),
      ]
    case .l4protoNotIn(let numbers):
      let set = anonymousSet(.inetProtocol, numbers, setIDs: &setIDs, anonymous: &anonymous, origin: origin)
      return [
        .meta(key: UInt32(NFT_META_L4PROTO.rawValue), register: first),
        .lookup(register: first, set: set.0, setID: set.1, destination: nil, inverted: true),
      ]
    case .l4proto(let number):
      return compareMeta(UInt32(NFT_META_L4PROTO.rawValue), number)
    case .icmpv6TypeIn(let types):
      let set = anonymousSet(.icmpv6Type, types, setIDs: &setIDs, anonymous: &anonymous, origin: origin)
      return compareMeta(UInt32(NFT_META_NFPROTO.rawValue), NetlinkConstant.nfprotoIPv6)
        + compareMeta(UInt32(NFT_META_L4PROTO.rawValue), 58)
        + ProgramField.icmpv6Type.load(into: first)
        + [.lookup(register: first, set: set.0, setID: set.1, destination: nil, inverted: false)]
    case .hopLimit(let limit):
      return [
        .payload(base: UInt32(NFT_PAYLOAD_NETWORK_HEADER.rawValue), offset: 7, length: 1, register: first),
        .compare(operation: UInt32(NFT_CMP_EQ.rawValue), register: first, data: [limit]),
      ]
    case .loopbackInput:
      return [
        .meta(key: UInt32(NFT_META_IIF.rawValue), register: first),
        .compare(operation: UInt32(NFT_CMP_EQ.rawValue), register: first, data: RegisterBytes.littleEndianWord(1)),
      ]
    case .lookup(let fields, let set, let inverted, let verdictMap):
      return concatenation(fields) + [
        .lookup(
          register: first, set: set, setID: setIDs.id(for: set),
          destination: verdictMap ? NetlinkConstant.registerVerdict : nil, inverted: inverted)
      ]
    case .update(let fields, let set):
      return concatenation(fields, forUpdate: true) + [.dynset(register: first, set: set, setID: setIDs.id(for: set))]
    case .timeAtLeast(let seconds):
      let nanoseconds = UInt64(max(seconds, 0)).multipliedReportingOverflow(by: 1_000_000_000)
      return [
        .meta(key: UInt32(NFT_META_TIME_NS.rawValue), register: first),
        .byteOrder(register: first, operation: UInt32(NFT_BYTEORDER_HTON.rawValue), length: 8, size: 8),
        .compare(
          operation: UInt32(NFT_CMP_GTE.rawValue), register: first,
          data: withUnsafeBytes(
            of: (nanoseconds.overflow ? UInt64.max : nanoseconds.partialValue).bigEndian, Array.init)),
      ]
    case .counter: return [.counter]
    case .limitPerSecond(let rate): return [.limit(rate: rate, unit: 1, burst: 5)]
    case .log(let prefix): return [.log(prefix: prefix)]
    case .accept: return [.verdict(code: NetlinkConstant.verdictAccept, chain: nil)]
    case .drop: return [.verdict(code: NetlinkConstant.verdictDrop, chain: nil)]
    case .goto(let chain): return [.verdict(code: NetlinkConstant.verdictGoto, chain: chain)]
    }
  }

  private func compareMeta(_ key: UInt32, _ value: UInt8) -> [NftExpression] {
    let register = NetlinkConstant.register(wordOffset: 0)
    return [
      .meta(key: key, register: register),
      .compare(operation: UInt32(NFT_CMP_EQ.rawValue), register: register, data: [value]),
    ]
  }

  private func ctState(_ mask: UInt32) -> [NftExpression] {
    let register = NetlinkConstant.register(wordOffset: 0)
    return [
      .conntrack(key: UInt32(NFT_CT_STATE.rawValue), register: register),
      .bitwise(
        register: register, length: 4, mask: RegisterBytes.littleEndianWord(mask),
        xor: RegisterBytes.littleEndianWord(0)),
      .compare(operation: UInt32(NFT_CMP_NEQ.rawValue), register: register, data: RegisterBytes.littleEndianWord(0)),
    ]
  }

  /// Loads each field into whole 32-bit registers, one after the other. The key of a dynamic set's update loads
  /// `meta l4proto` as its one byte, as nft 1.0.6 writes `update @set { … meta l4proto … }`.
  private func concatenation(_ fields: [ProgramField], forUpdate: Bool = false) -> [NftExpression] {
    var offset = 0
    var expressions: [NftExpression] = []
    for field in fields {
      let register = NetlinkConstant.register(wordOffset: offset)
      expressions +=
        forUpdate && field == .l4proto
        ? [.meta(key: UInt32(NFT_META_L4PROTO.rawValue), register: register)] : field.load(into: register)
      offset += field.words
    }
    return expressions
  }
}

extension ProgramField {
  /// Registers (32-bit words) the field occupies.
  var words: Int {
    switch self {
    case .inputInterface, .outputInterface, .ipv6Source, .ipv6Destination: 4
    default: 1
    }
  }

  /// The expressions that load the field, as nft emits them.
  func load(into register: UInt32) -> [NftExpression] {
    let network = UInt32(NFT_PAYLOAD_NETWORK_HEADER.rawValue)
    let transport = UInt32(NFT_PAYLOAD_TRANSPORT_HEADER.rawValue)
    switch self {
    case .inputInterface: return [.meta(key: UInt32(NFT_META_IIFNAME.rawValue), register: register)]
    case .outputInterface: return [.meta(key: UInt32(NFT_META_OIFNAME.rawValue), register: register)]
    case .ipv4Source: return [.payload(base: network, offset: 12, length: 4, register: register)]
    case .ipv4Destination: return [.payload(base: network, offset: 16, length: 4, register: register)]
    case .ipv6Source: return [.payload(base: network, offset: 8, length: 16, register: register)]
    case .ipv6Destination: return [.payload(base: network, offset: 24, length: 16, register: register)]
    case .l4proto:
      return [
        .meta(key: UInt32(NFT_META_L4PROTO.rawValue), register: register),
        .byteOrder(register: register, operation: UInt32(NFT_BYTEORDER_HTON.rawValue), length: 1, size: 2),
      ]
    case .destinationPort: return [.payload(base: transport, offset: 2, length: 2, register: register)]
    case .icmpType, .icmpv6Type: return [.payload(base: transport, offset: 0, length: 1, register: register)]
    }
  }
}

/// The bytes of register data (set keys and compared values): each field of a concatenation padded to whole
/// 32-bit words, packet fields in network byte order.
enum RegisterBytes {
  /// The bytes of a concatenated key: every field in its register's width (interfaces 16 bytes, addresses 4 or 16,
  /// protocol, port and ICMP type 4), written straight into one array.
  static func bytes(_ values: [KeyValue]) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(40)
    for value in values { append(value, to: &bytes) }
    return bytes
  }

  static func append(_ value: KeyValue, to bytes: inout [UInt8]) {
    switch value {
    case .interface(let name):
      let start = bytes.count
      bytes.append(contentsOf: name.utf8.prefix(15))
      bytes.append(contentsOf: repeatElement(0, count: 16 - (bytes.count - start)))
    case .address(.v4(let v4)): withUnsafeBytes(of: v4.value.bigEndian) { bytes.append(contentsOf: $0) }
    case .address(.v6(let v6)): withUnsafeBytes(of: v6.value.bigEndian) { bytes.append(contentsOf: $0) }
    case .protocolNumber(let number), .icmpType(let number):
      bytes.append(number)
      bytes.append(contentsOf: repeatElement(0, count: 3))
    case .port(let port):
      withUnsafeBytes(of: port.bigEndian) { bytes.append(contentsOf: $0) }
      bytes.append(contentsOf: repeatElement(0, count: 2))
    }
  }

  /// A 32-bit value the kernel keeps in host byte order (an interface index, conntrack state bits), written
  /// little-endian: an artifact is for a little-endian gateway (x86-64, arm64), whatever machine compiled it.
  static func littleEndianWord(_ value: UInt32) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
  }
}
