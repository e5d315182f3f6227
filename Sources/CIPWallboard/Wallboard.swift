/// One file of the wallboard page (SPEC 10), compiled into the binary so that the page needs no
/// file beside the executable and no network beyond the server it came from.
public struct WallboardFile: Sendable {
    public let path: String
    public let contentType: String
    public let bytes: [UInt8]
}

public enum Wallboard {
    /// The page and what it loads, by the path each is served at.
    public static let files: [WallboardFile] = [
        WallboardFile(path: "/", contentType: "text/html; charset=utf-8", bytes: PackageResources.index_html),
        WallboardFile(
            path: "/wallboard.css", contentType: "text/css; charset=utf-8", bytes: PackageResources.wallboard_css),
        WallboardFile(
            path: "/wallboard.js", contentType: "text/javascript; charset=utf-8",
            bytes: PackageResources.wallboard_js),
        WallboardFile(path: "/favicon.svg", contentType: "image/svg+xml", bytes: PackageResources.favicon_svg),
    ]

    /// Only the page's own origin, for everything: no inline script or style (the page has none), no
    /// framing, no plugin, no form posted elsewhere, no `<base>` rewriting where scripts load from.
    public static let contentSecurityPolicy =
        "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}
