import ArgumentParser
import ConduitKit
import PolicyModel

/// `--today`: the day date-dependent checks (conduit expiry) use, for reproducible runs.
struct DayOption: ParsableArguments {
  @Option(help: ArgumentHelp("The day date-dependent checks use, in UTC (default: today).", valueName: "YYYY-MM-DD"))
  var today: String?

  func validate() throws {
    if let today, CalendarDay(today) == nil {
      throw ValidationError("'--today \(today)' is not a date: use YYYY-MM-DD")
    }
  }

  /// The given day, or today in UTC.
  var day: CalendarDay { today.flatMap(CalendarDay.init) ?? .currentDay }
}

/// Options every command that reads a policy accepts.
struct PolicyOptions: ParsableArguments {
  @Argument(help: "The policy file (.conduit).")
  var policy: String

  @Option(help: "The asset baseline (CSV or JSON); overrides the policy's 'baseline' statement.")
  var baseline: String?

  @OptionGroup var date: DayOption

  /// The request the pipeline is given.
  var request: PolicyRequest { PolicyRequest(policyPath: policy, baselinePath: baseline, today: date.day) }
}
