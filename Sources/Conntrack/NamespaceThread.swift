import CNetlink
import FlowSpace
import Glibc

/// Opens a netlink socket inside another network namespace on a thread of its own, which exits afterwards, so that
/// no thread of the caller ever changes namespace.
enum NamespaceThread {
  /// Opens the ctnetlink socket in the network namespace at `path`.
  static func openSocket(inNetworkNamespace path: String) throws -> OpaquePointer {
    try onThreadOfItsOwn {
      Result { () throws(ConntrackError) in OpenedSocket(pointer: try enterAndOpen(path)) }
    }.get().pointer
  }

  /// A socket opened on the namespace's thread, handed to the caller when that thread has exited.
  private struct OpenedSocket: @unchecked Sendable {
    let pointer: OpaquePointer
  }

  private static func enterAndOpen(_ path: String) throws(ConntrackError) -> OpaquePointer {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw ConntrackError.system("opening \(path)", errno: errno) }
    defer { close(descriptor) }
    guard conduit_enter_network_namespace(descriptor) == 0 else {
      throw ConntrackError.system("entering the network namespace \(path)", errno: errno)
    }
    return try ConntrackSession.openSocket()
  }
}
