import FuzzDriver
import FuzzEntries

/// libFuzzer's entry: a policy (optionally followed by its baseline) parsed, resolved and checked.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  _ = FuzzEntry.policy.run(fuzzInput(data, size))
  return 0
}

runLibFuzzer(testOneInput)
