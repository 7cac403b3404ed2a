import PolicyLanguage
import PolicyModel

/// `accept-risk`: unknown-check, and marking the warnings a statement acknowledges.
enum AcceptedRisks {
  struct Scope {
    var range: SourceRange?
    var statements: [AcceptRiskStatement]
  }

  static func apply(_ policy: Policy, diagnostics: inout DiagnosticEngine) {
    var scopes: [Scope] = []
    for file in policy.files {
      for declaration in file.declarations {
        switch declaration {
        case .zone(let zone): scopes.append(Scope(range: zone.range, statements: zone.acceptRisks))
        case .asset(let asset): scopes.append(Scope(range: asset.range, statements: asset.acceptRisks))
        case .gateway(let gateway): scopes.append(Scope(range: gateway.range, statements: gateway.acceptRisks))
        case .conduit(let conduit): scopes.append(Scope(range: conduit.range, statements: conduit.acceptRisks))
        case .mitigation(let mitigation):
          scopes.append(Scope(range: mitigation.range, statements: mitigation.acceptRisks))
        default: break
        }
      }
    }
    let ids = CheckID.allCases.map(\.rawValue)
    for statement in (scopes.flatMap(\.statements) + policy.siteAcceptRisks)
    where CheckID(rawValue: statement.checkID.text) == nil {
      var notes: [DiagnosticNote] = []
      if let guess = Spelling.closest(to: statement.checkID.text, in: ids) {
        notes.append(DiagnosticNote("did you mean '\(guess)'?", at: statement.checkID.range))
      }
      diagnostics.error(
        .unknownCheck, "'\(statement.checkID.text)' is not a check id", at: statement.checkID.range, notes: notes)
    }
    let blocks = scopes.sorted { ($0.range!.file.path, $0.range!.start) < ($1.range!.file.path, $1.range!.start) }
    let site = Scope(range: nil, statements: policy.siteAcceptRisks)
    func enclosingBlock(_ range: SourceRange) -> Scope? {
      var low = 0
      var high = blocks.count
      while low < high {
        let mid = (low + high) / 2
        let block = blocks[mid].range!
        if (block.file.path, block.start) <= (range.file.path, range.start) { low = mid + 1 } else { high = mid }
      }
      guard low > 0, blocks[low - 1].range!.contains(range) else { return nil }
      return blocks[low - 1]
    }
    let marked = diagnostics.diagnostics.map { diagnostic -> Diagnostic in
      guard diagnostic.severity == .warning else { return diagnostic }
      let scope = diagnostic.range.flatMap(enclosingBlock) ?? site
      guard let statement = scope.statements.first(where: { $0.checkID.text == diagnostic.id.rawValue }) else {
        return diagnostic
      }
      var accepted = diagnostic
      accepted.acceptedRisk = AcceptedRisk(reason: statement.reason.text, range: statement.range)
      return accepted
    }
    diagnostics.replaceAll(with: marked)
  }
}
