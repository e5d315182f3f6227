import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A TCP connection that sends exactly the bytes a test gives it, for what an HTTP client library
/// would never send: half a request, a stalled body, broken framing.
final class RawConnection: @unchecked Sendable {
    private let fd: Int32

    /// What a read saw: the bytes, and how the connection ended if it did.
    struct Received {
        var text: String
        var closed: Bool
        var reset: Bool
        var timedOut: Bool
    }

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else {
            close(fd)
            throw TestFailure("cannot connect to port \(port)")
        }
    }

    deinit { close(fd) }

    /// Sends `text`; the errno when the connection refused it.
    @discardableResult
    func send(_ text: String) -> Int32? {
        send(Array(text.utf8))
    }

    @discardableResult
    func send(_ bytes: [UInt8]) -> Int32? {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 { return errno }
            offset += sent
        }
        return nil
    }

    /// Reads until the connection ends, `marker` has arrived, or `timeout` passes.
    func read(until marker: String? = nil, timeout: Duration) -> Received {
        var received = Received(text: "", closed: false, reset: false, timedOut: false)
        var bytes: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let left = deadline - ContinuousClock.now
            if left <= .zero {
                received.timedOut = true
                break
            }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(
                left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)
            guard poll(&poller, 1, max(1, milliseconds)) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 {
                received.closed = true
                break
            }
            if count < 0 {
                if errno == ECONNRESET { received.reset = true }
                received.closed = true
                break
            }
            bytes.append(contentsOf: buffer[0..<count])
            if let marker, String(decoding: bytes, as: UTF8.self).contains(marker) { break }
        }
        received.text = String(decoding: bytes, as: UTF8.self)
        return received
    }

    /// Closes the sending side only, as a client that has sent everything does.
    func finishSending() {
        shutdown(fd, Int32(SHUT_WR))
    }
}
