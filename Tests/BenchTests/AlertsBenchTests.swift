import Foundation
import Testing

@Suite struct AlertsBenchTests {
    @Test func benchAlertsTimesEvaluationRounds() throws {
        let exe = (try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") as NSString).deletingLastPathComponent + "/hypha"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: exe)
        process.arguments = ["bench", "alerts", "--series", "2000", "--rules", "20", "--rounds", "2"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(text.contains("20 rules") && text.contains("median") && text.contains(" ms"), "\(text)")
        let series = text.split(separator: "\n").first { $0.contains("active series") }.flatMap { line in
            line.split(separator: " ").compactMap { Int($0) }.first
        }
        #expect((series ?? 0) >= 2000, "the windows hold every generated series: \(text)")
    }
}
