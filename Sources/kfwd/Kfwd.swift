import ArgumentParser
import KfwdVersion

@main
struct Kfwd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kfwd",
        abstract: "Kubernetes port forwarding that does not fall over.",
        version: "kfwd \(KfwdVersion.current)",
        subcommands: [
            ForwardCommand.self, UpCommand.self, AddCommand.self, ListCommand.self, RemoveCommand.self, ImportCommand.self, ExportCommand.self,
            StartCommand.self, StopCommand.self, RestartCommand.self, StatusCommand.self, LogsCommand.self, DashboardCommand.self, DaemonCommand.self, DemoCommand.self,
            SettingsCommand.self, VersionCommand.self, RelayCommand.self, DoctorCommand.self, EnvCommand.self, HostsCommand.self, DiscoverCommand.self, InitCommand.self, SyncCommand.self, TUICommand.self,
        ]
    )
}
