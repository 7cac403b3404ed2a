import FlowSpace
import Foundation

@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
  _ argc: UnsafeMutablePointer<CInt>,
  _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
  _ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// Hands the process to libFuzzer's driver with the command line's options and `testOneInput` (the target's
/// `LLVMFuzzerTestOneInput`), and exits with its status. Every input runs on the calling thread alone
/// (`ThreadLimit.set(1)`): the coverage libFuzzer sees is then the input's, and an input has freed all it allocated
/// when it returns, so libFuzzer's leak check (a scan of the heap) runs only when something did leak.
///
/// A fuzz target's `main` must call this: SwiftPM renames an executable's `main` so that tests can link it, and
/// libFuzzer's own `main` is then never linked.
public func runLibFuzzer(_ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
  ThreadLimit.set(1)
  var argc = CommandLine.argc
  var argv = CommandLine.unsafeArgv
  exit(runFuzzerDriver(&argc, &argv, testOneInput))
}

/// The bytes libFuzzer passes to `LLVMFuzzerTestOneInput`.
public func fuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
  data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
}
