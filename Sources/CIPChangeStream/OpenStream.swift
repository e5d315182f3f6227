import CIPDomain
import CIPOperations
import CIPStore
import NIOCore

/// One client's stream, registered with its node's `ChangeStreams` (SPEC 8): a snapshot or a replay
/// from `Last-Event-ID`, then every later change the organization may see, in sequence order, each
/// once. `position` is the last sequence number accounted for: anything at or below it is not sent
/// again, whether it comes from the snapshot, the log, the node's recent changes or the live queue.
public final class OpenStream: Sendable {
    private let streams: ChangeStreams
    private let subscription: StreamSubscription
    private let scope: CallScope
    private let lastEventID: Int64?

    init(streams: ChangeStreams, subscription: StreamSubscription, scope: CallScope, lastEventID: Int64?) {
        self.streams = streams
        self.subscription = subscription
        self.scope = scope
        self.lastEventID = lastEventID
    }

    deinit {
        // Also when the response never started: the stream's place under its token's cap is freed.
        streams.unsubscribe(subscription)
    }

    /// Sends the stream until the client leaves (the sink throws, and so does this) or the stream is
    /// ended: cleanly for shutdown and revocation; for overflow after an `overflow` event, by throwing,
    /// which closes the connection.
    public func run(_ sink: some StreamSink) async throws {
        defer { streams.unsubscribe(subscription) }
        let ended = try await withThrowingTaskGroup(of: StreamEnd?.self) { group in
            group.addTask {
                try await self.deliver(to: sink)
                return nil
            }
            group.addTask {
                for await reason in self.subscription.ending { return reason }
                return nil
            }
            group.addTask {
                await sink.closed()
                throw CancellationError()
            }
            // The first to finish decides: the client left, or the stream must end. A write blocked
            // on a client that stopped reading is cancelled here.
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard case .overflow(let reason) = ended else { return }
        streams.metrics.recordStreamOverflow()
        // Best effort: a client that reads nothing never takes it, and must not hold the stream.
        _ = try? await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await sink.send(StreamFrames.overflow(reason)) }
            group.addTask { try await Task.sleep(for: .seconds(1)) }
            try await group.next()
            group.cancelAll()
        }
        throw StreamOverflow()
    }

    private func deliver(to sink: some StreamSink) async throws {
        var writer = FrameWriter(sink: sink, subscription: subscription, metrics: streams.metrics)
        try await writer.send(StreamFrames.retry)
        var position: Int64 = 0
        var needsSnapshot = true
        if let lastEventID {
            let bounds = try await streams.store.changeLogBounds()
            if lastEventID < bounds.purgedThrough || lastEventID > bounds.latest {
                try await writer.send(StreamFrames.reset("last_event_id is not in the change log"))
            } else {
                position = lastEventID
                needsSnapshot = false
            }
        }
        var doorbell = subscription.doorbell.makeAsyncIterator()
        while !Task.isCancelled {
            if needsSnapshot {
                let snapshot = try await streams.store.snapshot(scope)
                try await writer.send(StreamFrames.snapshot(snapshot))
                position = snapshot.sequence
            }
            needsSnapshot = true
            guard try await catchUp(from: &position, writer: &writer) else { continue }
            while let _ = await doorbell.next() {
                let (events, keepAlive) = subscription.take()
                guard try await writer.send(events, after: &position, to: scope.organization.ref, live: true) else {
                    break
                }
                if keepAlive && events.isEmpty { try await writer.send(StreamFrames.keepAlive) }
            }
            if Task.isCancelled { return }
            // Left the live loop: a call moved into or out of the organization; start over.
        }
    }

    /// Sends what this node has read beyond `position` before the stream registered, from memory when
    /// it still holds it, else from the log. False when the stream must start over with a snapshot.
    private func catchUp(from position: inout Int64, writer: inout FrameWriter<some StreamSink>) async throws -> Bool {
        let organization = scope.organization.ref
        while true {
            let (head, recent) = streams.recent(after: position)
            guard position < head else { return true }
            if let recent {
                guard try await writer.send(recent, after: &position, to: organization, live: false) else {
                    return false
                }
                position = max(position, head)
                return true
            }
            let page = try await streams.store.changes(after: position, visibleTo: organization, limit: 500)
            // Retention may have purged changes after `position` meanwhile: the page would skip them.
            if try await streams.store.changeLogBounds().purgedThrough > position {
                try await writer.send(StreamFrames.reset("last_event_id is not in the change log"))
                return false
            }
            guard !page.isEmpty else {
                // Nothing the organization may see up to the log's end; the live queue has the rest.
                position = max(position, head)
                return true
            }
            guard try await writer.send(page.map { StreamEvent($0) }, after: &position, to: organization, live: false)
            else {
                return false
            }
        }
    }
}

/// The stream was ended for overflow: thrown so that the connection closes.
struct StreamOverflow: Error {}

/// Writes a stream's frames, a batch of changes as one write.
private struct FrameWriter<Sink: StreamSink> {
    let sink: Sink
    let subscription: StreamSubscription
    let metrics: ServiceMetrics

    /// Bytes written to the client at once, at most about: the sink suspends between writes while the
    /// client is not reading.
    static var largestWrite: Int { 64 * 1024 }

    mutating func send(_ frame: ByteBuffer) async throws {
        try await sink.send(frame)
        subscription.didSend()
    }

    /// Sends the changes after `position` the organization may see, advancing `position`. False (and
    /// a `reset` sent) when one of them moved a call into or out of the organization. Only `live` changes
    /// count towards the delivery latency: a replay's are as old as the client's last event id.
    mutating func send(
        _ events: [StreamEvent], after position: inout Int64, to organization: OrganizationRef, live: Bool
    ) async throws -> Bool {
        var batch = ByteBuffer()
        var sent = 0
        var oldest: Timestamp?
        var startsOver = false
        for event in events where event.sequence > position {
            switch event.visibility(to: organization) {
            case .sent:
                batch.writeBytes(event.frame)
                sent += 1
                oldest = oldest ?? event.committedAt
                // A client that reads slowly holds one piece of a long batch in the server, not all of it.
                if batch.readableBytes >= Self.largestWrite {
                    try await send(batch)
                    batch.clear()
                }
            case .startsOver:
                batch.writeImmutableBuffer(StreamFrames.reset("a call moved between advertisers"))
                startsOver = true
            case .hidden:
                break
            }
            position = event.sequence
            if startsOver { break }
        }
        if batch.readableBytes > 0 { try await send(batch) }
        if sent > 0, let oldest { metrics.recordStreamEvents(sent, oldestCommittedAt: live ? oldest : nil) }
        return !startsOver
    }
}
