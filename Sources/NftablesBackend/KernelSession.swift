import CNetlink
import Foundation

/// Why applying a batch failed.
public enum KernelSessionError: Error, CustomStringConvertible, Sendable {
  /// A system call failed (no permission, no such namespace, …).
  case system(String, errno: Int32)
  /// The kernel rejected a message; the transaction was aborted and nothing changed.
  case rejected(sequence: UInt32, errno: Int32, origin: String?)
  /// The kernel did not answer every message.
  case incomplete(answered: Int, expected: Int)
  /// The batch is not one conduit sends; nothing was sent.
  case malformed(String)

  public var description: String {
    switch self {
    case .system(let what, let code): "\(what): \(String(cString: strerror(code)))"
    case .rejected(let sequence, let code, let origin):
      "the kernel rejected message \(sequence) (\(String(cString: strerror(code))))"
        + (origin.map { ", which comes from \($0)" } ?? "") + "; nothing was changed"
    case .incomplete(let answered, let expected):
      "the kernel answered \(answered) of \(expected) messages; the outcome is unknown"
    case .malformed(let problem): "the batch is malformed (\(problem)); nothing was sent"
    }
  }

  /// Whether the failure is a missing permission.
  public var isPermissionDenied: Bool {
    if case .system(_, let code) = self { return code == EPERM || code == EACCES }
    if case .rejected(_, let code, _) = self { return code == EPERM }
    return false
  }
}

/// A NETLINK_NETFILTER socket in the current network namespace, sending one batch as one transaction.
public final class KernelSession {
  private let socket: OpaquePointer

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
    guard !name.isEmpty, name != ".", name != "..", !name.contains("/"), !name.utf8.contains(0) else {
      throw .system("'\(name)' is not a network namespace name (/run/netns/NAME)", errno: EINVAL)
    }
    let path = "/run/netns/\(name)"
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw .system("no network namespace '\(name)' (\(path))", errno: errno) }
    defer { close(descriptor) }
    guard conduit_enter_network_namespace(descriptor) == 0 else {
      throw .system("cannot enter network namespace '\(name)'", errno: errno)
    }
  }

  /// Sends the batch in one `sendmsg` and reads the answer to every message that asks for one, as the batch's own
  /// bytes say (never a count from elsewhere). Throws when the kernel rejects any message, in which case it aborted
  /// the whole transaction, and when a message stays unanswered.
  public func send(_ batch: NftablesBatch) throws(KernelSessionError) {
    let layout: NetlinkBatchLayout
    do { layout = try NetlinkBatchLayout(validating: batch.bytes) } catch { throw .malformed(error.description) }
    let descriptor = mnl_socket_get_fd(socket)
    var size = Int32(min(batch.bytes.count * 2 + (1 << 20), Int(Int32.max)))
    _ = setsockopt(descriptor, SOL_SOCKET, SO_SNDBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size))
    var receive = Int32(1 << 22)
    _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVBUFFORCE, &receive, socklen_t(MemoryLayout<Int32>.size))
    let sent = batch.bytes.withUnsafeBytes { raw in mnl_socket_sendto(socket, raw.baseAddress, raw.count) }
    guard sent == batch.bytes.count else { throw .system("cannot send the batch", errno: errno) }

    var unanswered = Set(layout.acknowledgedSequences)
    let expected = unanswered.count
    var firstError: (UInt32, Int32)?
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while !unanswered.isEmpty {
      var poll = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
      let ready = Glibc.poll(&poll, 1, firstError == nil ? 5000 : 200)
      guard ready > 0 else { break }
      let count = buffer.withUnsafeMutableBytes { raw in mnl_socket_recvfrom(socket, raw.baseAddress, raw.count) }
      guard count > 0 else { throw .system("cannot read the kernel's answer", errno: errno) }
      for answer in Self.errorMessages(in: buffer[0..<count]) {
        unanswered.remove(answer.sequence)
        if answer.code != 0, firstError == nil { firstError = (answer.sequence, answer.code) }
      }
    }
    if let (sequence, code) = firstError {
      throw .rejected(sequence: sequence, errno: code, origin: batch.origins[sequence])
    }
    guard unanswered.isEmpty else {
      throw .incomplete(answered: expected - unanswered.count, expected: expected)
    }
  }

  /// The NLMSG_ERROR answers (acknowledgements have code 0) in a received buffer.
  static func errorMessages(in bytes: ArraySlice<UInt8>) -> [(sequence: UInt32, code: Int32)] {
    var answers: [(UInt32, Int32)] = []
    var offset = bytes.startIndex
    func u32(_ at: Int) -> UInt32 {
      UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
    }
    while offset + 16 <= bytes.endIndex {
      let length = Int(u32(offset))
      guard length >= 16, offset + length <= bytes.endIndex else { break }
      let type = UInt16(bytes[offset + 4]) | UInt16(bytes[offset + 5]) << 8
      let sequence = u32(offset + 8)
      if type == UInt16(NLMSG_ERROR), length >= 20 {
        answers.append((sequence, -Int32(bitPattern: u32(offset + 16))))
      }
      offset += (length + 3) & ~3
    }
    return answers
  }
}
