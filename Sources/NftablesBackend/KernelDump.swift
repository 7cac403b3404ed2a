import CNetlink
import Foundation
import PolicyLanguage

extension KernelSession {
  /// The names of the `inet` tables of this network namespace whose names are conduit's (`conduit`, `conduit_…`).
  public func conduitTableNames() throws(KernelSessionError) -> [String] {
    try inetTableNames().filter(LiveTable.isConduitTableName)
  }

  /// The names of every `inet` table of this network namespace.
  public func inetTableNames() throws(KernelSessionError) -> [String] {
    for _ in 0..<Self.dumpAttempts {
      var interrupted = false
      let replies = try dump(UInt16(NFT_MSG_GETTABLE.rawValue), [], interrupted: &interrupted)
      if !interrupted { return replies.compactMap { Self.string(UInt16(NFTA_TABLE_NAME.rawValue), of: $0) } }
    }
    throw .system("the ruleset kept changing while its tables were listed", errno: EAGAIN)
  }

  /// The table `inet NAME` as the kernel has it now (`LiveTable`), or nil when there is none. Throws `.unsaveable`
  /// when the table holds what a restore could not create again (flowtables, stateful objects, chains bound to a
  /// rule). A dump the kernel marks interrupted (the ruleset changed meanwhile) is taken again from the start.
  public func liveTable(named name: String) throws(KernelSessionError) -> LiveTable? {
    guard LiveTable.isConduitTableName(name) else {
      throw .malformed("'\(TerminalText.escaped(name))' is not the name of a conduit table")
    }
    for _ in 0..<Self.dumpAttempts {
      var interrupted = false
      let table = try dumpTable(name, interrupted: &interrupted)
      if !interrupted { return table }
    }
    throw .system("the ruleset kept changing while table '\(name)' was listed", errno: EAGAIN)
  }

  private static let dumpAttempts = 8

  /// The ruleset's generation id: the kernel adds one with every committed transaction in this namespace, so an id
  /// unchanged since conduit's own commit proves that nobody changed the ruleset since, without a dump.
  public func generationID() throws(KernelSessionError) -> UInt32 {
    var interrupted = false
    let replies = try dump(UInt16(NFT_MSG_GETGEN.rawValue), [], interrupted: &interrupted, single: true)
    guard let reply = replies.first, let range = Self.attribute(UInt16(NFTA_GEN_ID.rawValue), of: reply),
      range.count == 4
    else { throw .malformed("the kernel's generation answer holds no generation id") }
    return reply[range].reduce(0) { $0 << 8 | UInt32($1) }
  }

  /// What the identity chain of table `inet NAME` says: nil when the table has no such chain or its comment is not
  /// conduit's identity. Lists the table's chains only.
  public func identity(ofTable name: String) throws(KernelSessionError) -> NftablesIdentity? {
    for _ in 0..<Self.dumpAttempts {
      var interrupted = false
      let table: [(UInt16, [UInt8])] = [(1, Array(name.utf8) + [0])]
      let chains = try dump(UInt16(NFT_MSG_GETCHAIN.rawValue), table, interrupted: &interrupted).filter {
        Self.string(1, of: $0) == name
          && Self.string(UInt16(NFTA_CHAIN_NAME.rawValue), of: $0) == NftablesIdentity.chainName
      }
      guard !interrupted else { continue }
      guard let chain = chains.first, let recreated = LiveTable.recreation(of: chain[...]) else { return nil }
      return LiveTable.identity(ofChainMessage: recreated)
    }
    throw .system("the ruleset kept changing while table '\(name)' was listed", errno: EAGAIN)
  }

  private func dumpTable(_ name: String, interrupted: inout Bool) throws(KernelSessionError) -> LiveTable? {
    let table: [(UInt16, [UInt8])] = [(1, Array(name.utf8) + [0])]
    func listed(_ type: UInt32, _ attributes: [(UInt16, [UInt8])]) throws(KernelSessionError) -> [[UInt8]] {
      try dump(UInt16(type), attributes, interrupted: &interrupted).filter { Self.string(1, of: $0) == name }
    }
    let tables = try dump(UInt16(NFT_MSG_GETTABLE.rawValue), [], interrupted: &interrupted).filter {
      Self.string(UInt16(NFTA_TABLE_NAME.rawValue), of: $0) == name
    }
    guard let tableReply = tables.first else { return nil }
    let chains = try listed(NFT_MSG_GETCHAIN.rawValue, table)
    for chain in chains {
      if let flags = Self.attribute(UInt16(NFTA_CHAIN_FLAGS.rawValue), of: chain), flags.count == 4,
        chain[flags.upperBound - 1] & UInt8(NFT_CHAIN_BINDING.rawValue) != 0
      {
        throw .unsaveable("table '\(name)' has a chain bound to a rule (nft's `jump { … }`), which conduit cannot save")
      }
    }
    for (type, what) in [
      (NFT_MSG_GETFLOWTABLE.rawValue, "a flowtable"), (NFT_MSG_GETOBJ.rawValue, "a stateful object"),
    ]
    where try !listed(type, table).isEmpty {
      throw .unsaveable("table '\(name)' holds \(what), which conduit cannot save and restore")
    }
    let sets = try listed(NFT_MSG_GETSET.rawValue, table)
    var replies = [tableReply] + chains
    for set in sets {
      guard let setName = Self.attribute(UInt16(NFTA_SET_NAME.rawValue), of: set) else {
        throw .malformed("the kernel listed a set of table '\(name)' without a name")
      }
      replies.append(set)
      // A dynamic set's elements come from the packet path (the last drops): they are not saved, nor compared.
      let flags = Self.attribute(UInt16(NFTA_SET_FLAGS.rawValue), of: set).map {
        set[$0].reduce(0) { $0 << 8 | UInt32($1) }
      }
      if (flags ?? 0) & NetlinkConstant.setDynamic != 0 { continue }
      replies += try listed(NFT_MSG_GETSETELEM.rawValue, table + [(2, Array(set[setName]))])
    }
    replies += try listed(NFT_MSG_GETRULE.rawValue, table)
    var messages: [[UInt8]] = []
    var setID: UInt32 = 0
    for reply in replies {
      if LiveTable.type(of: reply) == NetlinkConstant.messageNewSet { setID += 1 }
      guard let message = LiveTable.recreation(of: reply[...], setID: setID) else {
        throw .unsaveable("table '\(name)' holds an object conduit cannot encode again")
      }
      messages.append(message)
    }
    do { return try LiveTable(name: name, messages: messages) } catch { throw .unsaveable(error.description) }
  }

  /// The range of the value of the first top-level attribute of `type` in `message` (a whole nf_tables message).
  static func attribute(_ type: UInt16, of message: [UInt8]) -> Range<Int>? {
    var offset = 20
    while offset + 4 <= message.count {
      let length = Int(NetlinkBatchLayout.u16(message, offset))
      guard length >= 4, offset + length <= message.count else { return nil }
      if NetlinkBatchLayout.u16(message, offset + 2) & 0x3FFF == type { return (offset + 4)..<(offset + length) }
      offset += (length + 3) & ~3
    }
    return nil
  }

  static func string(_ type: UInt16, of message: [UInt8]) -> String? {
    attribute(type, of: message).flatMap { NetlinkBatchLayout.string(message, $0) }
  }

  /// The replies to one nf_tables dump request of `type` (`NFT_MSG_GET…`) in the `inet` family, each a whole
  /// message; sets `interrupted` when the kernel marks the dump inconsistent. With `single`, a plain request whose
  /// one answer is returned.
  func dump(
    _ type: UInt16, _ attributes: [(UInt16, [UInt8])], interrupted: inout Bool, single: Bool = false
  ) throws(KernelSessionError) -> [[UInt8]] {
    dumpSequence = dumpSequence == UInt32.max ? 1 << 30 : dumpSequence + 1
    let sequence = dumpSequence
    var request = [UInt8](repeating: 0, count: 20)
    let messageType = UInt16(NFNL_SUBSYS_NFTABLES) << 8 | type
    request.replaceSubrange(4..<6, with: withUnsafeBytes(of: messageType.littleEndian) { Array($0) })
    let flags = UInt16(single ? NLM_F_REQUEST : NLM_F_REQUEST | NLM_F_DUMP)
    request.replaceSubrange(6..<8, with: withUnsafeBytes(of: flags.littleEndian) { Array($0) })
    request.replaceSubrange(8..<12, with: withUnsafeBytes(of: sequence.littleEndian) { Array($0) })
    request[16] = UInt8(NFPROTO_INET)
    for (attributeType, value) in attributes {
      request += withUnsafeBytes(of: UInt16(value.count + 4).littleEndian) { Array($0) }
      request += withUnsafeBytes(of: attributeType.littleEndian) { Array($0) }
      request += value + [UInt8](repeating: 0, count: (4 - value.count % 4) % 4)
    }
    request.replaceSubrange(0..<4, with: withUnsafeBytes(of: UInt32(request.count).littleEndian) { Array($0) })
    let sent = request.withUnsafeBytes { raw in mnl_socket_sendto(socket, raw.baseAddress, raw.count) }
    guard sent == request.count else { throw .system("cannot ask the kernel to list its ruleset", errno: errno) }
    var replies: [[UInt8]] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 20)
    while true {
      var poll = pollfd(fd: mnl_socket_get_fd(socket), events: Int16(POLLIN), revents: 0)
      guard Glibc.poll(&poll, 1, 10_000) > 0 else {
        throw .system("the kernel did not finish listing its ruleset", errno: ETIMEDOUT)
      }
      let count = buffer.withUnsafeMutableBytes { raw in mnl_socket_recvfrom(socket, raw.baseAddress, raw.count) }
      guard count > 0 else { throw .system("cannot read the kernel's listing", errno: errno) }
      var offset = 0
      while offset + 16 <= count {
        let length = Int(NetlinkBatchLayout.u32(buffer, offset))
        guard length >= 16, offset + length <= count else {
          throw .system("the kernel's listing holds a truncated message", errno: EPROTO)
        }
        defer { offset += (length + 3) & ~3 }
        guard NetlinkBatchLayout.u32(buffer, offset + 8) == sequence else { continue }
        let replyType = NetlinkBatchLayout.u16(buffer, offset + 4)
        if NetlinkBatchLayout.u16(buffer, offset + 6) & UInt16(NLM_F_DUMP_INTR) != 0 { interrupted = true }
        switch replyType {
        case UInt16(NLMSG_DONE):
          return replies
        case UInt16(NLMSG_ERROR):
          guard length >= 20 else { throw .system("the kernel's listing holds a truncated error", errno: EPROTO) }
          let code = -Int32(bitPattern: NetlinkBatchLayout.u32(buffer, offset + 16))
          if code == 0 { continue }
          throw .system("the kernel refused to list its ruleset", errno: code)
        case messageType & 0xFF00 | UInt16(replyType & 0xFF) where replyType >> 8 == UInt16(NFNL_SUBSYS_NFTABLES):
          guard length >= 20 else { throw .system("the kernel's listing holds a truncated message", errno: EPROTO) }
          replies.append(Array(buffer[offset..<(offset + length)]))
          if single { return replies }
        default:
          continue
        }
      }
    }
  }
}
