import Dispatch
import Foundation

/// CPU work of one large request (a feed batch) spread over the machine's cores, so that a sender
/// who waits for each answer before the next batch is not served by one core while the others idle.
/// Small inputs run on the calling thread: handing work to another thread costs microseconds.
public enum ParallelWork {
    /// How many threads a batch is split across.
    public static let threadCount = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))

    /// `transform` of every element, in order, computed in slices on up to `threadCount` threads once
    /// there are at least `minimumCount` elements. `transform` must be safe to call concurrently.
    public static func map<Element: Sendable, Result: Sendable>(
        _ elements: [Element], minimumCount: Int = 256, _ transform: @Sendable (Element) -> Result
    ) -> [Result] {
        let count = elements.count
        let slices = min(threadCount, count / max(1, minimumCount / 2))
        guard count >= minimumCount, slices > 1 else { return elements.map(transform) }
        return [Result](unsafeUninitializedCapacity: count) { buffer, initialized in
            let results = SlicedOutput(base: buffer.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: slices) { slice in
                let start = count * slice / slices
                let end = count * (slice + 1) / slices
                for index in start..<end { (results.base + index).initialize(to: transform(elements[index])) }
            }
            initialized = count
        }
    }

    /// Runs `aside` on another thread while `main` runs on this one (which must not be one of Swift
    /// concurrency's threads: it blocks until `aside` is done); returns both results.
    public static func alongside<Aside: Sendable, Main>(
        _ aside: @escaping @Sendable () -> Aside, _ main: () throws -> Main
    ) rethrows -> (Aside, Main) {
        let done = DispatchSemaphore(value: 0)
        let result = ResultBox<Aside>()
        DispatchQueue.global(qos: .userInitiated).async {
            result.value = aside()
            done.signal()
        }
        let mainResult: Main
        do {
            mainResult = try main()
        } catch {
            // `aside` may still be reading what the caller owns.
            done.wait()
            throw error
        }
        done.wait()
        return (result.value!, mainResult)
    }

    /// The output array's memory: each thread initializes its own slice of it, and no other.
    private struct SlicedOutput<Value>: @unchecked Sendable {
        let base: UnsafeMutablePointer<Value>
    }

    /// Written by one thread before the semaphore is signalled, read by another after waiting on it.
    private final class ResultBox<Value>: @unchecked Sendable {
        var value: Value?
    }
}
