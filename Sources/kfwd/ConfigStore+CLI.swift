import ArgumentParser
import ConfigStore

extension ConfigStore {
    /// The user's store; a store that cannot be opened is an error naming its file.
    static func forCLI() throws -> ConfigStore {
        do { return try ConfigStore() } catch {
            Terminal.error(error.description)
            throw ExitCode.failure
        }
    }

    /// Runs a store operation; its problems are printed one per line, and the command fails.
    static func reporting<T>(_ body: () throws(ConfigStoreError) -> T) throws -> T {
        do { return try body() } catch {
            throw Self.report(error)
        }
    }

    static func reporting<T>(_ body: () async throws(ConfigStoreError) -> T) async throws -> T {
        do { return try await body() } catch {
            throw Self.report(error)
        }
    }

    private static func report(_ error: ConfigStoreError) -> ExitCode {
        for problem in error.problems { Terminal.error(problem) }
        return ExitCode.failure
    }
}
