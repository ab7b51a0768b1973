/// `sum`, `avg`, `min`, `max`, `count` and `topk` over the series of a vector, per step, in
/// groups chosen by `by (…)` or `without (…)`.
struct Aggregator {
    let op: Aggregation
    let grouping: Grouping
    let steps: Int

    /// The labels of the group `labels` falls in: only the `by` labels, or all but the
    /// `without` labels and the metric name.
    func groupLabels(_ labels: Labels) -> Labels {
        switch grouping {
        case .by(let names): labels.keeping { names.contains($0) }
        case .without(let names): labels.keeping { !names.contains($0) && $0 != Labels.metricName }
        }
    }

    func apply(_ input: [StepSeries], parameter: [Double]) -> [StepSeries] {
        var groups: [Labels: Int] = [:]
        var members: [[Int]] = []
        var keys: [Labels] = []
        for (i, s) in input.enumerated() {
            let key = groupLabels(s.labels)
            if let g = groups[key] {
                members[g].append(i)
            } else {
                groups[key] = members.count
                members.append([i])
                keys.append(key)
            }
        }
        if op == .topk { return topk(input, members, parameter) }
        var out: [StepSeries] = []
        for (g, indices) in members.enumerated() {
            var sum = [Double](repeating: 0, count: steps)
            var count = [Int](repeating: 0, count: steps)
            var extreme = [Double](repeating: .nan, count: steps)
            for i in indices {
                for (step, value) in input[i].values.enumerated() {
                    guard let value else { continue }
                    sum[step] += value
                    count[step] += 1
                    let e = extreme[step]
                    if e.isNaN || (op == .min && value < e) || (op == .max && value > e) { extreme[step] = value }
                }
            }
            var values = [Double?](repeating: nil, count: steps)
            for step in 0 ..< steps where count[step] > 0 {
                switch op {
                case .sum: values[step] = sum[step]
                case .avg: values[step] = sum[step] / Double(count[step])
                case .count: values[step] = Double(count[step])
                case .min, .max: values[step] = extreme[step]
                case .topk: break
                }
            }
            out.append(StepSeries(labels: keys[g], values: values))
        }
        return out
    }

    /// The `k` largest values of each group at each step (NaN counts as the smallest); the
    /// series keep all their labels.
    private func topk(_ input: [StepSeries], _ members: [[Int]], _ k: [Double]) -> [StepSeries] {
        var values = [[Double?]](repeating: [Double?](repeating: nil, count: steps), count: input.count)
        for indices in members {
            for step in 0 ..< steps {
                guard k[step] >= 1 else { continue }
                let limit = k[step] >= Double(Int.max) ? Int.max : Int(k[step])
                var candidates: [(Double, Int)] = []
                for i in indices { if let v = input[i].values[step] { candidates.append((v, i)) } }
                candidates.sort { a, b in a.0.isNaN ? false : b.0.isNaN ? true : a.0 > b.0 }
                for (v, i) in candidates.prefix(limit) { values[i][step] = v }
            }
        }
        return input.indices.compactMap { i in
            values[i].contains { $0 != nil } ? StepSeries(labels: input[i].labels, values: values[i]) : nil
        }
    }
}
