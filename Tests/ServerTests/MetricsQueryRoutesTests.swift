import Foundation
import Hummingbird
import HummingbirdTesting
@testable import Server
import Testing

/// The Prometheus API routes on a live loopback server: response shapes, GET and form POST,
/// parameters, errors and limits.
@Suite struct MetricsQueryRoutesTests {
    static let samples = """
        temp,host=a,room=x value=1 1700000000
        temp,host=a,room=x value=2 1700000010
        temp,host=b,room=y value=10 1700000000
        temp,host=b,room=y value=20 1700000010
        """

    func withNode(configure: @escaping (inout ServeConfiguration) -> Void = { _ in }, _ test: @Sendable @escaping (any TestClientProtocol) async throws -> Void) async throws {
        try await TestNode.run(setup: .live, configure: { c, _ in configure(&c) }) { _, client in
            let write = try await client.send(.post, "/write?precision=s", body: Self.samples)
            #expect(write.status == .noContent)
            try await test(client)
        }
    }

    @Test func instantQueryAnswersAVectorInPrometheusShape() async throws {
        try await withNode { client in
            let response = try await client.send(.get, "/api/v1/query?query=sum%20by%20(room)%20(temp)&time=1700000010")
            #expect(response.status == .ok && response.headers[.contentType] == "application/json")
            #expect(
                response.text
                    == #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"room":"x"},"value":[1700000010,"2"]},{"metric":{"room":"y"},"value":[1700000010,"20"]}]}}"#,
                "\(response.text)")
            let scalar = try await client.send(.get, "/api/v1/query?query=1%2B1.5&time=1700000000.5")
            #expect(scalar.text == #"{"status":"success","data":{"resultType":"scalar","result":[1700000000.5,"2.5"]}}"#, "\(scalar.text)")
        }
    }

    @Test func rangeQueryByFormPost() async throws {
        try await withNode { client in
            let response = try await client.send(
                .post, "/api/v1/query_range", body: "query=max+by+(host)+(temp)&start=2023-11-14T22:13:20Z&end=1700000010&step=10s",
                contentType: "application/x-www-form-urlencoded")
            #expect(
                response.text
                    == #"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"host":"a"},"values":[[1700000000,"1"],[1700000010,"2"]]},{"metric":{"host":"b"},"values":[[1700000000,"10"],[1700000010,"20"]]}]}}"#,
                "\(response.text)")
        }
    }

    @Test func seriesAndLabels() async throws {
        try await withNode { client in
            let series = try await client.send(.get, "/api/v1/series?match%5B%5D=temp%7Bhost%3D%22a%22%7D")
            #expect(series.text == #"{"status":"success","data":[{"__name__":"temp","host":"a","room":"x"}]}"#, "\(series.text)")
            let labels = try await client.send(.get, "/api/v1/labels")
            #expect(labels.text == #"{"status":"success","data":["__name__","host","room"]}"#, "\(labels.text)")
            let values = try await client.send(.get, "/api/v1/label/room/values?start=1700000000&end=1700000010")
            #expect(values.text == #"{"status":"success","data":["x","y"]}"#, "\(values.text)")
            let none = try await client.send(.get, "/api/v1/series")
            #expect(none.status == .badRequest && none.text.contains(#""errorType":"bad_data""#), "\(none.text)")
        }
    }

    @Test func errorsInPrometheusFormat() async throws {
        try await withNode { client in
            let unsupported = try await client.send(.get, "/api/v1/query?query=abs(temp)")
            #expect(unsupported.status == .badRequest)
            #expect(
                unsupported.text
                    == #"{"status":"error","errorType":"bad_data","error":"parse error at char 1: the function \"abs\" is not supported (see docs/promql.md for the supported subset)"}"#,
                "\(unsupported.text)")
            let missing = try await client.send(.get, "/api/v1/query_range?query=temp&start=1&end=2")
            #expect(missing.status == .badRequest && missing.text.contains("step"), "\(missing.text)")
            let badTime = try await client.send(.get, "/api/v1/query?query=temp&time=yesterday")
            #expect(badTime.status == .badRequest && badTime.text.contains("cannot parse \\\"yesterday\\\""), "\(badTime.text)")
        }
    }

    @Test func aSampleLimitAnswersExecution() async throws {
        try await withNode(configure: { $0.queries.maxSamples = 2 }) { client in
            let response = try await client.send(.get, "/api/v1/query?query=temp&time=1700000010")
            #expect(response.status == .unprocessableContent && response.text.contains(#""errorType":"execution""#), "\(response.text)")
        }
    }
}
