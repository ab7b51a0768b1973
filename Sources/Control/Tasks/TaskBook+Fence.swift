import WAL
public import Wire

extension TaskBook {
    /// Whether a BATCH of `daemonID` with a task producer id may be written (the lease fence).
    ///
    /// Admitted only when the task (by the serial in the producer id) is running, suspending
    /// or terminating, `daemonID` holds its lease, and the low 24 bits of the lease epoch match
    /// the producer id's. Otherwise refused with a sentence saying why, e.g. "task t-12 is at
    /// epoch 5; this batch is from epoch 4" or "daemon d-3 does not hold task t-12". Time is
    /// not looked at: a lapsed lease keeps admitting until the ``tick(now:)`` that reassigns it.
    /// - Complexity: O(1).
    public func fence(daemonID: String, producerID: UInt64) -> TaskFenceVerdict {
        guard let (serial, epoch) = TaskProducerID.parse(producerID) else {
            return .refused("producer id \(producerID) is not a task's")
        }
        let id = TaskRecord.id(serial: serial)
        guard let r = records[serial] else { return .refused("task \(id) does not exist") }
        guard r.state.isHeld, let lease = r.lease else {
            return .refused("task \(id) is \(r.state.rawValue); it has no lease")
        }
        return lease.verdict(task: id, daemonID: daemonID, epoch: epoch)
    }
}

extension TaskLease {
    /// The fence's answer for a batch of `daemonID` whose producer id carries `epoch` (its low
    /// 24 bits), under this lease of task `id`: the epoch first, then the holder.
    func verdict(task id: String, daemonID: String, epoch: UInt64) -> TaskFenceVerdict {
        guard self.epoch & 0xFF_FFFF == epoch else {
            return .refused("task \(id) is at epoch \(self.epoch); this batch is from epoch \(epoch)")
        }
        guard holder == daemonID else { return .refused("daemon \(daemonID) does not hold task \(id)") }
        return .admitted
    }
}
