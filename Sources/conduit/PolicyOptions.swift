import ArgumentParser
import Foundation
import PolicyModel

/// Options every command that reads a policy accepts.
struct PolicyOptions: ParsableArguments {
  @Argument(help: "The policy file (.conduit).")
  var policy: String

  @Option(help: "The asset baseline (CSV or JSON); overrides the policy's 'baseline' statement.")
  var baseline: String?

  @Option(help: ArgumentHelp("The day date-dependent checks use, in UTC (default: today).", valueName: "YYYY-MM-DD"))
  var today: String?

  func validate() throws {
    if let today, CalendarDay(today) == nil {
      throw ValidationError("'--today \(today)' is not a date: use YYYY-MM-DD")
    }
  }

  var resolveOptions: ResolveOptions { ResolveOptions(baselinePath: baseline) }

  var day: CalendarDay? { today.flatMap(CalendarDay.init) }
}

extension CalendarDay {
  /// Today in UTC.
  static var currentDay: CalendarDay { CalendarDay.today(secondsSinceEpoch: Date().timeIntervalSince1970) }
}
