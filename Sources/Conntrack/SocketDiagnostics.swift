import CNetlink
import FlowSpace
import Glibc

/// One established TCP connection of a network namespace, seen from the namespace's side.
public struct EstablishedConnection: Sendable, Hashable {
  /// The namespace's own address of the connection; IPv4 for an IPv4 connection, even when an IPv6 socket holds it.
  public var local: IPAddress
  /// The namespace's port (the service's port for a connection a client opened).
  public var localPort: UInt16
  /// The address of the other side, in the same family as `local`.
  public var remote: IPAddress
  /// The port of the other side.
  public var remotePort: UInt16

  /// Creates a connection from its two ends.
  public init(local: IPAddress, localPort: UInt16, remote: IPAddress, remotePort: UInt16) {
    self.local = local
    self.localPort = localPort
    self.remote = remote
    self.remotePort = remotePort
  }
}

/// The kernel's socket diagnostics (`NETLINK_SOCK_DIAG`): the sockets of the calling thread's network namespace.
public enum SocketDiagnostics {
  /// Every TCP connection in state ESTABLISHED in the calling thread's network namespace whose local port is in
  /// `localPorts`: the IPv4 sockets first, then the IPv6 ones, each in the kernel's order.
  ///
  /// Listening sockets and connections still opening or already closing (SYN_RECV, FIN_WAIT, TIME_WAIT, …) are not
  /// listed. An IPv6 socket that holds an IPv4 connection (addresses `::ffff:a.b.c.d`) is reported with the IPv4
  /// addresses. The listing is complete or an error; messages that are not a whole `inet_diag_msg` throw.
  public static func establishedTCPConnections(
    localPorts: Set<UInt16>
  ) throws(ConntrackError) -> [EstablishedConnection] {
    guard !localPorts.isEmpty else { return [] }
    let socket = try NetlinkRequestSocket(protocol: NETLINK_SOCK_DIAG, name: "sock_diag")
    let collector = ConnectionCollector(localPorts: localPorts)
    for family in [AF_INET, AF_INET6] {
      collector.family = UInt8(family)
      let sequence = try socket.send { header in
        header.pointee.nlmsg_type = UInt16(SOCK_DIAG_BY_FAMILY)
        header.pointee.nlmsg_flags = UInt16(NLM_F_REQUEST | NLM_F_DUMP)
        let request = mnl_nlmsg_put_extra_header(header, MemoryLayout<inet_diag_req_v2>.size)!
          .bindMemory(to: inet_diag_req_v2.self, capacity: 1)
        request.pointee.sdiag_family = UInt8(family)
        request.pointee.sdiag_protocol = UInt8(IPPROTO_TCP)
        request.pointee.idiag_states = 1 << UInt32(TCP_ESTABLISHED)
      }
      let context = Unmanaged.passUnretained(collector).toOpaque()
      try withExtendedLifetime(collector) { () throws(ConntrackError) in
        try socket.receive(sequence: sequence, callback: connectionCallback, context: context)
      }
      if let failure = collector.failure { throw failure }
    }
    return collector.connections
  }

  /// The established TCP connection that one `SOCK_DIAG_BY_FAMILY` answer (`struct inet_diag_msg`, then attributes)
  /// describes, for a socket of `family`; nil when it is too short, of another family or in another state.
  static func connection(inetDiagMessage payload: UnsafeRawBufferPointer, family: UInt8) -> EstablishedConnection? {
    guard payload.count >= MemoryLayout<inet_diag_msg>.size else { return nil }
    var message = inet_diag_msg()
    withUnsafeMutableBytes(of: &message) {
      $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: payload.prefix($0.count)))
    }
    guard message.idiag_family == family, message.idiag_state == UInt8(TCP_ESTABLISHED),
      let local = address(message.id.idiag_src, family: family),
      let remote = address(message.id.idiag_dst, family: family)
    else { return nil }
    return EstablishedConnection(
      local: local, localPort: UInt16(bigEndian: message.id.idiag_sport), remote: remote,
      remotePort: UInt16(bigEndian: message.id.idiag_dport))
  }

  /// The address in the four big-endian words of an `inet_diag_sockid`; a v4-mapped IPv6 address as IPv4.
  private static func address(_ words: (UInt32, UInt32, UInt32, UInt32), family: UInt8) -> IPAddress? {
    let first = UInt32(bigEndian: words.0)
    switch Int32(family) {
    case AF_INET:
      return .v4(IPv4Address(first))
    case AF_INET6:
      let value = [words.1, words.2, words.3].reduce(UInt128(first)) { $0 << 32 | UInt128(UInt32(bigEndian: $1)) }
      if value >> 32 == 0xffff { return .v4(IPv4Address(UInt32(truncatingIfNeeded: value))) }
      return .v6(IPv6Address(value))
    default:
      return nil
    }
  }
}

/// Collects the connections of one listing; reached from the C callback through its `data` pointer.
private final class ConnectionCollector {
  let localPorts: Set<UInt16>
  var family: UInt8 = 0
  var connections: [EstablishedConnection] = []
  var failure: ConntrackError?

  init(localPorts: Set<UInt16>) {
    self.localPorts = localPorts
  }

  func add(_ header: UnsafePointer<nlmsghdr>) {
    guard header.pointee.nlmsg_type == UInt16(SOCK_DIAG_BY_FAMILY), let payload = mnl_nlmsg_get_payload(header) else {
      failure =
        failure ?? ConntrackError("a socket listing of message type \(header.pointee.nlmsg_type)", errno: EPROTO)
      return
    }
    let bytes = UnsafeRawBufferPointer(start: payload, count: mnl_nlmsg_get_payload_len(header))
    guard bytes.count >= MemoryLayout<inet_diag_msg>.size else {
      failure =
        failure
        ?? ConntrackError("a socket listing of \(bytes.count) bytes, shorter than an inet_diag_msg", errno: EPROTO)
      return
    }
    if let connection = SocketDiagnostics.connection(inetDiagMessage: bytes, family: family),
      localPorts.contains(connection.localPort)
    {
      connections.append(connection)
    }
  }
}

private let connectionCallback: mnl_cb_t = { header, data in
  guard let header, let data else { return MNL_CB_ERROR }
  Unmanaged<ConnectionCollector>.fromOpaque(data).takeUnretainedValue().add(header)
  return MNL_CB_OK
}

/// A netlink socket of one protocol in the calling thread's network namespace, for the requests of one call of
/// `SocketDiagnostics` or `RouteLookup`; closed when released.
final class NetlinkRequestSocket {
  private static let bufferSize = 64 * 1024

  private let socket: OpaquePointer
  private let portID: UInt32
  private let name: String
  private let buffer: UnsafeMutableRawPointer
  private var sequence: UInt32

  /// Opens and binds a socket of netlink `protocol` (`NETLINK_ROUTE`, …), called `name` in errors, that waits at
  /// most 30 s for an answer.
  init(protocol: Int32, name: String) throws(ConntrackError) {
    let socket = try ConntrackSession.openSocket(protocol: `protocol`, name: name)
    self.socket = socket
    self.name = name
    portID = mnl_socket_get_portid(socket)
    buffer = UnsafeMutableRawPointer.allocate(byteCount: Self.bufferSize, alignment: 16)
    sequence = UInt32(truncatingIfNeeded: time(nil)) | 1
  }

  deinit {
    mnl_socket_close(socket)
    buffer.deallocate()
  }

  /// Sends the request that `fill` writes after its header (type, flags, payload; at most 512 bytes); returns its
  /// sequence number.
  func send(_ fill: (UnsafeMutablePointer<nlmsghdr>) -> Void) throws(ConntrackError) -> UInt32 {
    sequence = sequence == UInt32.max ? 1 : sequence + 1
    let message = UnsafeMutableRawPointer.allocate(byteCount: 512, alignment: 16)
    defer { message.deallocate() }
    message.initializeMemory(as: UInt8.self, repeating: 0, count: 512)
    let header = mnl_nlmsg_put_header(message)!
    header.pointee.nlmsg_seq = sequence
    fill(header)
    let length = Int(header.pointee.nlmsg_len)
    let sent = mnl_socket_sendto(socket, header, length)
    guard sent == length else {
      throw ConntrackError.system("sending a \(name) request", errno: sent < 0 ? errno : EMSGSIZE)
    }
    return sequence
  }

  /// Reads the answers to request `sequence`, handing each to `callback`, until its end: `NLMSG_DONE`, an ACK, or
  /// a callback that returns `MNL_CB_STOP`. An error the kernel answers throws with its `errno`.
  func receive(sequence: UInt32, callback: mnl_cb_t?, context: UnsafeMutableRawPointer?) throws(ConntrackError) {
    while true {
      let received = mnl_socket_recvfrom(socket, buffer, Self.bufferSize)
      guard received >= 0 else {
        let code = errno
        if code == EAGAIN || code == EWOULDBLOCK {
          throw ConntrackError("the kernel did not answer a \(name) request within 30 s", errno: code)
        }
        throw ConntrackError.system("receiving \(name) answers", errno: code)
      }
      let result = mnl_cb_run(buffer, received, sequence, portID, callback, context)
      if result == MNL_CB_STOP { return }
      if result < 0 { throw ConntrackError.system("\(name) request", errno: errno) }
    }
  }
}
