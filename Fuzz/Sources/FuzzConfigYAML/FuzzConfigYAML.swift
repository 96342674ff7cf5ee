import FuzzSupport

@_cdecl("FuzzConfigYAML_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { runFuzzer(argc, argv, test) }

/// Pullwarden's config file, for the inputs the loader reads as YAML (`fuzzConfig`).
@_cdecl("LLVMFuzzerTestOneInput")
func test(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt { fuzzConfig(data, size, readAsJSON: false) }
