import CNetlink
import Glibc

/// Opens a netlink socket inside another network namespace on a thread of its own, which exits afterwards, so that
/// no thread of the caller ever changes namespace.
enum NamespaceThread {

  /// Opens the ctnetlink socket in the network namespace at `path`.
  static func openSocket(inNetworkNamespace path: String) throws -> OpaquePointer {
    let task = Task(path: path)
    let context = Unmanaged.passRetained(task).toOpaque()
    var thread = pthread_t()
    let created = pthread_create(
      &thread, nil,
      { context in
        guard let context else { return nil }
        Unmanaged<Task>.fromOpaque(context).takeRetainedValue().run()
        return nil
      }, context)
    guard created == 0 else {
      Unmanaged<Task>.fromOpaque(context).release()
      throw ConntrackError.system("starting a thread to enter \(path)", errno: created)
    }
    pthread_join(thread, nil)
    guard let result = task.result else { throw ConntrackError("the thread entering \(path) did not run", errno: 0) }
    return try result.get()
  }

  private final class Task {
    let path: String
    var result: Result<OpaquePointer, ConntrackError>?

    init(path: String) {
      self.path = path
    }

    func run() {
      result = Result { try enterAndOpen() }.mapError { $0 as? ConntrackError ?? ConntrackError("\($0)", errno: 0) }
    }

    private func enterAndOpen() throws -> OpaquePointer {
      let descriptor = open(path, O_RDONLY | O_CLOEXEC)
      guard descriptor >= 0 else { throw ConntrackError.system("opening \(path)", errno: errno) }
      defer { close(descriptor) }
      guard conduit_enter_network_namespace(descriptor) == 0 else {
        throw ConntrackError.system("entering the network namespace \(path)", errno: errno)
      }
      return try ConntrackSession.openSocket()
    }
  }
}
