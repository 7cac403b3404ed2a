import Conntrack
import FirewallIR
import FlowSpace
import Foundation
import PolicyLanguage

/// The lock-out guard (OPERATIONS.md): before a ruleset is sent, every established TCP session to the gateway's own
/// management ports must still be admitted by it as a new connection, arriving on the interface the route toward
/// the client leaves by (so anti-spoofing counts). Sessions from addresses the ruleset isolates on purpose are
/// reported, not guarded.
public enum LockOutGuard {
  /// The management port every gateway guards; `--guard-port` adds more.
  public static let defaultPort: UInt16 = 22

  /// One open session and how the new ruleset would treat its client.
  public struct Session: Sendable, Equatable {
    public var connection: EstablishedConnection
    /// The interface a new connection from the client arrives on (the route toward it); nil without a route.
    public var interface: String?
    public var verdict: GatewayAdmission.Verdict
  }

  /// What the guard found.
  public struct Finding: Sendable {
    /// Sessions the new ruleset would not admit again.
    public var lockedOut: [Session] = []
    /// Sessions from addresses the new ruleset isolates: reported, not guarded.
    public var isolated: [Session] = []
    /// Sessions it admits.
    public var admitted: [Session] = []
  }

  /// Judges the established sessions of the calling thread's network namespace on `ports` by `admission`.
  public static func judge(_ admission: GatewayAdmission, ports: Set<UInt16>) throws(ConntrackError) -> Finding {
    var finding = Finding()
    for connection in try SocketDiagnostics.establishedTCPConnections(localPorts: ports) {
      let interface = try RouteLookup.outputInterface(toward: connection.remote)
      let verdict =
        interface.map { admission.verdict(client: connection.remote, interface: $0, port: connection.localPort) }
        ?? .spoofed
      let session = Session(connection: connection, interface: interface, verdict: verdict)
      switch verdict {
      case .loopback, .inputNotFiltered, .admitted:
        finding.admitted.append(session)
      case .spoofed, .notAdmitted:
        if admission.isolated.contains(connection.remote) {
          finding.isolated.append(session)
        } else {
          finding.lockedOut.append(session)
        }
      }
    }
    return finding
  }

  /// The client of `session` in words: `10.0.0.5 port 51022 to 10.0.0.1 port 22 (on eth1)`.
  public static func describe(_ session: Session) -> String {
    let connection = session.connection
    return "\(connection.remote) port \(connection.remotePort) to \(connection.local) port \(connection.localPort)"
      + " (arriving on \(session.interface.map(TerminalText.escaped) ?? "no interface: no route toward it"))"
  }

  /// The refusal of a ruleset that would lock out `count` sessions, one indented line per session.
  static func refusal(count: Int, lines: [String]) -> PipelineStop {
    PipelineStop(
      .refused,
      "the new ruleset would lock out \(count) open management session\(count == 1 ? "" : "s"); nothing was applied "
        + "(--no-guard applies anyway):\n" + lines.joined(separator: "\n"))
  }

  /// Why the new ruleset would not admit `session` again.
  public static func reason(_ session: Session) -> String {
    switch session.verdict {
    case .spoofed:
      session.interface == nil
        ? "no route leads back to it"
        : "anti-spoofing drops it: no zone behind \(TerminalText.escaped(session.interface!)) holds "
          + "\(session.connection.remote)"
    case .notAdmitted: "no management line admits tcp/\(session.connection.localPort) from \(session.connection.remote)"
    default: "it is admitted"
    }
  }
}
