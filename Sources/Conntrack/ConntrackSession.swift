import CNetlink
import FlowSpace
import Glibc
import Synchronization

/// A ctnetlink request that failed, with the `errno` the socket or the kernel gave.
public struct ConntrackError: Error, CustomStringConvertible, Sendable {
  /// What failed and why.
  public var description: String
  /// The error number (`ENOBUFS`, `EPERM`, …), or 0 when none applies.
  public var errno: Int32

  /// Creates an error with its explanation and error number.
  public init(_ description: String, errno: Int32) {
    self.description = description
    self.errno = errno
  }

  /// An error for `what`, explained by the system's message for `code`.
  static func system(_ what: String, errno code: Int32) -> ConntrackError {
    ConntrackError("\(what): \(String(cString: strerror(code))) (errno \(code))", errno: code)
  }
}

/// A ctnetlink session: lists the connections the kernel tracks and deletes some of them.
///
/// The netlink socket stays bound to the network namespace it was opened in, whatever thread uses it later: `init()`
/// opens it in the namespace of the calling thread, `init(networkNamespace:)` in a named one without changing the
/// namespace of any thread of the caller. Requests are serialized, so one session may be shared between threads.
/// Both need `CAP_NET_ADMIN` in that namespace.
public final class ConntrackSession: @unchecked Sendable {
  private static let bufferSize = 64 * 1024

  private let socket: OpaquePointer
  private let portID: UInt32
  private let buffer: UnsafeMutableRawPointer
  private let state: Mutex<State>

  private struct State {
    var sequence: UInt32
    var mustDrain = false

    mutating func next() -> UInt32 {
      sequence = sequence == UInt32.max ? 1 : sequence + 1
      return sequence
    }
  }

  /// Opens a ctnetlink socket in the network namespace of the calling thread.
  public convenience init() throws {
    try self.init(socket: Self.openSocket())
  }

  /// Opens a ctnetlink socket in the network namespace at `path` (such as `/run/netns/gw` or `/proc/PID/ns/net`).
  ///
  /// A short-lived thread enters the namespace, opens the socket and exits; the caller's threads keep theirs.
  public convenience init(networkNamespace path: String) throws {
    try self.init(socket: NamespaceThread.openSocket(inNetworkNamespace: path))
  }

  private init(socket: OpaquePointer) {
    self.socket = socket
    portID = mnl_socket_get_portid(socket)
    buffer = UnsafeMutableRawPointer.allocate(byteCount: Self.bufferSize, alignment: 16)
    state = Mutex(State(sequence: UInt32(truncatingIfNeeded: time(nil)) | 1))
  }

  deinit {
    mnl_socket_close(socket)
    buffer.deallocate()
  }

  /// Every tracked connection of both families, in the kernel's order.
  ///
  /// The listing is complete or an error: a dump that overflows the socket (`ENOBUFS`) or that the kernel marks as
  /// interrupted three times in a row throws. Messages that are not a complete IPv4 or IPv6 entry are skipped.
  public func entries() throws -> [ConntrackEntry] {
    try state.withLock { state in
      var lastError: ConntrackError?
      for _ in 0..<3 {
        do {
          return try dump(&state)
        } catch let error as ConntrackError where error.errno == EINTR {
          lastError = error
        }
      }
      throw lastError ?? ConntrackError("the conntrack dump was interrupted", errno: EINTR)
    }
  }

  /// Deletes the connection of `entry`, found by its original tuple, zone and id; false when it is already gone.
  ///
  /// A connection that ended and was opened again with the same addresses and ports has another id, so it is not
  /// deleted (false).
  @discardableResult
  public func delete(_ entry: ConntrackEntry) throws -> Bool {
    guard !entry.originalTuple.isEmpty, entry.originalTuple.count <= 512 else {
      throw ConntrackError("the entry \(entry) has no usable original tuple", errno: EINVAL)
    }
    let family = UInt8(entry.family == .ipv4 ? AF_INET : AF_INET6)
    return try state.withLock { state in
      drainIfNeeded(&state)
      let sequence = state.next()
      var message = [UInt8](repeating: 0, count: 1024)
      try message.withUnsafeMutableBytes { bytes in
        let header = Self.putHeader(
          in: bytes, message: CtnetlinkConstant.messageDelete, flags: NLM_F_ACK, family: family, sequence: sequence)
        entry.originalTuple.withUnsafeBytes { tuple in
          mnl_attr_put(
            header, CtnetlinkConstant.tupleOriginal | CtnetlinkConstant.nested, tuple.count, tuple.baseAddress)
        }
        if let id = entry.id { mnl_attr_put_u32(header, CtnetlinkConstant.id, id.bigEndian) }
        if let zone = entry.zone { mnl_attr_put_u16(header, CtnetlinkConstant.zone, zone.bigEndian) }
        try send(header)
      }
      do {
        try receive(sequence: sequence, callback: nil, context: nil, &state)
        return true
      } catch let error as ConntrackError where error.errno == ENOENT {
        return false
      }
    }
  }

  /// Deletes every entry for which `shouldDelete` returns true; returns how many were deleted.
  ///
  /// Entries that go away between the listing and their deletion are not counted. The first error other than a
  /// vanished entry stops the deletions and is thrown.
  public func deleteEntries(where shouldDelete: (ConntrackEntry) -> Bool) throws -> Int {
    var deleted = 0
    for entry in try entries() where shouldDelete(entry) {
      if try delete(entry) { deleted += 1 }
    }
    return deleted
  }

  // MARK: Requests

  private func dump(_ state: inout State) throws -> [ConntrackEntry] {
    drainIfNeeded(&state)
    let sequence = state.next()
    var message = [UInt8](repeating: 0, count: 64)
    try message.withUnsafeMutableBytes { bytes in
      let header = Self.putHeader(
        in: bytes, message: CtnetlinkConstant.messageGet, flags: NLM_F_DUMP, family: UInt8(AF_UNSPEC),
        sequence: sequence)
      try send(header)
    }
    let collector = DumpCollector()
    let context = Unmanaged.passUnretained(collector).toOpaque()
    try withExtendedLifetime(collector) {
      try receive(sequence: sequence, callback: dumpCallback, context: context, &state)
    }
    return collector.entries
  }

  private static func putHeader(
    in bytes: UnsafeMutableRawBufferPointer, message: UInt16, flags: Int32, family: UInt8, sequence: UInt32
  ) -> UnsafeMutablePointer<nlmsghdr> {
    let header = mnl_nlmsg_put_header(bytes.baseAddress)!
    header.pointee.nlmsg_type = CtnetlinkConstant.messageType(message)
    header.pointee.nlmsg_flags = UInt16(NLM_F_REQUEST | flags)
    header.pointee.nlmsg_seq = sequence
    let extra = mnl_nlmsg_put_extra_header(header, MemoryLayout<nfgenmsg>.size)!
    let general = extra.bindMemory(to: nfgenmsg.self, capacity: 1)
    general.pointee.nfgen_family = family
    general.pointee.version = UInt8(NFNETLINK_V0)
    general.pointee.res_id = 0
    return header
  }

  private func send(_ header: UnsafeMutablePointer<nlmsghdr>) throws {
    let length = Int(header.pointee.nlmsg_len)
    let sent = mnl_socket_sendto(socket, header, length)
    guard sent == length else {
      let code = sent < 0 ? errno : EMSGSIZE
      throw ConntrackError.system("sending a ctnetlink request", errno: code)
    }
  }

  /// Reads answers to request `sequence` until its end (`NLMSG_DONE` or an ACK); on any failure, marks the socket
  /// for draining so that the rest of the answer does not reach the next request.
  private func receive(
    sequence: UInt32, callback: mnl_cb_t?, context: UnsafeMutableRawPointer?, _ state: inout State
  ) throws {
    while true {
      let received = mnl_socket_recvfrom(socket, buffer, Self.bufferSize)
      guard received >= 0 else {
        let code = errno
        state.mustDrain = true
        if code == ENOBUFS {
          throw ConntrackError(
            "the conntrack listing overflowed the netlink socket's receive buffer (ENOBUFS); it would be incomplete",
            errno: code)
        }
        if code == EAGAIN || code == EWOULDBLOCK {
          throw ConntrackError("the kernel did not answer a ctnetlink request within 30 s", errno: code)
        }
        throw ConntrackError.system("receiving ctnetlink answers", errno: code)
      }
      let result = mnl_cb_run(buffer, received, sequence, portID, callback, context)
      if result == MNL_CB_STOP { return }
      if result < 0 {
        let code = errno
        state.mustDrain = true
        if code == EINTR { throw ConntrackError("the conntrack dump was interrupted by a change", errno: code) }
        throw ConntrackError.system("ctnetlink request", errno: code)
      }
    }
  }

  /// Reads and discards whatever a failed request left queued, so that its answers are not taken for the next one.
  private func drainIfNeeded(_ state: inout State) {
    guard state.mustDrain else { return }
    let descriptor = mnl_socket_get_fd(socket)
    while true {
      let received = recv(descriptor, buffer, Self.bufferSize, Int32(MSG_DONTWAIT))
      if received > 0 { continue }
      if received == 0 { break }
      let code = errno
      if code == EAGAIN || code == EWOULDBLOCK { break }
    }
    state.mustDrain = false
  }

  /// Opens and binds a netlink socket of `protocol` (netfilter unless told otherwise), called `name` in errors, in
  /// the calling thread's network namespace; it waits at most 30 s for an answer.
  static func openSocket(protocol: Int32 = NETLINK_NETFILTER, name: String = "netfilter") throws(ConntrackError)
    -> OpaquePointer
  {
    guard let socket = mnl_socket_open(`protocol`) else {
      throw ConntrackError.system("opening a \(name) netlink socket", errno: errno)
    }
    guard mnl_socket_bind(socket, 0, pid_t(MNL_SOCKET_AUTOPID)) >= 0 else {
      let code = errno
      mnl_socket_close(socket)
      throw ConntrackError.system("binding a \(name) netlink socket", errno: code)
    }
    var enabled: Int32 = 1
    _ = mnl_socket_setsockopt(socket, NETLINK_CAP_ACK, &enabled, socklen_t(MemoryLayout<Int32>.size))
    var timeout = timeval(tv_sec: 30, tv_usec: 0)
    _ = setsockopt(
      mnl_socket_get_fd(socket), SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    return socket
  }
}

/// Collects the entries of one dump; reached from the C callback through its `data` pointer.
private final class DumpCollector {
  var entries: [ConntrackEntry] = []
  var skipped = 0

  func add(_ header: UnsafePointer<nlmsghdr>) {
    guard header.pointee.nlmsg_type == CtnetlinkConstant.messageType(CtnetlinkConstant.messageNew),
      let payload = mnl_nlmsg_get_payload(header)
    else {
      skipped += 1
      return
    }
    let bytes = [UInt8](UnsafeRawBufferPointer(start: payload, count: mnl_nlmsg_get_payload_len(header)))
    if let entry = ConntrackEntry(ctnetlinkPayload: bytes) {
      entries.append(entry)
    } else {
      skipped += 1
    }
  }
}

private let dumpCallback: mnl_cb_t = { header, data in
  guard let header, let data else { return MNL_CB_ERROR }
  Unmanaged<DumpCollector>.fromOpaque(data).takeUnretainedValue().add(header)
  return MNL_CB_OK
}
