import PolicyChecker
import PolicyLanguage
import Testing

let acceptRiskCases: [CheckCase] = [
  CheckCase(
    "accept-risk in a block acknowledges that block's warnings only",
    policy: twoZones + """
      zone idmz { level 3.5; security-level 2; network 10.20.0.0/24 }
      conduit 1️⃣accepted {
        between operations and control
        accept-risk missing-owner "owner to be appointed (CHG-1010)"
        allow hmi-1 -> plc-1 service modbus
      }
      conduit 2️⃣other {
        between operations and idmz
      }
      """,
    checks: [.missingOwner],
    expect: [.warning(.missingOwner, at: "1️⃣", accepted: true), .warning(.missingOwner, at: "2️⃣")]),
  CheckCase(
    "accept-risk at top level acknowledges site-wide warnings, not a block's",
    policy: "baseline \"assets.csv\"\n" + twoZones + """
      accept-risk unzoned-asset "the lab network is not modelled yet"
      accept-risk missing-owner "not for blocks"
      conduit 1️⃣oc {
        between operations and control
        allow hmi-1 -> plc-1 service modbus
      }
      """,
    baseline: CaseFile("assets.csv", "name,ip\n2️⃣lab-pc,192.168.7.7\n"),
    checks: [.missingOwner, .unzonedAsset],
    expect: [.warning(.missingOwner, at: "1️⃣"), .warning(.unzonedAsset, at: "2️⃣", accepted: true)]),
  CheckCase(
    "accept-risk silences sl-step-up and all-ports warnings in its conduit",
    policy: """
      zone office { level 3; security-level 1; network 10.30.0.0/24 }
      zone cell { level 2; security-level 3; network 10.40.0.0/24 }
      zone dmz { level 3.5; security-level 2; network 10.20.0.0/24 }
      asset ws-1 { address 10.30.0.5 }
      asset plc-1 { address 10.40.0.10 }
      asset mirror-1 { address 10.20.0.5 }
      conduit office-cell {
        between office and cell
        accept-risk sl-step-up "read-only reporting pull, reviewed in CHG-77"
        1️⃣allow ws-1 -> plc-1 service modbus
      }
      conduit office-dmz {
        between office and dmz
        accept-risk all-ports "vendor tool needs dynamic ports"
        allow ws-1 -> mirror-1 service 2️⃣udp
      }
      """,
    checks: [.slStepUp, .allPorts],
    expect: [.warning(.slStepUp, at: "1️⃣", accepted: true), .warning(.allPorts, at: "2️⃣", accepted: true)]),
  CheckCase(
    "accept-risk never acknowledges an error",
    policy: twoZones + """
      zone enterprise { level 4; security-level 1; network 10.1.0.0/16 }
      conduit ec {
        1️⃣between enterprise and control
        accept-risk purdue-skip "no"
        accept-risk all-ports "no"
        allow 10.1.0.5 -> plc-1 service 2️⃣tcp
      }
      """,
    checks: [.purdueSkip, .allPorts],
    expect: [.error(.purdueSkip, at: "1️⃣"), .error(.allPorts, at: "2️⃣")]),
]

@Suite("accept-risk")
struct AcceptRiskTests {
  @Test(arguments: acceptRiskCases)
  func findings(_ testCase: CheckCase) throws {
    try verify(testCase)
  }

  @Test("an acknowledged warning keeps its reason and does not count in hasWarnings")
  func acknowledgedWarningDoesNotCount() throws {
    let unowned = cleanPolicy.replacingOccurrences(
      of: "  owner \"it-operations\"\n", with: "  accept-risk missing-owner \"owner to be appointed (CHG-1010)\"\n")
    #expect(unowned != cleanPolicy)
    let checked = try checkFiles([CaseFile("policy.conduit", unowned), CaseFile("assets.csv", cleanBaseline)])
    let finding = try #require(checked.diagnostics.only, "findings:\n\(describe(checked.diagnostics))")
    #expect(finding.id == .missingOwner)
    #expect(finding.severity == .warning)
    #expect(finding.acceptedRisk?.reason == "owner to be appointed (CHG-1010)")
    #expect(finding.acceptedRisk?.range.text.hasPrefix("accept-risk missing-owner") == true)
    #expect(!checked.hasWarnings)
    #expect(!checked.hasErrors)
  }

  @Test("the same warning without accept-risk counts in hasWarnings")
  func unacknowledgedWarningCounts() throws {
    let unowned = cleanPolicy.replacingOccurrences(of: "  owner \"it-operations\"\n", with: "")
    let checked = try checkFiles([CaseFile("policy.conduit", unowned), CaseFile("assets.csv", cleanBaseline)])
    #expect(checked.diagnostics.map(\.id) == [.missingOwner])
    #expect(checked.diagnostics.allSatisfy { $0.acceptedRisk == nil })
    #expect(checked.hasWarnings)
  }
}

extension Collection {
  /// The single element, or nil when there are none or several.
  var only: Element? { count == 1 ? first : nil }
}
