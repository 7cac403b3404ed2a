import PolicyLanguage

extension Sequence<Diagnostic> {
  /// Whether a file the policy names (an include or its baseline) could not be read: the run could not do its job,
  /// exit status 2 as for the policy file itself.
  var hasUnreadableFile: Bool { contains { $0.id == .missingFile && $0.severity == .error } }
}
