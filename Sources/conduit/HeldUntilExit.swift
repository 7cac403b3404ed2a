import Synchronization

/// Values the command no longer needs, kept until the process exits instead of being freed one by one.
///
/// A resolved 100,000-rule policy is millions of small objects; releasing them takes about a tenth of a second just
/// before the process ends and the kernel reclaims its memory anyway (compilers skip the same work the same way).
enum HeldUntilExit {
  private static let values = Mutex<[any Sendable]>([])

  /// Keeps `value` alive until the process exits.
  static func hold(_ value: sending any Sendable) {
    values.withLock { $0.append(value) }
  }
}
