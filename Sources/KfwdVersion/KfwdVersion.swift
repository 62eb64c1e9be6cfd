/// kfwd's version, the one place it is written: the CLI, the relay, the default relay image and
/// the release scripts (`scripts/version`) all read it from here. The relay protocol's
/// version is `RelayHeader.version`.
public enum KfwdVersion {
    /// kfwd's release version. The relay image of the same version is the one kfwd deploys.
    public static let current = "0.2.0"

    /// The Swift compiler this build was made with, as far as `#if compiler` can tell.
    public static var swiftCompiler: String {
        #if compiler(>=6.5)
        "Swift 6.5 or later"
        #elseif compiler(>=6.4)
        "Swift 6.4"
        #elseif compiler(>=6.3)
        "Swift 6.3"
        #elseif compiler(>=6.2)
        "Swift 6.2"
        #else
        "Swift 6.1 or earlier"
        #endif
    }
}
