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
    /// Follow this forward's log (nil: stop following).
    case followLog(String?)
    /// Give the terminal back and stop the process (Ctrl-Z); the runner redraws on `fg`.
    case suspend
    case quit
}
