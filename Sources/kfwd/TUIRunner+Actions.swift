import ConfigStore
import ControlAPI
import Forwarding
import Foundation
import TerminalUI

extension TUIRunner {
    /// Carries out what the model asked; what came of it goes back as an event.
    func perform(_ action: TUIAction, into sink: AsyncStream<Event>.Continuation) async {
        do {
            switch action {
            case .start(let aliases):
                sink.yield(.finished("started", try await self.client.start(ControlRequest(aliases: aliases))))
            case .stop(let aliases):
                sink.yield(.finished("stopped", try await self.client.stop(ControlRequest(aliases: aliases))))
            case .restart(let aliases):
                sink.yield(.finished("restarted", try await self.client.restart(ControlRequest(aliases: aliases))))
            case .delete(let aliases):
                _ = try await self.client.stop(ControlRequest(aliases: aliases))
                try self.store.remove(aliases: aliases)
                await self.client.storeChanged()
                sink.yield(.said("deleted \(aliases.joined(separator: ", "))", error: false))
            case .add(let alias, let config):
                try self.store.add(config, alias: alias, autoStart: false)
                await self.client.storeChanged()
                sink.yield(.finished("added and started", try await self.client.start(ControlRequest(aliases: [alias]))))
            case .edit(let alias, let config):
                try self.store.save(config, alias: alias)
                await self.client.storeChanged()
                // A running forward restarts with what was saved; a stopped one stays stopped.
                let running = await self.client.status()?.forwards.first { $0.alias == alias }.map { $0.status != "stopped" } ?? false
                if running {
                    sink.yield(.finished("saved and restarted", try await self.client.restart(ControlRequest(aliases: [alias]))))
                } else {
                    sink.yield(.said("saved \(alias)", error: false))
                }
            case .listDirectory(let directory):
                sink.yield(Self.listing(directory))
            case .previewImport(let path):
                sink.yield(.preview(await self.importing(.file(path), dryRun: true)))
            case .discover:
                sink.yield(.preview(await self.discovering()))
            case .applyImport(let source):
                let done = await self.importing(source, dryRun: false)
                await self.client.storeChanged()
                if done.problems.isEmpty {
                    sink.yield(.said("imported \(done.path): \(done.summary)", error: false))
                } else {
                    sink.yield(.said("\(done.path) was not imported: \(done.problems.joined(separator: "; "))", error: true))
                }
            case .export(let path):
                let (data, left) = try self.store.exportKftray()
                try data.write(to: URL(fileURLWithPath: path), options: .atomic)
                let leftOut = left.isEmpty ? "" : " (kftray's format cannot hold \(left.joined(separator: ", ")): left out)"
                sink.yield(.said("exported to \(path)\(leftOut)", error: false))
            case .followLog, .suspend, .quit:
                break
            }
        } catch let error as ConfigStoreError {
            sink.yield(.said(error.problems.joined(separator: "; "), error: true))
        } catch let error as CocoaError {
            sink.yield(.said("\(error.filePath ?? "the file"): \(error.localizedDescription)", error: true))
        } catch {
            sink.yield(.said("\(error)", error: true))
        }
    }

    /// The directory's entries for the file picker.
    private static func listing(_ directory: String) -> Event {
        let manager = FileManager.default
        do {
            let names = try manager.contentsOfDirectory(atPath: directory)
            let entries = names.map { name in
                var isDirectory: ObjCBool = false
                _ = manager.fileExists(atPath: (directory as NSString).appendingPathComponent(name), isDirectory: &isDirectory)
                return FilePicker.Entry(name: name, isDirectory: isDirectory.boolValue)
            }
            return .listed(directory, entries, problem: nil)
        } catch {
            return .listed(directory, nil, problem: "\(directory) cannot be read: \((error as NSError).localizedDescription)")
        }
    }

    /// What the Services of every namespace the user may list propose, in the kubeconfig's
    /// current context, and what saving them would do.
    private func discovering() async -> ImportPreview {
        let context: String, found: ServiceDiscovery.Found
        do throws(ForwardError) {
            (context, found) = try await ServiceDiscovery.discover(KubeconfigSource(), in: .all)
        } catch {
            var preview = ImportPreview(path: "the cluster", kind: "the cluster's proposals")
            preview.problems = [error.message]
            return preview
        }
        var preview = await self.importing(.discovery(found.proposals), dryRun: true)
        preview.path = "context \(context)"
        preview.notes = found.problems
        return preview
    }

    /// Imports a kftray export (`.json`), a project file (`kfwd.yaml`, saved as its group, as
    /// `kfwd start --project` saves it) or the cluster's proposals (merged by alias, as
    /// `kfwd discover --import` saves them), or, with `dryRun`, says what that would do. A
    /// project's forwards that leave the group are stopped first when it is done for real.
    func importing(_ source: ImportPreview.Source, dryRun: Bool) async -> ImportPreview {
        let path: String
        switch source {
        case .file(let file):
            path = file
        case .discovery(let proposals):
            var preview = ImportPreview(path: "the cluster's proposals", kind: "the cluster's proposals", source: source)
            do throws(ConfigStoreError) {
                let summary = try self.store.save(proposals, dryRun: dryRun)
                (preview.added, preview.updated, preview.unchanged) = (summary.added, summary.updated, summary.unchanged)
            } catch {
                preview.problems = error.problems
            }
            return preview
        }
        if path.lowercased().hasSuffix(".json") {
            var preview = ImportPreview(path: path, kind: "kftray export")
            do {
                let summary = try self.store.importKftray(try Data(contentsOf: URL(fileURLWithPath: path)), dryRun: dryRun)
                (preview.added, preview.updated, preview.unchanged) = (summary.added, summary.updated, summary.unchanged)
            } catch let error as ConfigStoreError {
                preview.problems = error.problems
            } catch {
                preview.problems = ["\(path) cannot be read: \((error as NSError).localizedDescription)"]
            }
            return preview
        }
        let file: ProjectFile
        do throws(ProjectFileError) { file = try ProjectFile.load(path) } catch {
            var preview = ImportPreview(path: path, kind: "kfwd project file")
            preview.problems = [error.message]
            return preview
        }
        var preview = ImportPreview(path: path, kind: "project \(file.name)")
        do throws(ConfigStoreError) {
            let forwards = file.forwards.map { ($0.alias, $0.config) }
            if !dryRun {
                let leaving = try self.store.leaving(file.name, for: forwards)
                if !leaving.isEmpty { _ = try? await self.client.stop(ControlRequest(aliases: leaving)) }
            }
            let change = try self.store.replaceGroup(file.name, with: forwards, dryRun: dryRun)
            (preview.added, preview.updated, preview.unchanged, preview.removed) = (change.added, change.changed, change.unchanged, change.removed)
        } catch {
            preview.problems = error.problems
        }
        return preview
    }
}
