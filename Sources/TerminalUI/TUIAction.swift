import ConfigStore

/// What the terminal UI asks its runner to do; the model does no I/O.
public enum TUIAction: Sendable, Equatable {
    case start([String])
    case stop([String])
    case restart([String])
    /// Stop and remove from the saved forwards.
    case delete([String])
    /// Save a new forward and start it.
    case add(alias: String, config: ForwardConfig)
    /// Save a forward's new settings (a running one restarts with them).
    case edit(alias: String, config: ForwardConfig)
    /// List a directory for the file picker (``ForwardsModel/listed(_:entries:problem:)``).
    case listDirectory(String)
    /// Find what importing the file would do (``ForwardsModel/preview(_:)``).
    case previewImport(String)
    /// Ask the cluster's Services what forwards they propose (``ForwardsModel/preview(_:)``).
    case discover
    case applyImport(ImportPreview.Source)
    /// Write the saved forwards as a kftray export to this path.
    case export(String)
    /// Follow this forward's log (nil: stop following).
    case followLog(String?)
    /// Give the terminal back and stop the process (Ctrl-Z); the runner redraws on `fg`.
    case suspend
    case quit
}
