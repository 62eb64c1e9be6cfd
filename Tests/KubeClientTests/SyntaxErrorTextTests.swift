import Foundation
import KubeClient
import Testing
import Yams

@Suite struct SyntaxErrorTextTests {
    @Test func aJSONSyntaxErrorSaysItsLineAndColumn() throws {
        let data = Data("[{\"alias\": \"a\",\n  \"remote_port\": 80 \"local_port\": 1}]".utf8)
        do {
            _ = try JSONSerialization.jsonObject(with: data)
            Issue.record("the broken JSON parsed")
        } catch {
            #expect(SyntaxErrorText.json(error, in: data) == "line 2, column 21: invalid value")
        }
    }

    @Test func aYAMLSyntaxErrorSaysItsLineAndColumnOnOneLine() throws {
        struct Document: Decodable { let clusters: [String] }
        do {
            _ = try YAMLDecoder().decode(Document.self, from: "clusters:\n  - a\n   b: c\n")
            Issue.record("the broken YAML parsed")
        } catch {
            let text = try #require(SyntaxErrorText.yaml(error))
            #expect(text == "line 3, column 5: mapping values are not allowed in this context", "the colon of `b: c`")
            #expect(!text.contains("\n"))
        }
        #expect(SyntaxErrorText.yaml(CancellationError()) == nil)
    }
}
