import Hummingbird
import NIOCore

/// Hummingbird's basic context plus the request's connection, whose closing ends a change stream
/// at once, even while the stream has nothing to write.
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
