import CNetlink
import Foundation
import PolicyLanguage

/// Why applying a batch failed.
public enum KernelSessionError: Error, CustomStringConvertible, Sendable {
  /// A system call failed (no permission, no such namespace, …).
  case system(String, errno: Int32)
  /// The kernel rejected a message (or one set element of it); the transaction was aborted and nothing changed.
  case rejected(KernelRejection)
  /// The kernel did not answer every message.
  case incomplete(answered: Int, expected: Int)
  /// The batch is not one conduit sends; nothing was sent.
  case malformed(String)
  /// A live table holds what conduit cannot save and restore.
  case unsaveable(String)

  public var description: String {
    switch self {
    case .system(let what, let code): "\(what): \(String(cString: strerror(code)))"
    case .rejected(let rejection): rejection.description
    case .incomplete(let answered, let expected):
      "the kernel answered \(answered) of \(expected) messages; the outcome is unknown"
    case .malformed(let problem): "the batch is malformed (\(problem)); nothing was sent"
    case .unsaveable(let problem): problem
    }
  }

  /// Whether the failure is a missing permission.
  public var isPermissionDenied: Bool {
    if case .system(_, let code) = self { return code == EPERM || code == EACCES }
    if case .rejected(let rejection) = self { return rejection.errno == EPERM }
    return false
  }
}

/// A NETLINK_NETFILTER socket in the current network namespace, sending one batch as one transaction.
public final class KernelSession {
  let socket: OpaquePointer
  /// The sequence number of the next dump request.
  var dumpSequence: UInt32 = 1 << 30

  /// Opens the socket. Enter the target namespace first (`enterNetworkNamespace`).
  public init() throws(KernelSessionError) {
    guard let socket = mnl_socket_open(NETLINK_NETFILTER) else {
      throw .system("cannot open a netfilter netlink socket", errno: errno)
    }
    guard mnl_socket_bind(socket, 0, pid_t(MNL_SOCKET_AUTOPID)) >= 0 else {
      let code = errno
      mnl_socket_close(socket)
      throw .system("cannot bind the netlink socket", errno: code)
    }
    var on: Int32 = 1
    _ = mnl_socket_setsockopt(socket, NETLINK_CAP_ACK, &on, socklen_t(MemoryLayout<Int32>.size))
    _ = mnl_socket_setsockopt(socket, NETLINK_EXT_ACK, &on, socklen_t(MemoryLayout<Int32>.size))
    self.socket = socket
  }

  deinit { mnl_socket_close(socket) }

  /// Enters the network namespace `/run/netns/NAME` for the calling thread. NAME is a name `ip netns` gives, not a
  /// path: one with `/`, or `.` or `..`, is refused rather than followed out of `/run/netns`.
  public static func enterNetworkNamespace(_ name: String) throws(KernelSessionError) {
    let path = try networkNamespacePath(name)
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw .system("no network namespace '\(name)' (\(path))", errno: errno) }
    defer { close(descriptor) }
    guard conduit_enter_network_namespace(descriptor) == 0 else {
      throw .system("cannot enter network namespace '\(name)'", errno: errno)
    }
  }

  /// Moves the calling thread into a new, empty network namespace of its own, gone when the thread ends (a scratch
  /// namespace, e.g. to let iptables normalise rules without touching any real one).
  public static func enterNewNetworkNamespace() throws(KernelSessionError) {
    guard conduit_new_network_namespace() == 0 else {
      throw .system("cannot make a network namespace", errno: errno)
    }
  }

  /// `/run/netns/NAME` for a name `ip netns` gives, refusing one with `/`, or `.` or `..`, rather than following it
  /// out of `/run/netns`.
  public static func networkNamespacePath(_ name: String) throws(KernelSessionError) -> String {
    guard !name.isEmpty, name != ".", name != "..", !name.contains("/"), !name.utf8.contains(0) else {
      throw .system("'\(name)' is not a network namespace name (/run/netns/NAME)", errno: EINVAL)
    }
    return "/run/netns/\(name)"
  }

  /// Sends the batch in one `sendmsg` and reads the answer to every message that asks for one, as the batch's own
  /// bytes say (never a count from elsewhere). Throws when the kernel rejects any message, in which case it aborted
  /// the whole transaction, and when a message stays unanswered.
  public func send(_ batch: NftablesBatch) throws(KernelSessionError) {
    let layout: NetlinkBatchLayout
    do { layout = try NetlinkBatchLayout(validating: batch.bytes) } catch { throw .malformed(error.description) }
    try transmit(batch.bytes, acknowledged: layout.acknowledgedSequences, origins: batch.origins)
  }

  /// Sends `batch` with the conduit tables `others` deleted in the same transaction (created first when absent,
  /// so the deletion cannot fail): `apply --replace` over an old site's table.
  public func send(_ batch: NftablesBatch, deletingFirst others: [String]) throws(KernelSessionError) {
    guard !others.isEmpty else { return try send(batch) }
    let layout: NetlinkBatchLayout
    do { layout = try NetlinkBatchLayout(validating: batch.bytes) } catch { throw .malformed(error.description) }
    for name in others where !LiveTable.isConduitTableName(name) || name == layout.table {
      throw .malformed("'\(TerminalText.escaped(name))' is not another conduit table")
    }
    var writer = RawBatchWriter()
    for name in others {
      writer.tableMessage(NetlinkConstant.messageNewTable, name)
      writer.tableMessage(NetlinkConstant.messageDeleteTable, name)
    }
    let shift = UInt32(others.count * 2)
    var offset = Int(NetlinkBatchLayout.u32(batch.bytes, 0) + 3) & ~3
    while offset < batch.bytes.count {
      let length = Int(NetlinkBatchLayout.u32(batch.bytes, offset))
      let type = NetlinkBatchLayout.u16(batch.bytes, offset + 4)
      if type == UInt16(NFNL_MSG_BATCH_END) { break }
      writer.appendKeepingFlags(Array(batch.bytes[offset..<(offset + length)]))
      offset += (length + 3) & ~3
    }
    let acknowledged = writer.acknowledged
    let shifted = BatchOrigins(
      files: batch.origins.files, places: batch.origins.places,
      messages: Dictionary(uniqueKeysWithValues: batch.origins.messages.map { ($0.key + shift, $0.value) }),
      elements: batch.origins.elements)
    try transmit(writer.finished(), acknowledged: acknowledged, origins: shifted)
  }

  /// Restores saved tables in one transaction (`SavedTables.restoreBatch`): the tables a change created are
  /// deleted and the saved ones created again, or nothing changes.
  public func restore(_ saved: SavedTables) throws(KernelSessionError) {
    var writer = RawBatchWriter()
    var seen: Set<String> = []
    for name in saved.removing + saved.tables.map(\.name) where seen.insert(name).inserted {
      writer.tableMessage(NetlinkConstant.messageNewTable, name)
      writer.tableMessage(NetlinkConstant.messageDeleteTable, name)
    }
    for table in saved.tables {
      for message in table.messages { writer.append(message) }
    }
    let acknowledged = writer.acknowledged
    try transmit(writer.finished(), acknowledged: acknowledged, origins: .empty)
  }

  /// Sends `bytes` in one `sendmsg` and waits for the answers to the messages `acknowledged` names.
  func transmit(_ bytes: [UInt8], acknowledged: [UInt32], origins: BatchOrigins) throws(KernelSessionError) {
    let batch = NftablesBatch(bytes: bytes, origins: origins)
    let descriptor = mnl_socket_get_fd(socket)
    var size = Int32(min(batch.bytes.count * 2 + (1 << 20), Int(Int32.max)))
    _ = setsockopt(descriptor, SOL_SOCKET, SO_SNDBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size))
    var receive = Int32(1 << 22)
    _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVBUFFORCE, &receive, socklen_t(MemoryLayout<Int32>.size))
    let sent = batch.bytes.withUnsafeBytes { raw in mnl_socket_sendto(socket, raw.baseAddress, raw.count) }
    guard sent == batch.bytes.count else { throw .system("cannot send the batch", errno: errno) }

    var unanswered = Set(acknowledged)
    let expected = unanswered.count
    var firstError: KernelAnswer?
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while !unanswered.isEmpty {
      var poll = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
      let ready = Glibc.poll(&poll, 1, firstError == nil ? 5000 : 200)
      guard ready > 0 else { break }
      let count = buffer.withUnsafeMutableBytes { raw in mnl_socket_recvfrom(socket, raw.baseAddress, raw.count) }
      guard count > 0 else { throw .system("cannot read the kernel's answer", errno: errno) }
      for answer in Self.answers(in: buffer[0..<count]) {
        unanswered.remove(answer.sequence)
        if answer.code != 0, firstError == nil { firstError = answer }
      }
    }
    if let answer = firstError {
      let object = batch.origins.rejectedObject(
        sequence: answer.sequence, attributeOffset: answer.attributeOffset, in: batch.bytes)
      throw .rejected(KernelRejection(object: object, errno: answer.code, kernelMessage: answer.message))
    }
    guard unanswered.isEmpty else {
      throw .incomplete(answered: expected - unanswered.count, expected: expected)
    }
  }

  /// The NLMSG_ERROR answers (acknowledgements have code 0) in a received buffer, with what their extended ACK
  /// says: the offset of the attribute the kernel rejected (from the start of the rejected message) and its text.
  static func answers(in bytes: ArraySlice<UInt8>) -> [KernelAnswer] {
    var answers: [KernelAnswer] = []
    var offset = bytes.startIndex
    func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
    func u32(_ at: Int) -> UInt32 {
      UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
    }
    while offset + 16 <= bytes.endIndex {
      let length = Int(u32(offset))
      guard length >= 16, offset + length <= bytes.endIndex else { break }
      let type = u16(offset + 4)
      let flags = u16(offset + 6)
      if type == UInt16(NLMSG_ERROR), length >= 36 {
        var answer = KernelAnswer(sequence: u32(offset + 8), code: -Int32(bitPattern: u32(offset + 16)))
        if flags & UInt16(NLM_F_ACK_TLVS) != 0 {
          let echoed = flags & UInt16(NLM_F_CAPPED) != 0 ? 16 : (Int(u32(offset + 20)) + 3) & ~3
          var attribute = offset + 20 + echoed
          while attribute + 4 <= offset + length {
            let attributeLength = Int(u16(attribute))
            guard attributeLength >= 4, attribute + attributeLength <= offset + length else { break }
            let value = (attribute + 4)..<(attribute + attributeLength)
            switch u16(attribute + 2) & 0x3FFF {
            case UInt16(NLMSGERR_ATTR_OFFS.rawValue) where value.count == 4:
              answer.attributeOffset = Int(u32(value.lowerBound))
            case UInt16(NLMSGERR_ATTR_MSG.rawValue):
              let text = bytes[value].prefix { $0 != 0 }
              answer.message = TerminalText.escaped(String(decoding: text, as: UTF8.self))
            default: break
            }
            attribute += (attributeLength + 3) & ~3
          }
        }
        answers.append(answer)
      } else if type == UInt16(NLMSG_ERROR), length >= 20 {
        answers.append(KernelAnswer(sequence: u32(offset + 8), code: -Int32(bitPattern: u32(offset + 16))))
      }
      offset += (length + 3) & ~3
    }
    return answers
  }
}

/// One NLMSG_ERROR answer of the kernel.
struct KernelAnswer: Equatable {
  /// The sequence number of the message answered.
  var sequence: UInt32
  /// 0 for an acknowledgement, otherwise the errno.
  var code: Int32
  /// The extended ACK's offset of the rejected attribute, from the start of the message.
  var attributeOffset: Int?
  /// The extended ACK's text.
  var message: String?
}

/// A message (or a set element of one) the kernel rejected, and where it comes from in the policy.
public struct KernelRejection: Sendable, Equatable, CustomStringConvertible {
  /// The rejected message, element and place.
  public var object: RejectedObject
  public var errno: Int32
  /// The kernel's own text (extended ACK), if it gave one.
  public var kernelMessage: String?

  public var description: String {
    let reason = String(cString: strerror(errno)) + (kernelMessage.map { ": \($0)" } ?? "")
    let what =
      object.element.map { "set element \($0 + 1) of message \(object.sequence)" } ?? "message \(object.sequence)"
    let place = object.place.map { ", which comes from \(TerminalText.escaped($0))" } ?? ""
    return "the kernel rejected \(what) (\(reason))\(place); nothing was changed"
  }
}
