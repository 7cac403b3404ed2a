import Foundation

/// A change request: the sample site and the lines it edits (each old line must occur exactly once).
public struct SampleChangeRequest: CustomStringConvertible, Sendable {
  public var name: String
  /// The folder under `Policies/`.
  public var site: String
  public var policy: String
  public var baseline: String
  public var edits: [(old: String, new: String)]

  public var description: String { name }

  /// Copies the sample's policy and baseline into `directory` and writes the changed policy beside them as
  /// `changed-POLICY`; returns the two policies' paths. Throws when an edit's old text does not occur exactly once.
  public func write(into directory: URL, packageRoot: URL) throws -> (old: String, new: String) {
    let site = packageRoot.appendingPathComponent("Policies/\(self.site)")
    for name in [policy, baseline] {
      try FileManager.default.copyItem(
        at: site.appendingPathComponent(name), to: directory.appendingPathComponent(name))
    }
    var text = try String(contentsOf: site.appendingPathComponent(policy), encoding: .utf8)
    for edit in edits {
      guard text.components(separatedBy: edit.old).count == 2 else {
        throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "'\(edit.old)' must occur once"])
      }
      text = text.replacingOccurrences(of: edit.old, with: edit.new)
    }
    let changed = directory.appendingPathComponent("changed-" + policy)
    try text.write(to: changed, atomically: true, encoding: .utf8)
    return (directory.appendingPathComponent(policy).path, changed.path)
  }
}

extension SampleChangeRequest {
  /// A realistic change request on every sample site.
  public static let all = [
    SampleChangeRequest(
      name: "millbrook-pump-engineering", site: "water-treatment", policy: "millbrook.conduit",
      baseline: "millbrook-assets.csv",
      edits: [
        (
          "  allow ews-02 -> plc-pump-* service s7comm log",
          "  allow ews-01, ews-02 -> plc-pump-* service s7comm log"
        ),
        ("  allow idmz-av -> corp-av service https\n", ""),
        ("  allow ot-nms -> zone control service ping", "  allow ot-nms -> zone control service ping, snmp"),
      ]),
    SampleChangeRequest(
      name: "eastmoor-remote-maintenance", site: "substation", policy: "eastmoor.conduit",
      baseline: "eastmoor-assets.csv",
      edits: [
        (
          "  allow cc-nms-01 -> rtac-*, gps-01, sw-st-01, station-hmi service snmp, ping",
          "  allow cc-nms-01 -> rtac-*, gps-01, sw-st-01, station-hmi service snmp"
        ),
        ("  allow rem-jump-01 -> rtac-* service https log", "  allow rem-jump-01 -> rtac-* service https, ssh log"),
      ]),
    SampleChangeRequest(
      name: "cell3-edge-collection", site: "manufacturing-cell", policy: "cell3.conduit",
      baseline: "cell3-assets.json",
      edits: [
        ("  allow edge-c3-01 -> plc-c3-02 service opcua", "  allow edge-c3-01 -> plc-c3-* service opcua"),
        ("  allow hmi-c3-03 -> plc-c3-02 service s7comm\n", ""),
      ]),
  ]
}
