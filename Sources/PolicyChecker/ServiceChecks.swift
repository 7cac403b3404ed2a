import PolicyLanguage
import PolicyModel

/// Services: unused-service.
enum ServiceChecks {
  static func run(_ policy: Policy, _ options: CheckOptions, _ diagnostics: inout DiagnosticEngine) {
    let defined = policy.services.values.compactMap(\.declaration).sorted { $0.range.start < $1.range.start }
    for declaration in defined where !policy.usedServices.contains(declaration.name.text) {
      diagnostics.warning(
        .unusedService, "service '\(declaration.name.text)' is used by no rule, management line or other service",
        at: declaration.name.range)
    }
  }
}
