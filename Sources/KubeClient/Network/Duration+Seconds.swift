extension Duration {
    /// The duration in seconds, as the JSON surfaces and messages give it.
    public var inSeconds: Double {
        Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18
    }
}
