import Foundation

/// A system call that failed, with the reason the system gives.
public struct SystemCallError: Error, CustomStringConvertible, Sendable {
  /// The `errno` value.
  public var code: Int32

  /// The error of the last failed system call.
  public static var last: SystemCallError { SystemCallError(code: errno) }

  /// The system's reason, lowercase as in conduit's own messages ("no space left on device").
  public var description: String {
    let reason = String(cString: strerror(code))
    return reason.prefix(1).lowercased() + reason.dropFirst()
  }
}

/// Writes every byte of `bytes` to `descriptor`, retrying after a signal and after a partial write, and waiting
/// when the descriptor is non-blocking and full (a pipe its reader set O_NONBLOCK on).
public func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32) throws(SystemCallError) {
  guard let base = bytes.baseAddress else { return }
  var offset = 0
  while offset < bytes.count {
    let written = Glibc.write(descriptor, base + offset, bytes.count - offset)
    if written < 0 {
      switch errno {
      case EINTR: continue
      case EAGAIN, EWOULDBLOCK:
        var waiting = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        if poll(&waiting, 1, -1) < 0, errno != EINTR { throw .last }
        continue
      default: throw .last
      }
    }
    offset += written
  }
}

/// Writes every byte of `bytes` to `descriptor`, retrying after a signal and after a partial write.
public func writeAll(_ bytes: [UInt8], to descriptor: Int32) throws(SystemCallError) {
  let failure: SystemCallError? = bytes.withUnsafeBytes { raw in
    do throws(SystemCallError) {
      try writeAll(raw, to: descriptor)
      return nil
    } catch {
      return error
    }
  }
  if let failure { throw failure }
}
