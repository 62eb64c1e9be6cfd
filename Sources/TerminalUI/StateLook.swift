/// How a forward's state looks: a symbol (so that it reads without colour) and a colour.
enum StateLook {
    static func symbol(_ state: String, ascii: Bool) -> String {
        switch state {
        case "running": ascii ? "+" : "●"
        case "starting", "waiting", "stopping": ascii ? "~" : "◌"
        case "degraded": ascii ? "!" : "◐"
        case "retrying": ascii ? "x" : "✖"
        default: ascii ? "-" : "○"
        }
    }

    static func style(_ state: String) -> TextStyle {
        switch state {
        case "running": TextStyle(color: .green)
        case "starting", "waiting", "stopping": TextStyle(color: .yellow)
        case "degraded": TextStyle(color: .magenta, bold: true)
        case "retrying": TextStyle(color: .red, bold: true)
        default: TextStyle(dim: true)
        }
    }
}
