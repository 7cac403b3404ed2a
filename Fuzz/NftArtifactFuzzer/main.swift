import FuzzDriver
import FuzzEntries

/// libFuzzer's entry: an nft artifact decoded and verified.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  _ = FuzzEntry.nftArtifact.run(fuzzInput(data, size))
  return 0
}

runLibFuzzer(testOneInput)
