import ArgumentParser
import ControlAPI
import Forwarding
import Foundation
import KfwdVersion
import RelayProtocol

/// `kfwd version`: kfwd's version, the relay protocol it speaks and the relay image it deploys
/// (a relay speaks the protocol of the kfwd that deploys it), and the toolchain it was built with.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print kfwd's version, its relay protocol and image, and the Swift toolchain."
    )

    @Option(name: .shortAndLong, help: "Output format: text or json.")
    var output: OutputFormat = .text

    struct Report: Codable, Equatable {
        var kfwd: String
        var relayProtocol: Int
        var relayImage: String
        var swift: String

        enum CodingKeys: String, CodingKey {
            case kfwd
            case relayProtocol = "relay_protocol"
            case relayImage = "relay_image"
            case swift
        }

        static let current = Report(
            kfwd: KfwdVersion.current, relayProtocol: Int(RelayHeader.version), relayImage: RelaySettings.defaultImage,
            swift: KfwdVersion.swiftCompiler
        )
    }

    func run() throws {
        let report = Report.current
        switch self.output {
        case .json:
            print(String(decoding: try StatusReport.compactEncoder.encode(report), as: UTF8.self))
        case .text:
            print("kfwd \(report.kfwd)")
            print("relay protocol \(report.relayProtocol), default relay image \(report.relayImage)")
            print("built with \(report.swift)")
        }
    }
}
